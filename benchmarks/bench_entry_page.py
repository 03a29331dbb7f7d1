"""The data-entry page of a 表3 with 40 member entries: bytes sent, server time and SQL statements per GET.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/save_bench .venv/bin/python benchmarks/bench_entry_page.py \
        [--members 40] [--gets 30]

The database is named after DATABASE_URL (benchmarks/seeding.py: its own name if it contains "bench", else
<name>_bench), dropped and created anew; the hierarchy, a previous period and the current task are built through
the actions; the 表3 gets `--members` member entries filled with values that pass the checks (the demo's value
generator, as benchmarks/seeding.py), then ANALYZE. In one process, in the same run (Django test client: every
middleware, session, auth, templates):
  entry   — GET of the filler's data-entry page;
  trivial — GET of the login page (the floor of any request).
Printed: uncompressed bytes of the response, ms of CPU per GET (process time: the database server's work is not
counted), wall ms per GET (the server time as the client sees it, database included), SQL statements per GET
(transaction control excluded). BENCH_PROFILE=1 prints a cProfile (CPU) of the page first, BENCH_SHOW_SQL=1
its statements, BENCH_DUMP=file writes the page. Goal (issue 10): < 400 KB uncompressed and < 150 ms server time with 40 members.
"""

from __future__ import annotations

import argparse
import os
import random
import time

from seeding import analyze, bench_database, clean_pool, timed


def _measure(label: str, fn, n: int) -> dict:
    row = {"label": label, "bytes": len(fn()), **timed(lambda _i: fn(), n)}
    print(f"{label:<8} {row['bytes'] / 1024:8.1f} KB  {row['cpu_ms']:7.2f} ms CPU/GET  {row['wall_ms']:7.2f} ms "
          f"wall/GET  {row['queries']:3d} queries/GET")
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--gets", type=int, default=30)
    args = parser.parse_args()
    where = bench_database()
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from accounts.demo import build_hierarchy
    from accounts.models import User
    from reporting import actions
    from reporting.models import Submission

    settings.ALLOWED_HOSTS = ["*"]
    build_hierarchy("Bench#2019-entry")
    rng = random.Random(2019)
    (lead, _), = clean_pool("t3", 1, rng)[:1]
    member_pool = [m for _, ms in clean_pool("t3", 4, rng) for m in ms]
    user = User.objects.get(username="3701001")
    now = timezone.now()
    previous = None
    for code in ("bench-prev", "bench-now"):
        task = actions.task_create(acting_user=None, code=code, name=code, period_start=now.date(),
                                   period_end=now.date(), window_open=now - timezone.timedelta(days=1),
                                   window_close=now + timezone.timedelta(days=1),
                                   catalog_slug=settings.FJZL_DEFAULT_CATALOG, previous=previous)
        actions.submissions_ensure(acting_user=None, task=task)
        s = Submission.objects.get(task=task, unit=user.unit, form_code="t3")
        keys = [e.key for e in actions.members_add(acting_user=user, submission_id=s.pk,
                                                    keys=[f"member{i:04d}" for i in range(args.members)])]
        changes = [{"field": k, "value": v} for k, v in lead.items()]
        for i, key in enumerate(keys):
            values = dict(member_pool[i % len(member_pool)], hospital_name=f"第{i + 1}成员医院")
            changes += [{"field": k, "member": key, "value": v} for k, v in values.items()]
        result = actions.submission_save(acting_user=user, submission_id=s.pk, changes=changes)
        assert not result.errors, list(result.errors.items())[:5]
        previous = task
    analyze()
    s.refresh_from_db()
    violations = len((s.result or {}).get("violations") or [])
    print(f"database: {where}; 表3 with {len(keys)} filled member entries ({len(changes)} values, "
          f"{violations} check messages) and a previous period")

    client = Client()
    client.force_login(user)
    url = reverse("submission_entry", args=[s.pk])

    def entry() -> bytes:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return response.content

    login = reverse("login")
    anonymous = Client()

    def trivial() -> bytes:
        response = anonymous.get(login)
        assert response.status_code == 200
        return response.content

    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        entry()
        profile = cProfile.Profile(time.process_time)  # CPU, not the wait for the database
        profile.runcall(lambda: [entry() for _ in range(args.gets)])
        stats = pstats.Stats(profile)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
    if os.environ.get("BENCH_DUMP"):
        with open(os.environ["BENCH_DUMP"], "wb") as f:
            f.write(entry())
    rows = {r["label"]: r for r in (_measure("entry", entry, args.gets), _measure("trivial", trivial, args.gets))}
    page, floor = rows["entry"], rows["trivial"]
    print(f"entry page CPU as a multiple of the trivial view's: {page['cpu_ms'] / floor['cpu_ms']:.1f}x; "
          f"beyond the trivial view: {page['cpu_ms'] - floor['cpu_ms']:.1f} ms CPU, "
          f"{page['wall_ms'] - floor['wall_ms']:.1f} ms wall")
    ok = page["bytes"] < 400 * 1024 and page["wall_ms"] < 150
    print(f"goal < 400 KB uncompressed and < 150 ms server time with {len(keys)} members: "
          f"{'meets' if ok else 'misses'} ({page['bytes'] / 1024:.0f} KB, {page['wall_ms']:.0f} ms wall, "
          f"{page['cpu_ms']:.0f} ms CPU)")


if __name__ == "__main__":
    main()
