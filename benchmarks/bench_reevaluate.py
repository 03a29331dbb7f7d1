"""Re-evaluating stored submissions after a rule change, database included.

    python benchmarks/bench_reevaluate.py [--rows 50000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/arch_bench .venv/bin/python benchmarks/bench_reevaluate.py
    (the database is named after DATABASE_URL — its own name if it contains "bench", else <name>_bench — and is
    dropped and re-created: benchmarks/seeding.py)

Seeds N submissions across 表1–表4 (表3/表4 with 3 member entries each; values that mostly pass the checks, as
real ones do) into a throw-away database, then runs the code path of the background job (a ReevaluationJob
recorded by indicators.actions.reevaluation_request, each of its id ranges run by reevaluation_chunk_run as the
Celery task does: read values, members, previous period, peers and children in bulk, run the engine, write
results back, close the job) once in one process and once in two processes, as a Celery worker with two
processes runs the range tasks (no broker: the ranges are handed to the processes directly). The floor, measured in the same run, is
the bare read + write of the same rows without evaluating. Goal (issue 3): 50,000 stored submissions in under
a minute.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor

from seeding import bench_database, seed


def _floor(task, typical: dict) -> tuple[float, int]:
    """The bare read + write: read what re-evaluation reads (values, explanations, member entries), write a
    result of the same shape for every row — no engine, no loader logic."""
    from reporting.actions import submission_results_store
    from reporting.models import MemberEntry, Submission

    t0 = time.perf_counter()
    touched = 0
    batch: list = []

    def flush() -> None:
        members = list(MemberEntry.objects.filter(submission_id__in=[s.pk for s in batch])
                       .values_list("submission_id", "values"))
        assert members is not None
        for s in batch:
            s.result = {**typical, "floor": s.pk}
        submission_results_store(acting_user=None, batch=batch)

    qs = Submission.objects.filter(task=task).only("id", "values", "explanations").order_by("pk")
    for s in qs.iterator(chunk_size=500):
        batch.append(s)
        if len(batch) == 500:
            flush()
            touched += len(batch)
            batch = []
    if batch:
        flush()
        touched += len(batch)
    return time.perf_counter() - t0, touched


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    where = bench_database()
    from reporting.models import Submission

    t0 = time.perf_counter()
    task = seed(args.rows)
    print(f"database: {where}")
    print(f"seeded {args.rows:,} submissions in {time.perf_counter() - t0:.1f} s (bulk_create, then ANALYZE)")

    print("load average before the runs: {:.1f} {:.1f} {:.1f} (2 cores: above 2 the machine is shared)"
          .format(*os.getloadavg()))
    chunks = _job(task.pk)
    t0 = time.perf_counter()
    c0 = time.process_time()
    count = sum(_run_chunks(task.pk, chunks))
    single = time.perf_counter() - t0
    single_cpu = time.process_time() - c0
    sample = Submission.objects.filter(task=task, form_code="t3").first()
    assert "indicators" in sample.result and "violations" in sample.result
    violations = sum(len(r["violations"]) for r in Submission.objects.filter(task=task).values_list("result", flat=True)
                     .iterator(chunk_size=2000))

    c0 = time.process_time()
    floor, touched = _floor(task, sample.result)
    floor_cpu = time.process_time() - c0
    assert count == touched == args.rows, (count, touched)
    chunks = _job(task.pk)

    from django.db import connections

    connections.close_all()
    t0 = time.perf_counter()
    halves = [chunks[0::2], chunks[1::2]]
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork")) as pool:
        parallel_count = sum(pool.map(_run_in_child, [task.pk] * 2, halves))
    parallel = time.perf_counter() - t0
    assert parallel_count == count
    from indicators.models import ReevaluationJob

    states = list(ReevaluationJob.objects.filter(task=task).values_list("state", "evaluated"))
    assert states == [("done", count)] * 2, states  # both jobs closed, every range counted once

    print(f"violations per submission after evaluation: {violations / count:.2f}")
    print(f"floor (read values + members, write results, no evaluation): {floor:.1f} s, "
          f"{touched / floor:,.0f} rows/s")
    print(f"re-evaluation, 1 process:  {single:.1f} s, {count / single:,.0f} rows/s, "
          f"ratio to floor {single / floor:.2f}x")
    print(f"  CPU of this process: floor {floor_cpu:.1f} s, re-evaluation {single_cpu:.1f} s "
          f"(ratio {single_cpu / floor_cpu:.2f}x; the database server's CPU is not counted)")
    print(f"re-evaluation, 2 processes: {parallel:.1f} s, {count / parallel:,.0f} rows/s, "
          f"ratio to floor {parallel / floor:.2f}x")
    print("load average after the runs: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    scale = 50_000 / args.rows
    for label, seconds in (("1 process", single), ("2 processes", parallel)):
        verdict = "meets" if seconds * scale < 60 else "misses"
        print(f"50,000 rows with {label}: {seconds * scale:.1f} s "
              f"({'measured' if args.rows == 50_000 else 'extrapolated'}; {verdict} the one-minute goal)")


def _job(task_id: int) -> list[int]:
    """Record a re-evaluation job as a rule change does; its range ids (no broker: nothing is dispatched)."""
    from indicators import actions as jobs

    jobs.reevaluation_dispatch = lambda chunk_ids: []  # the benchmark's processes run the ranges
    job = jobs.reevaluation_request(acting_user=None, task_id=task_id, size=jobs.CHUNK)
    return list(job.chunks.order_by("first_id").values_list("pk", flat=True))


def _run_chunks(task_id: int, chunks: list[int]) -> list[int]:
    from indicators.actions import reevaluation_chunk_run

    return [reevaluation_chunk_run(chunk_id=pk).evaluated for pk in chunks]


def _run_in_child(task_id: int, chunks: list[int]) -> int:
    from django.db import connections

    connections.close_all()  # a forked child must not share the parent's connection
    return sum(_run_chunks(task_id, chunks))


if __name__ == "__main__":
    main()
