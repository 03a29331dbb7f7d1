"""Benchmark of the national Excel export (exports.actions.export_run, the background job's code path).

Run (PostgreSQL, the production setting):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fjzl .venv/bin/python benchmarks/bench_export.py

With DATABASE_URL set, the benchmark never touches the database it names: it uses a database named after it,
`<name>_bench_export` (or $BENCH_DB_NAME), on the same server, created with psycopg2 when missing and kept
between runs (the seeded rows are reused; --reseed drops and re-creates it); ANALYZE after seeding.
Without DATABASE_URL it uses a SQLite file
var/bench/bench_export.sqlite3. Options: --rows N (default 50,000 submissions; e.g. --rows 2000 for a quick
run), --members K (member sub-form entries per 表3/表4, default 2).

Seeding: N submissions over 表1–表4 of the real catalog (reporting/catalogs/fjzl2019, ~90–145 fields each),
written with bulk_create — not through the action layer — with plausible values ("--" in one of thirty
numbers, some texts starting with "="), engine-shaped results (indicators, attainment, violations) and
member entries; a second task holds N/2 submissions of the same units.

Each measurement runs in its own subprocess, so peak memory (ru_maxrss) is that run's alone:
  export — the whole export of a task as the platform admin: the count, the database read (.iterator over
           values_list), indicators and check results from Submission.result, writing the xlsx;
  floor  — the same sheets, headers, formats and number of cells written straight from memory with
           xlsxwriter constant_memory (rows cycled from the first 1,000 of each sheet, read beforehand).
Both run at N and N/2 rows to show that memory stays flat when the row count doubles; each --repeat times
(default 2), alternating, and the fastest run of each counts (the machine may be busy with other work).
Peak memory is the process's VmHWM (Linux; ru_maxrss elsewhere).
Goal: export within 1.5× of the floor, peak under 250 MB, flat.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
POOL = 997  # distinct value sets per form (prime, so rows do not repeat in lockstep with anything)
FLOOR_SAMPLE = 1000
SHARES = {"t1": 0.01, "t2": 0.05}  # the rest: half 表3, half 表4 — as in reality, mostly alliances


# --- database -----------------------------------------------------------------------------------------------


def bench_url(reseed: bool) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg2

        base, _, name = url.rpartition("/")
        db_name = os.environ.get("BENCH_DB_NAME") or f"{name.split('?')[0] or 'fjzl'}_bench_export"
        conn = psycopg2.connect(f"{base}/postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            if reseed:
                cur.execute(f"DROP DATABASE IF EXISTS {db_name}")
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name])
            if cur.fetchone() is None:
                cur.execute(f"CREATE DATABASE {db_name}")
        conn.close()
        return f"{base}/{db_name}"
    path = ROOT / "var" / "bench" / "bench_export.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    if reseed:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # DEBUG stays off (it keeps every query in memory): the run gets a random key of its own.
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_HTTPS", "0")  # in-process clients speak plain HTTP: no SSL redirect
    os.environ.setdefault("FJZL_MEDIA_ROOT", tempfile.mkdtemp(prefix="fjzl-bench-media-"))
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    import django

    django.setup()


# --- seeding ------------------------------------------------------------------------------------------------


def plausible(spec: dict, rng: random.Random) -> object:
    kind = spec.get("type")
    if kind in ("count", "decimal", "percent") and rng.random() < 1 / 30:
        return "--"
    if kind == "count":
        return rng.randint(0, 80_000)
    if kind == "decimal":
        return round(rng.uniform(0, 9_000), 2)
    if kind == "percent":
        return round(rng.uniform(0, 100), 2)
    if kind == "yesno":
        return rng.random() < 0.7
    if kind == "choice":
        return rng.choice(spec.get("choices") or ["其他"])
    return '=HYPERLINK("x")' if rng.random() < 0.02 else f"某某医院{rng.randint(1, 9999)}"


def value_pool(definition: dict, rng: random.Random) -> list[dict]:
    pool = []
    for _ in range(POOL):
        values = {}
        for spec in definition.get("fields", []):
            if rng.random() < 0.04:
                continue  # not filled
            values[spec["code"]] = plausible(spec, rng)
        pool.append(values)
    return pool


def result_pool(definition: dict, rng: random.Random, members: int) -> list[dict]:
    pool = []
    indicators = definition.get("indicators", [])
    checks = definition.get("checks", [])
    for _ in range(POOL):
        ind = {i["code"]: (None if rng.random() < 0.1 else round(rng.uniform(0, 120), 4)) for i in indicators}
        attainment = {
            i["code"]: (None if ind[i["code"]] is None else ind[i["code"]] >= i["target"].get("value", 0))
            for i in indicators
            if i.get("target")
        }
        violations = []
        for _ in range(rng.choice((0, 0, 0, 1, 1, 2, 3))):
            check = rng.choice(checks) if checks else {"code": "x", "severity": "soft"}
            violations.append(
                {
                    "check": check["code"],
                    "severity": check.get("severity", "soft"),
                    "message": f"{check['code']}：某项（{rng.randint(1, 999)}）不能大于某项（{rng.randint(1, 99)}）",
                    "fields": [],
                    "member": "",
                }
            )
        result = {
            "indicators": ind,
            "reasons": {k: "某项未填报" for k, v in ind.items() if v is None},
            "violations": violations,
            "attainment": attainment,
            "evaluated_at": "2019-07-01T10:00:00+08:00",
        }
        if members:
            result["member_indicators"] = [{"m.i1": rng.uniform(0, 100)} for _ in range(members)]
        pool.append(result)
    return pool


def seed(n: int, members_per_form: int) -> None:
    """Units for n submissions and two tasks (n and n/2 submissions), unless already there."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Role, Unit, User
    from reporting.actions import catalog_attach
    from reporting.catalog_loader import read_catalog, task_definitions
    from reporting.models import MemberEntry, Status, Submission, Task

    full_code, half_code = f"bench-{n}", f"bench-{n}-half"
    if Task.objects.filter(code=half_code).exists():
        print(f"seeded data found (tasks {full_code}, {half_code}); --reseed to create anew")
        return
    started = time.perf_counter()
    rng = random.Random(2019)
    _, forms = read_catalog("fjzl2019")
    definitions = {f["code"]: f for f in forms}
    n1 = max(1, round(n * SHARES["t1"]))
    n2 = max(1, round(n * SHARES["t2"]))
    n3 = (n - n1 - n2) // 2
    n4 = n - n1 - n2 - n3
    prefix = f"B{n}"
    with transaction.atomic():
        nation = Unit.objects.filter(level="nation").first()
        if nation is None:
            nation = Unit(
                code="100000", name="国家卫生健康委员会", level="nation", path="/100000/", sort_key="100000"
            )
            nation.save()
        admin = User.objects.filter(username="bench-admin").first() or User.objects.create_user(
            username="bench-admin", password=None, role=Role.ADMIN, unit=nation
        )

        def make(level: str, count: int, parents: list[Unit], tag: str, name: str) -> list[Unit]:
            rows = []
            for i in range(count):
                parent = parents[i % len(parents)]
                code = f"{prefix}{tag}{i:06d}"
                rows.append(
                    Unit(
                        code=code,
                        name=f"{name}{i}",
                        level=level,
                        parent=parent,
                        path=f"{parent.path}{code}/",
                        sort_key=code,
                    )
                )
            return Unit.objects.bulk_create(rows, batch_size=5000)

        provinces = make("province", n1, [nation], "P", "测试省")
        cities = make("city", n2, provinces, "C", "测试市")
        urban = make("urban_alliance", n3, cities, "U", "测试城市医疗集团")
        county = make("county_alliance", n4, cities, "K", "测试县域医共体")
        units = {"t1": provinces, "t2": cities, "t3": urban, "t4": county}
        pools = {code: value_pool(d, rng) for code, d in definitions.items()}
        results = {
            code: result_pool(d, rng, members_per_form if d.get("subform") else 0)
            for code, d in definitions.items()
            if not d.get("parent")
        }
        now = timezone.now()
        for code, size in ((full_code, 1.0), (half_code, 0.5)):
            task = Task.objects.create(
                code=code,
                name=f"导出基准 {code}",
                period_start=dt.date(2019, 1, 1),
                period_end=dt.date(2019, 6, 30),
                window_open=now,
                window_close=now,
                catalog_slug="fjzl2019",
                is_current=False,
            )
            catalog_attach(acting_user=None, task=task, forms=forms)
            versions = {tf_code: None for tf_code in definitions}
            for tf in task.task_forms.select_related("version"):
                versions[tf.form_code] = tf.version
            assert task_definitions(task)
            statuses = [s for s, _ in Status.choices]
            for form_code, form_units in units.items():
                chosen = form_units[: max(1, int(len(form_units) * size))]
                batch = []
                for i, unit in enumerate(chosen):
                    status = statuses[i % len(statuses)]
                    submitted = now if status in ("submitted", "approved", "rechecked", "rejected") else None
                    batch.append(
                        Submission(
                            task=task,
                            unit=unit,
                            form_code=form_code,
                            form_version=versions[form_code],
                            status=status,
                            values=pools[form_code][i % POOL],
                            result=results[form_code][i % POOL],
                            explanations={"x.c01": "口径说明"} if i % 7 == 0 else {},
                            submitted_at=submitted,
                            approved_at=now if status in ("approved", "rechecked") else None,
                        )
                    )
                created = Submission.objects.bulk_create(batch, batch_size=2000)
                subform = definitions[form_code].get("subform")
                if subform and members_per_form:
                    entries = [
                        MemberEntry(
                            submission=s,
                            key=f"{s.pk:x}-{m}",
                            position=m + 1,
                            values=pools[subform][(s.pk * 7 + m) % POOL],
                        )
                        for s in created
                        for m in range(members_per_form)
                    ]
                    MemberEntry.objects.bulk_create(entries, batch_size=5000)
        assert admin.pk
    from django.db import connection

    if connection.vendor == "postgresql":  # statistics for the planner after the bulk load
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"seeded {n:,} + {n // 2:,} submissions (表1 {n1:,} · 表2 {n2:,} · 表3 {n3:,} · 表4 {n4:,}, "
        f"{members_per_form} member entries per 表3/表4) with bulk_create, not through the action layer, "
        f"in {time.perf_counter() - started:.1f} s"
    )


