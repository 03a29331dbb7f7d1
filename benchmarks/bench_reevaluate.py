"""Re-evaluating stored submissions after a rule change, database included.

    python benchmarks/bench_reevaluate.py [--rows 50000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python benchmarks/bench_reevaluate.py

Seeds N submissions across 表1–表4 (表3/表4 with 3 member entries each) into a throw-away database, then runs
the same code path the background job uses (indicators.services.reevaluate_submissions: read values, members,
previous period, peers and children in bulk, run the engine, write results back), and, as a floor in the same
run, the bare read + write of the same rows without evaluating. Prints rows/s, total seconds and the ratio.
Goal (issue 3): 50,000 stored submissions in under a minute.
"""

from __future__ import annotations

import argparse
import time

from seeding import bench_database, seed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    where = bench_database()
    from indicators.services import _store_results, reevaluate_submissions
    from reporting.models import Submission

    t0 = time.perf_counter()
    task = seed(args.rows)
    print(f"database: {where}")
    print(f"seeded {args.rows:,} submissions in {time.perf_counter() - t0:.1f} s (bulk_create)")

    qs = Submission.objects.filter(task=task)
    t0 = time.perf_counter()
    touched = 0
    batch = []
    for s in qs.only("id", "values", "result").order_by("pk").iterator(chunk_size=500):
        s.result = {"touched": True}
        batch.append(s)
        if len(batch) == 500:
            _store_results(batch)
            touched += len(batch)
            batch = []
    if batch:
        _store_results(batch)
        touched += len(batch)
    floor = time.perf_counter() - t0

    t0 = time.perf_counter()
    count = reevaluate_submissions(qs)
    engine = time.perf_counter() - t0
    assert count == touched == args.rows, (count, touched)
    sample = Submission.objects.filter(task=task, form_code="t3").first()
    assert "indicators" in sample.result and "violations" in sample.result
    print(f"floor (read + write results, no evaluation): {floor:.1f} s, {touched / floor:,.0f} rows/s")
    print(f"re-evaluation (services.reevaluate_submissions): {engine:.1f} s, {count / engine:,.0f} rows/s")
    print(f"ratio re-evaluation / floor: {engine / floor:.2f}x")
    verdict = "meets" if engine < 60 * args.rows / 50_000 else "MISSES"
    print(f"extrapolated to 50,000 rows: {engine * 50_000 / args.rows:.1f} s ({verdict} the one-minute goal)")


if __name__ == "__main__":
    main()
