"""Re-evaluation jobs finish or fail visibly: a rule change becomes a job of id ranges; a range whose worker died
is run again by the sweeper or, after the last attempt, fails its job with a Chinese message. Simulated at the
database level (a "running" range without a fresh heartbeat is what a SIGKILLed worker leaves behind)."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from indicators import actions as jobs
from indicators.models import ReevaluationChunk, ReevaluationJob
from indicators.tasks import reevaluate_job_chunk
from reporting import actions
from reporting.catalog_loader import read_catalog
from reporting.models import Submission

pytestmark = pytest.mark.django_db


def _start(cast, n: int = 3) -> list[Submission]:
    users = (cast.jinan_urban, cast.jinan_urban2, cast.qingdao_urban, cast.zy_urban)[:n]
    subs = [cast.submission(u, "t3") for u in users]
    for u, s in zip(users, subs, strict=True):
        actions.submission_save(acting_user=u, submission_id=s.pk,
                                changes=[{"field": "total_surgeries", "value": 100},
                                         {"field": "grade34_surgeries", "value": 90}])
    return subs


@pytest.fixture
def broker(monkeypatch):
    """The broker takes every message but nothing runs it (as if no worker were listening yet)."""
    sent: list[int] = []
    monkeypatch.setattr(reevaluate_job_chunk, "apply_async", lambda args, **kw: sent.append(args[0]))
    return sent


def _stale(settings) -> timezone.datetime:
    return timezone.now() - timedelta(seconds=settings.FJZL_JOB_STALE_SECONDS + 1)


def test_it_runs_a_rule_change_as_a_job_that_ends_done_with_its_counts(cast, django_capture_on_commit_callbacks):
    subs = _start(cast)
    _, forms = read_catalog("fjzl2019")
    forms = copy.deepcopy(forms)
    next(f for f in forms if f["code"] == "t3")["checks"].append(
        {"code": "t3.c99", "severity": "hard", "scope": "form", "expr": "grade34_surgeries * 2 <= total_surgeries",
         "message": None, "source": "test"})
    with django_capture_on_commit_callbacks(execute=True):
        jobs.task_catalog_update(acting_user=cast.admin, task=cast.task, forms=forms)
    job = ReevaluationJob.objects.get(task=cast.task)
    started = Submission.objects.filter(task=cast.task).exclude(status="not_started").count()
    assert (job.state, job.total, job.evaluated, job.error) == ("done", started, started, "")
    assert job.changed >= len(subs) and job.finished_at is not None
    for s in subs:
        s.refresh_from_db()
        assert any(v["check"] == "t3.c99" for v in s.result["violations"])


def test_it_requeues_a_range_whose_worker_died_then_fails_the_job_with_a_chinese_message(
        cast, settings, broker, django_capture_on_commit_callbacks):
    _start(cast)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.reevaluation_request(acting_user=cast.admin, task_id=cast.task.pk, size=2)
    chunk = job.chunks.first()
    assert job.chunks.count() >= 2 and chunk.pk in broker
    ReevaluationChunk.objects.filter(pk=chunk.pk).update(state="running", heartbeat_at=_stale(settings), attempts=1)

    outcome = jobs.reevaluation_jobs_sweep()
    assert outcome.requeued == [chunk.pk] and chunk.pk in outcome.dispatched
    chunk.refresh_from_db()
    assert chunk.state == "queued" and chunk.dispatched_at is not None
    assert broker.count(chunk.pk) == 2  # handed to the broker again

    ReevaluationChunk.objects.filter(pk=chunk.pk).update(state="running", heartbeat_at=_stale(settings),
                                                         attempts=settings.FJZL_JOB_MAX_ATTEMPTS)
    outcome = jobs.reevaluation_jobs_sweep()
    job.refresh_from_db()
    assert outcome.failed == [job.pk] and outcome.requeued == []
    assert job.state == "failed" and job.finished_at is not None
    assert job.error == jobs.STALE_MESSAGE.format(first=chunk.first_id, last=chunk.last_id,
                                                  n=settings.FJZL_JOB_MAX_ATTEMPTS, task=cast.task.code)
    assert "重新审核多次中断" in job.error
    assert set(job.chunks.values_list("state", flat=True)) == {"failed"}  # the other ranges are not run
    assert AuditEvent.objects.filter(action="reevaluation_jobs_sweep").count() == 2

    # idempotent: sweeping again changes nothing, and a late message of the failed job does nothing
    again = jobs.reevaluation_jobs_sweep()
    assert (again.requeued, again.failed, again.dispatched) == ([], [], [])
    jobs.reevaluation_chunk_run(chunk_id=job.chunks.last().pk)
    job.refresh_from_db()
    assert job.state == "failed" and job.evaluated == 0


def test_it_leaves_live_ranges_alone_and_sweeps_idempotently(cast, settings, broker,
                                                             django_capture_on_commit_callbacks):
    _start(cast)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.reevaluation_request(acting_user=None, task_id=cast.task.pk, size=2)
    live, dead = list(job.chunks.all())[:2]
    ReevaluationChunk.objects.filter(pk=live.pk).update(state="running", heartbeat_at=timezone.now(), attempts=1)
    ReevaluationChunk.objects.filter(pk=dead.pk).update(state="running", heartbeat_at=_stale(settings), attempts=1)
    first = jobs.reevaluation_jobs_sweep()
    second = jobs.reevaluation_jobs_sweep()
    assert first.requeued == [dead.pk] and first.failed == []
    assert (second.requeued, second.failed) == ([], [])
    assert ReevaluationChunk.objects.get(pk=live.pk).state == "running"
    assert broker.count(dead.pk) == 2  # once at the request, once by the first sweep; not by the second


def test_it_dispatches_ranges_the_broker_refused_once_it_is_back(cast, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    _start(cast)

    def down(args, **kw):
        raise ConnectionError("redis down")

    monkeypatch.setattr(reevaluate_job_chunk, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.reevaluation_request(acting_user=None, task_id=cast.task.pk, size=2)
    assert set(job.chunks.values_list("state", flat=True)) == {"queued"}
    assert not job.chunks.filter(dispatched_at__isnull=False).exists()
    ReevaluationJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(seconds=5))
    monkeypatch.undo()  # the broker is back: the (eager) worker runs what the sweeper hands over
    outcome = jobs.reevaluation_jobs_sweep()
    job.refresh_from_db()
    assert sorted(outcome.dispatched) == sorted(job.chunks.values_list("pk", flat=True))
    assert job.state == "done" and job.evaluated == job.total > 0


def test_it_counts_a_redelivered_range_once(cast, broker, django_capture_on_commit_callbacks):
    _start(cast)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.reevaluation_request(acting_user=None, task_id=cast.task.pk, size=1000)
    (chunk,) = job.chunks.all()
    jobs.reevaluation_chunk_run(chunk_id=chunk.pk)
    jobs.reevaluation_chunk_run(chunk_id=chunk.pk)  # the broker delivered the message again
    job.refresh_from_db()
    assert job.state == "done" and job.evaluated == job.total


def test_it_fails_the_job_with_a_chinese_message_when_a_range_raises(cast, broker, monkeypatch,
                                                                     django_capture_on_commit_callbacks):
    _start(cast)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.reevaluation_request(acting_user=None, task_id=cast.task.pk, size=1000)

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(jobs, "task_reevaluate", broken)
    chunk = jobs.reevaluation_chunk_run(chunk_id=job.chunks.get().pk)
    job.refresh_from_db()
    assert chunk.state == "failed" and job.state == "failed"
    assert job.error.startswith("重新审核失败") and "boom" not in job.error and "RuntimeError" not in job.error


def test_it_schedules_the_reevaluation_sweeper(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["indicators-sweep-reevaluation"]
    assert entry["task"] == "indicators.sweep_reevaluation" and entry["schedule"] <= 300


def test_it_closes_a_job_whose_ranges_all_finished_but_that_was_left_running(cast, broker,
                                                                            django_capture_on_commit_callbacks):
    _start(cast)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.reevaluation_request(acting_user=None, task_id=cast.task.pk, size=2)
    job.chunks.update(state="done")  # the last run died between finishing its range and closing the job
    ReevaluationJob.objects.filter(pk=job.pk).update(state="running")
    outcome = jobs.reevaluation_jobs_sweep()
    job.refresh_from_db()
    assert outcome.closed == [job.pk] and job.state == "done"
    assert jobs.reevaluation_jobs_sweep().closed == []


def test_it_shows_a_failed_job_and_its_chinese_reason_in_the_admin(cast, client, settings, broker,
                                                                    django_capture_on_commit_callbacks):
    from django.urls import reverse

    _start(cast)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.reevaluation_request(acting_user=cast.admin, task_id=cast.task.pk, size=1000)
    job.chunks.update(state="running", heartbeat_at=_stale(settings), attempts=settings.FJZL_JOB_MAX_ATTEMPTS)
    jobs.reevaluation_jobs_sweep()
    client.force_login(cast.admin)
    page = client.get(reverse("admin:indicators_reevaluationjob_changelist")).content.decode()
    assert "重新审核任务" in page and "失败" in page and "重新审核多次中断" in page
