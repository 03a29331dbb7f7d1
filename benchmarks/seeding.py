"""Fast seeding of many submissions for the benchmarks (bulk_create, not the action layer: the point is to
measure reading, evaluating and writing, not 50,000 audited saves).

`bench_database()` points Django at a throw-away database before setup: with DATABASE_URL set (PostgreSQL)
a database named after it — the URL's own database when its name contains "bench" (e.g. …/arch_bench), else
`<name>_bench`, or $BENCH_DB_NAME — dropped and created anew; never a fixed name that another run on a shared
server might drop. Without DATABASE_URL a SQLite file in a temp dir. `analyze()` refreshes the planner's
statistics after bulk loads (autovacuum may be off: without statistics a member query took 8.5 ms, not 0.27).
"""

from __future__ import annotations

import os
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FORM_LEVELS = {"t1": "province", "t2": "city", "t3": "urban_alliance", "t4": "county_alliance"}


def bench_db_name(url: str, suffix: str = "bench") -> str:
    """The benchmark database's name, taken from the environment (never a fixed name)."""
    if os.environ.get("BENCH_DB_NAME"):
        return os.environ["BENCH_DB_NAME"]
    name = url.rpartition("/")[2].split("?")[0] or "fjzl"
    return name if "bench" in name else f"{name}_{suffix}"


def statements_of(fn) -> list[str]:
    """The SQL statements one call of `fn` sends (transaction control left out); printed with BENCH_SHOW_SQL=1."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    sql = [q["sql"] for q in ctx.captured_queries
           if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))]
    if os.environ.get("BENCH_SHOW_SQL"):
        print(*(q[:160] for q in sql), sep="\n")
    return sql


def timed(fn, n: int) -> dict:
    """Call fn(i) for i = 1..n after a warm-up call fn(0): CPU and wall ms per call (process time, so the database
    server's work is not counted) and the SQL statements of one more call."""
    fn(0)  # warm: templates, compiled catalog, per-process caches
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(1, n + 1):
        fn(i)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"cpu_ms": cpu * 1000 / n, "wall_ms": wall * 1000 / n, "queries": len(statements_of(lambda: fn(n + 1)))}


def analyze() -> None:
    """ANALYZE after a bulk load, so the planner has statistics (PostgreSQL; a no-op elsewhere)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def bench_database(name: str | None = None) -> str:
    """Set DATABASE_URL to a fresh benchmark database, run migrations; returns a description."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg2

        name = name or bench_db_name(url)
        base, _, _ = url.rpartition("/")
        conn = psycopg2.connect(f"{base}/postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
            cur.execute(f"CREATE DATABASE {name}")
        conn.close()
        os.environ["DATABASE_URL"] = f"{base}/{name}"
        where = f"PostgreSQL {base}/{name}"
    else:
        tmp = tempfile.mkdtemp(prefix="fjzl-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        where = f"SQLite {tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # DEBUG stays off (it keeps every query in memory): the run gets a random key of its own.
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_HTTPS", "0")  # in-process clients speak plain HTTP: no SSL redirect
    os.environ.setdefault("FJZL_VAR_DIR", tempfile.mkdtemp(prefix="fjzl-bench-var-"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return where


POOL = 12


def clean_pool(form_code: str, members_per_form: int, rng: random.Random) -> list[tuple[dict, list[dict]]]:
    """A few value sets per form that pass the engine's checks (the demo's generator, repaired with the
    engine), as real submissions mostly do; `seed` varies them per unit. Random values would break dozens of
    checks per form and measure message formatting instead of evaluation."""
    from engine.valuegen import ValueGenerator
    from reporting.catalog_loader import folder_catalog

    form = folder_catalog()[form_code]
    pool = []
    for _ in range(POOL):
        gen = ValueGenerator(form, level=FORM_LEVELS[form_code], rng=rng, name="基准医院")
        members = ([gen.draft(form.subform, level="member", name=f"成员{i}", lead=False)
                    for i in range(members_per_form)] if form.subform is not None else None)
        values, members, _ = gen.repair(gen.draft(), members)
        pool.append((values, members or []))
    return pool


def seed(total: int, *, members_per_form: int = 3, seed_value: int = 2019) -> object:
    """Create a task and `total` started submissions spread over 表1–表4 (most of them 表3/表4, as in
    reality), each lead form with member entries. Returns the task."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Unit
    from reporting import actions
    from reporting.models import MemberEntry, Status, Submission, Task, TaskForm

    rng = random.Random(seed_value)
    code = f"bench{total}"
    Task.objects.filter(code=code).delete() if not Submission.objects.filter(task__code=code).exists() else None
    now = timezone.now()
    shares = {"t1": 0.002, "t2": 0.03}
    counts = {k: max(1, int(total * v)) for k, v in shares.items()}
    rest = total - sum(counts.values())
    counts["t3"] = rest // 2
    counts["t4"] = rest - counts["t3"]
    with transaction.atomic():
        nation = Unit.objects.create(code=f"{code}-n", name="国家", level="nation")
        units: dict[str, list[Unit]] = {}
        for form_code, level in FORM_LEVELS.items():
            rows = [Unit(code=f"{code}-{form_code}-{i}", name=f"单位{form_code}-{i}", level=level, parent=nation,
                         path=f"{nation.path}{code}-{form_code}-{i}/", sort_key=f"{i:06d}")
                    for i in range(counts[form_code])]
            units[form_code] = Unit.objects.bulk_create(rows, batch_size=5000)
        task = actions.task_create(acting_user=None, code=code, name=f"基准任务{total}", period_start=now.date(),
                                   period_end=now.date(), window_open=now, window_close=now,
                                   catalog_slug="fjzl2019", is_current=False)
    versions = {tf.form_code: tf.version for tf in TaskForm.objects.filter(task=task).select_related("version")}
    from engine.valuegen import ValueGenerator
    from reporting.catalog_loader import folder_catalog

    for form_code in FORM_LEVELS:
        pool = clean_pool(form_code, members_per_form, rng)
        gen = ValueGenerator(folder_catalog()[form_code], level=FORM_LEVELS[form_code], rng=rng)
        batch: list[tuple[Submission, list[dict]]] = []
        for unit in units[form_code]:
            values, members = pool[rng.randrange(len(pool))]
            factor = rng.uniform(0.5, 3.0)  # units differ in size; relations between fields mostly hold
            grown = gen.grow(values, factor)
            for code in rng.sample(sorted(grown), k=max(1, len(grown) // 30)):
                if isinstance(grown[code], int | float) and not isinstance(grown[code], bool):
                    grown[code] = "--"  # about one in thirty numbers not collected, as in real data
            batch.append((Submission(task=task, unit=unit, form_code=form_code, form_version=versions[form_code],
                                     status=Status.SUBMITTED, values=grown, submitted_at=now),
                          [gen.grow(m, factor) for m in members]))
            if len(batch) == 2000:
                _flush(batch, MemberEntry)
                batch = []
        if batch:
            _flush(batch, MemberEntry)
    analyze()
    return task


def _flush(batch: list, member_model) -> None:
    from reporting.models import Submission

    created = Submission.objects.bulk_create([s for s, _ in batch])
    member_model.objects.bulk_create([
        member_model(submission=s, key=f"{s.pk}-{i}", position=i, values=values)
        for s, (_, members) in zip(created, batch, strict=True) for i, values in enumerate(members)
    ], batch_size=5000)
