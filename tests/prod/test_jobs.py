"""Jobs finish or fail visibly: on a real Celery worker through Redis, a SIGKILLed worker mid-export and a broker
that is down when the export starts both end with the job done (or failed with a Chinese message), never stuck."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from exports.actions import STALE_MESSAGE, export_request, jobs_sweep
from exports.models import ExportJob

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL", "")
# A worker process starts in a few seconds; on a saturated 2-core machine it has taken more than a minute.
START_SECONDS = 150
needs_redis = pytest.mark.skipif(not REDIS_URL or connection.vendor != "postgresql",
                                 reason="needs Redis (REDIS_URL) and PostgreSQL")


def _point_broker(url: str) -> None:
    from config.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = url
    app._after_fork()  # drop pooled connections to the previous broker


def _worker(*, sweep_seconds: float = 1.0, stale_seconds: int = 4, beat: bool = True) -> subprocess.Popen:
    """A real worker process (prefork, one child) on this test's database, optionally with the beat sweeper."""
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings", "PYTHONPATH": str(ROOT),
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "REDIS_URL": REDIS_URL, "FJZL_SWEEP_SECONDS": str(sweep_seconds),
           "FJZL_JOB_STALE_SECONDS": str(stale_seconds), "CELERY_TASK_ALWAYS_EAGER": "0"}
    cmd = [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "-P", "prefork", "-c", "1",
           "-I", "tests.prod.slow_kind", "-l", "warning", "--without-gossip", "--without-mingle"]
    if beat:
        cmd += ["-B", "-s", f"/tmp/fjzl-beat-{os.getpid()}-{time.monotonic_ns()}"]
    log = tempfile.NamedTemporaryFile(prefix="fjzl-worker-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = log.name
    return proc


def _said(*procs: subprocess.Popen | None) -> str:
    """What the workers printed (for a failing assertion: a worker that never started says why)."""
    logs = [Path(p.log_path) for p in procs if p is not None]
    return "\n".join(log.read_text(errors="replace")[-3000:] for log in logs if log.exists())


def _kill(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _wait(job_id: int, states: set[str], timeout: float) -> ExportJob:
    deadline = time.monotonic() + timeout
    while True:
        job = ExportJob.objects.get(pk=job_id)
        if job.state in states or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


@pytest.fixture
def real_broker(real_celery):
    import tests.prod.slow_kind  # noqa: F401  (registers "slow" in this process too)

    return real_celery


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_it_finishes_an_export_whose_worker_was_sigkilled_mid_run(cast, real_broker):
    first = _worker(beat=False)
    second = None
    try:
        job = export_request(acting_user=cast.analyst, task=cast.task, kind="slow")
        running = _wait(job.pk, {"running", "done", "failed"}, timeout=START_SECONDS)
        assert running.state == "running", (running.state, _said(first))
        time.sleep(1.0)
        _kill(first)  # the whole worker, main process and child: the message stays unacknowledged in Redis
        killed_at = time.monotonic()
        assert ExportJob.objects.get(pk=job.pk).state == "running"  # what used to stay for ever
        second = _worker(sweep_seconds=1, stale_seconds=4)
        finished = _wait(job.pk, {"done", "failed"}, timeout=START_SECONDS)
        assert finished.state in {"done", "failed"}, (finished.state, _said(first, second))
        assert time.monotonic() - killed_at < START_SECONDS + 10
        if finished.state == "failed":
            assert "重新发起导出" in finished.error
        else:
            assert finished.attempts >= 2 and finished.file
    finally:
        _kill(first)
        if second is not None:
            _kill(second, signal.SIGTERM)


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_it_reruns_an_export_whose_worker_child_was_killed(cast, real_broker):
    worker = _worker(beat=False)
    try:
        job = export_request(acting_user=cast.analyst, task=cast.task, kind="slow")
        assert _wait(job.pk, {"running"}, timeout=START_SECONDS).state == "running", _said(worker)
        time.sleep(1.0)
        children = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True).stdout.split()
        assert children
        for pid in children:
            os.kill(int(pid), signal.SIGKILL)  # reject_on_worker_lost: the message goes back to the queue
        finished = _wait(job.pk, {"done", "failed"}, timeout=90)
        assert finished.state == "done"
        assert finished.attempts >= 2
    finally:
        _kill(worker, signal.SIGTERM)


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_it_accepts_an_export_while_redis_is_down_and_dispatches_it_when_back(cast, client, real_broker):
    _point_broker("redis://127.0.0.1:1/0")  # nothing listens there
    client.force_login(cast.analyst)
    started = time.monotonic()
    response = client.post("/exports/start/", {"kind": "slow"}, HTTP_ACCEPT="application/json")
    assert time.monotonic() - started < 10
    assert response.status_code == 201
    job = ExportJob.objects.get(pk=response.json()["id"])
    assert job.state == "queued" and job.dispatched_at is None
    _point_broker(REDIS_URL)  # Redis is back
    worker = _worker(sweep_seconds=1, stale_seconds=30)
    try:
        finished = _wait(job.pk, {"done", "failed"}, timeout=START_SECONDS)
        assert finished.state == "done"
        assert finished.dispatched_at is not None
    finally:
        _kill(worker, signal.SIGTERM)


@pytest.mark.django_db
def test_it_fails_a_job_that_keeps_dying_with_a_chinese_message(cast, settings, monkeypatch):
    from exports import actions

    monkeypatch.setattr(actions, "dispatch", lambda pk: True)
    job = export_request(acting_user=cast.analyst, task=cast.task, kind="task", inline=False)
    old = timezone.now() - timedelta(seconds=settings.FJZL_JOB_STALE_SECONDS + 1)
    ExportJob.objects.filter(pk=job.pk).update(state="running", heartbeat_at=old, attempts=1)
    outcome = jobs_sweep()
    assert outcome.requeued == [job.pk]
    assert ExportJob.objects.get(pk=job.pk).state == "queued"
    ExportJob.objects.filter(pk=job.pk).update(state="running", heartbeat_at=old,
                                               attempts=settings.FJZL_JOB_MAX_ATTEMPTS)
    outcome = jobs_sweep()
    job.refresh_from_db()
    assert outcome.failed == [job.pk]
    assert job.state == "failed" and job.error == STALE_MESSAGE.format(n=settings.FJZL_JOB_MAX_ATTEMPTS)


@pytest.mark.django_db
def test_it_leaves_live_jobs_alone(cast, monkeypatch):
    from exports import actions

    monkeypatch.setattr(actions, "dispatch", lambda pk: True)
    job = export_request(acting_user=cast.analyst, task=cast.task, kind="task", inline=False)
    ExportJob.objects.filter(pk=job.pk).update(state="running", heartbeat_at=timezone.now(), attempts=1)
    outcome = jobs_sweep()
    assert outcome.requeued == [] and outcome.failed == []


def test_it_schedules_the_sweeper_and_limits_tasks(settings):
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert settings.CELERY_TASK_TIME_LIMIT > settings.CELERY_TASK_SOFT_TIME_LIMIT > 0
    schedule = settings.CELERY_BEAT_SCHEDULE["exports-sweep-jobs"]
    assert schedule["task"] == "exports.sweep_jobs" and schedule["schedule"] <= 300
