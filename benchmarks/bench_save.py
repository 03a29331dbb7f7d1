"""Cost of one autosave of 表3 with 10 member entries: application CPU and SQL statements per save.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/arch_bench .venv/bin/python benchmarks/bench_save.py [--saves 300]

The database is named after DATABASE_URL (benchmarks/seeding.py: its own name if it contains "bench", else
<name>_bench), dropped and created anew; the hierarchy, task, the previous period and the form are built through
the actions, then ANALYZE. In one process, in the same run:
  action  — reporting.actions.submission_save (the save itself: lock, normalise, conflict check, evaluate with
            members and previous period, write values, members, audit rows and the result);
  request — the same save through the JSON endpoint (Django test client: middleware, session, auth, JSON, and
            the server-rendered live panel the answer carries);
  trivial — GET of the login page by an anonymous client (the floor of any request);
  session — GET of the login page by the logged-in client: a redirect after loading the session and the user and
            renewing the session (the floor of any logged-in request).
Each save changes one lead field and one field in three member entries, alternating values, like typing.
Printed: ms of CPU per call (process time, so the database server's work is not counted), wall ms, SQL
statements per call (transaction control BEGIN/COMMIT/SAVEPOINT excluded). BENCH_PROFILE=action|request prints
a cProfile (CPU) of that row first; BENCH_SHOW_SQL=1 prints each row's statements.
Goal (issue 10): ≤ 10 ms application CPU, ≤ 8 queries per save (the action row); the request as close to the
action plus the logged-in floor (the session row) as the panel allows.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from seeding import analyze, bench_database, timed


def _measure(label: str, fn, n: int) -> dict:
    row = {"label": label, **timed(fn, n)}
    print(f"{label:<8} {row['cpu_ms']:7.2f} ms CPU/call  {row['wall_ms']:7.2f} ms wall/call  "
          f"{row['queries']:3d} queries/call")
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--saves", type=int, default=300)
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
    build_hierarchy("Bench#2019-save")
    now = timezone.now()
    previous = None
    for code in ("bench-prev", "bench-now"):
        task = actions.task_create(acting_user=None, code=code, name=code, period_start=now.date(),
                                   period_end=now.date(), window_open=now - timezone.timedelta(days=1),
                                   window_close=now + timezone.timedelta(days=1),
                                   catalog_slug=settings.FJZL_DEFAULT_CATALOG, previous=previous)
        actions.submissions_ensure(acting_user=None, task=task)
        user = User.objects.get(username="3701001")
        s = Submission.objects.get(task=task, unit=user.unit, form_code="t3")
        keys = [actions.member_add(acting_user=user, submission_id=s.pk, key=f"m{i}").key for i in range(10)]
        actions.submission_save(acting_user=user, submission_id=s.pk, changes=[
            {"field": "open_bed_days", "value": 100},
            *({"field": "hospital_name", "member": k, "value": f"第{i}医院"} for i, k in enumerate(keys)),
            *({"field": "outpatient_visits", "member": k, "value": 1000 + i} for i, k in enumerate(keys))])
        previous = task
    analyze()
    print(f"database: {where}; 表3 with {len(keys)} member entries and a previous period")

    def changes(i: int) -> list[dict]:
        return [{"field": "open_bed_days", "value": 100 + i % 7},
                *({"field": "outpatient_visits", "member": k, "value": 1000 + (i + j) % 11}
                  for j, k in enumerate(keys[:3]))]

    def action(i: int) -> None:
        actions.submission_save(acting_user=user, submission_id=s.pk, changes=changes(i))

    client = Client()
    client.force_login(user)
    url = reverse("submission_save_api", args=[s.pk])

    def request(i: int) -> None:
        response = client.post(url, data=json.dumps({"changes": changes(i + 1000)}), content_type="application/json")
        assert response.status_code == 200, response.content[:300]

    login = reverse("login")
    anonymous = Client()

    def trivial(i: int) -> None:
        assert anonymous.get(login).status_code == 200

    def session(i: int) -> None:  # the logged-in filler's login page: a redirect after session, user, renewal
        assert client.get(login).status_code == 302

    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        target = {"action": action, "request": request}[os.environ["BENCH_PROFILE"]]
        target(0)
        profile = cProfile.Profile(time.process_time)  # CPU, not the wait for the database
        profile.runcall(lambda: [target(i) for i in range(args.saves)])
        profile.dump_stats("/tmp/bench_save.prof")
        stats = pstats.Stats("/tmp/bench_save.prof")
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
    rows = [_measure("action", action, args.saves), _measure("request", request, args.saves),
            _measure("trivial", trivial, args.saves), _measure("session", session, args.saves)]
    by = {r["label"]: r for r in rows}
    print(f"save request CPU as a multiple of the trivial view's: {by['request']['cpu_ms'] / by['trivial']['cpu_ms']:.1f}x"
          f"  (trivial/save CPU = {by['trivial']['cpu_ms'] / by['request']['cpu_ms']:.0%})")
    print(f"save request beyond the trivial view: {by['request']['cpu_ms'] - by['trivial']['cpu_ms']:.2f} ms CPU, of "
          f"which the logged-in session's floor (session, user, renewal: the 'session' row) "
          f"{by['session']['cpu_ms'] - by['trivial']['cpu_ms']:.2f} ms and the save action {by['action']['cpu_ms']:.2f} ms")
    verdict = "meets" if by["action"]["cpu_ms"] <= 10 and by["action"]["queries"] <= 8 else "misses"
    print(f"goal ≤ 10 ms application CPU and ≤ 8 queries per save: {verdict} "
          f"({by['action']['cpu_ms']:.2f} ms, {by['action']['queries']} queries)")


if __name__ == "__main__":
    main()