# --- child runs ---------------------------------------------------------------------------------------------


def peak_mb() -> float:
    """Peak resident memory of this process. Linux: VmHWM, which starts afresh at exec (ru_maxrss would carry
    over the parent's peak into the child); elsewhere ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_export(task_code: str, out: str) -> dict:
    from accounts.models import User
    from exports.actions import export_run
    from exports.models import ExportJob
    from reporting.models import Task

    task = Task.objects.get(code=task_code)
    admin = User.objects.get(username="bench-admin")
    job = ExportJob.objects.create(kind="task", task=task, requested_by=admin)
    before = peak_mb()
    cpu = cpu_seconds()
    started = time.perf_counter()
    job = export_run(job_id=job.pk)
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    assert job.state == ExportJob.State.DONE, job.error
    from exports.actions import export_path

    path = export_path(job)
    os.replace(path, out)
    return {
        "seconds": seconds,
        "cpu": cpu,
        "rows": job.progress,
        "peak_mb": peak_mb(),
        "rss_before_mb": before,
        "bytes": os.path.getsize(out),
    }


def child_floor(task_code: str, out: str) -> dict:
    """Same sheets and cells, written from memory: no database, no per-value work beyond the type switch."""
    import datetime as dt
    import itertools

    import xlsxwriter
    from django.utils import timezone

    from accounts.models import User
    from exports import builders, registry
    from reporting.models import MemberEntry, Task

    task = Task.objects.get(code=task_code)
    admin = User.objects.get(username="bench-admin")
    sheets = []
    for sheet in registry.iter_sheets("task", admin, task, {}):
        sample = []
        for row in itertools.islice(sheet.rows, FLOOR_SAMPLE):
            cells = []
            for v in row:
                if isinstance(v, bool):
                    v = "是" if v else "否"
                elif isinstance(v, dt.datetime):
                    v = timezone.localtime(v).replace(tzinfo=None)
                cells.append(v)
            sample.append(cells)
        sheet.rows.close()
        sheets.append((sheet, sample))
    counts = []
    base = builders.scoped_submissions(admin, task, {})
    for sheet, _ in sheets:
        if "成员" in sheet.name or "卫生院" in sheet.name:
            lead = "t3" if sheet.name.startswith("表3") else "t4"
            counts.append(
                MemberEntry.objects.filter(submission__in=base.filter(form_code=lead).values("pk")).count()
            )
        else:
            code = {"表1": "t1", "表2": "t2", "表3": "t3", "表4": "t4"}[sheet.name[:2]]
            counts.append(base.filter(form_code=code).count())
    before = peak_mb()
    cpu = cpu_seconds()
    started = time.perf_counter()
    wb = xlsxwriter.Workbook(out, {"constant_memory": True})
    rows_written = 0
    for (sheet, sample), count in zip(sheets, counts, strict=True):
        ws = wb.add_worksheet(sheet.name)
        for r, header in enumerate(sheet.header_rows):
            for c, text in enumerate(header):
                ws.write_string(r, c, text or "")
        formats = [wb.add_format({"num_format": f}) if f else None for f in (sheet.number_formats or [])]
        dt_format = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        write_number, write_string, write_datetime = ws.write_number, ws.write_string, ws.write_datetime
        start = len(sheet.header_rows)
        for i in range(count):
            r = start + i
            for c, v in enumerate(sample[i % len(sample)]):
                if v is None:
                    continue
                if v.__class__ is str:
                    write_string(r, c, v)
                elif v.__class__ is dt.datetime:
                    write_datetime(r, c, v, dt_format)
                else:
                    write_number(r, c, v, formats[c] if c < len(formats) else None)
        rows_written += count
    wb.close()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu": cpu_seconds() - cpu,
        "rows": rows_written,
        "peak_mb": peak_mb(),
        "rss_before_mb": before,
        "bytes": os.path.getsize(out),
    }


def run_child(mode: str, task_code: str, url: str, out: str) -> dict:
    env = {**os.environ, "DATABASE_URL": url}
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--task", task_code, "--out", out],
        env=env,
        capture_output=True,
        text=True,
        cwd=str(ROOT),
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"{mode} run failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, default=50_000, help="submissions in the big run (default 50,000)"
    )
    parser.add_argument("--members", type=int, default=2, help="member entries per 表3/表4 submission")
    parser.add_argument("--reseed", action="store_true", help="drop the benchmark database and seed anew")
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement; the fastest counts")
    parser.add_argument("--child", choices=("seed", "export", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "seed":
        setup_django(os.environ["DATABASE_URL"])
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        print(f"database: {connection.vendor} {connection.settings_dict.get('NAME')}", flush=True)
        seed(args.rows, args.members)
        return
    if args.child:
        setup_django(os.environ["DATABASE_URL"])
        result = (child_export if args.child == "export" else child_floor)(args.task, args.out)
        print(json.dumps(result))
        return

    # The parent only starts processes, so each one's peak memory is its own.
    url = bench_url(args.reseed)
    seeding = subprocess.run([sys.executable, __file__, "--child", "seed", "--rows", str(args.rows), "--members",
                              str(args.members)], env={**os.environ, "DATABASE_URL": url}, cwd=str(ROOT))
    if seeding.returncode != 0:
        raise SystemExit("seeding failed")
    out_dir = Path(tempfile.mkdtemp(prefix="fjzl-bench-out-"))
    figures = {}
    for rows, task_code in ((args.rows // 2, f"bench-{args.rows}-half"), (args.rows, f"bench-{args.rows}")):
        runs: dict[str, list[dict]] = {"floor": [], "export": []}
        for _ in range(args.repeat):  # alternating, so a busy moment of the machine hits both alike
            for mode in ("floor", "export"):
                runs[mode].append(run_child(mode, task_code, url, str(out_dir / f"{mode}-{task_code}.xlsx")))
        export = min(runs["export"], key=lambda r: r["seconds"])
        floor = min(runs["floor"], key=lambda r: r["seconds"])
        export["peak_mb"] = max(r["peak_mb"] for r in runs["export"])
        floor["peak_mb"] = max(r["peak_mb"] for r in runs["floor"])
        figures[rows] = (export, floor)
        every = (", ".join(f"{r['seconds']:.1f}" for r in runs["export"]) + " / "
                 + ", ".join(f"{r['seconds']:.1f}" for r in runs["floor"]))
        print(f"{rows:>7,} submissions → {export['rows']:,} rows ({export['bytes'] / 1e6:.0f} MB xlsx): "
              f"export {export['seconds']:.1f} s (cpu {export['cpu']:.1f} s), peak {export['peak_mb']:.0f} MB | "
              f"xlsxwriter floor {floor['seconds']:.1f} s (cpu {floor['cpu']:.1f} s), peak {floor['peak_mb']:.0f} MB"
              f" | ratio {export['seconds'] / floor['seconds']:.2f}× (best of {args.repeat}: {every} s)", flush=True)
    (half_e, _), (full_e, full_f) = figures[args.rows // 2], figures[args.rows]
    ratio = full_e["seconds"] / full_f["seconds"]
    growth = full_e["peak_mb"] - half_e["peak_mb"]
    flat = growth < 0.1 * half_e["peak_mb"] + 10
    ok = ratio <= 1.5 and full_e["peak_mb"] < 250 and flat
    print(f"memory when the rows double: {half_e['peak_mb']:.0f} MB → {full_e['peak_mb']:.0f} MB ({growth:+.0f} MB)")
    print(f"goal (≤1.5× floor, peak < 250 MB, flat): {'met' if ok else 'NOT met'} — "
          f"ratio {ratio:.2f}×, peak {full_e['peak_mb']:.0f} MB, {'flat' if flat else 'growing'}")
    for path in out_dir.iterdir():
        path.unlink()
    out_dir.rmdir()


if __name__ == "__main__":
    main()
