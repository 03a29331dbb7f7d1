"""Changing the rules of a running task: new form versions, then every submission re-evaluated by a
re-evaluation job (one Celery task per id range, swept when a worker dies)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from accounts.models import User, audit
from engine import Catalog
from reporting.actions import catalog_attach, submissions_reevaluate
from reporting.models import Status, Submission, Task, TaskForm

from .models import JobState, ReevaluationChunk, ReevaluationJob

log = logging.getLogger(__name__)
CHUNK = 1000  # submissions per Celery task (about a second of a worker process)


def task_catalog_update(*, acting_user: User | None, task: Task, forms: list[dict]) -> list[str]:
    """Point a task at new definitions (validated by the engine first) and re-evaluate in the background.

    Submissions are re-pinned to the new version of their form; the snapshot taken at submission keeps the
    version it was submitted against. Returns the codes of the forms whose definition changed.
    """
    Catalog(forms)  # raises CatalogError listing every problem; nothing is changed then
    with transaction.atomic():
        changed = catalog_attach(acting_user=acting_user, task=task, forms=forms)
        if changed:
            for tf in TaskForm.objects.filter(task=task, form_code__in=changed):
                Submission.objects.filter(task=task, form_code=tf.form_code).update(form_version=tf.version)
            audit(actor=acting_user, action="task_catalog_update", obj=task, forms=changed)
            reevaluation_request(acting_user=acting_user, task_id=task.pk)
    return changed


def reevaluation_chunks(*, task_id: int, size: int) -> list[tuple[int, int]]:
    """Id ranges of about `size` started submissions each, covering the whole task."""
    return [(lo, hi) for lo, hi, _ in _id_ranges(task_id, size)]


def _id_ranges(task_id: int, size: int) -> list[tuple[int, int, int]]:
    ids = list(Submission.objects.filter(task_id=task_id).exclude(status=Status.NOT_STARTED)
               .order_by("pk").values_list("pk", flat=True))
    return [(ids[i], ids[min(i + size, len(ids)) - 1], len(ids[i:i + size])) for i in range(0, len(ids), size)]


def task_reevaluate(*, acting_user: User | None, task_id: int, first_id: int | None = None,
                    last_id: int | None = None) -> tuple[int, int]:
    """Re-evaluate the started submissions of a task (optionally an id range of them) and store the results.

    Returns (evaluated, changed): how many submissions were evaluated and how many stored results changed."""
    qs = Submission.objects.filter(task_id=task_id).exclude(status=Status.NOT_STARTED)
    if first_id is not None:
        qs = qs.filter(pk__gte=first_id, pk__lte=last_id)
    count, changed = submissions_reevaluate(acting_user=acting_user, submissions=qs)
    with transaction.atomic():
        audit(actor=acting_user, action="task_reevaluate", count=count, changed=changed, task_id=task_id,
              first_id=first_id, last_id=last_id)
    return count, changed


# --- re-evaluation jobs --------------------------------------------------------------------------------------

FAILED_MESSAGE = "重新审核失败（第 {first}–{last} 号报表），请联系管理员后重新发起（重新审核任务编号 {id}）。"
STALE_MESSAGE = ("重新审核多次中断（第 {first}–{last} 号报表已尝试 {n} 次），未能完成；"
                 "请重新发起重新审核（manage.py reevaluate --task {task}）。")
ABANDONED_MESSAGE = "所属重新审核任务已失败，本段未执行。"


def reevaluation_request(*, acting_user: User | None, task_id: int, size: int = CHUNK) -> ReevaluationJob:
    """Record a re-evaluation job of the task's started submissions, split into id ranges of about `size`, and
    hand each range to Celery after the transaction commits. If the broker cannot take them, the ranges stay
    queued and undispatched and reevaluation_jobs_sweep dispatches them later."""
    with transaction.atomic():
        ranges = _id_ranges(task_id, size)
        job = ReevaluationJob.objects.create(task_id=task_id, requested_by=acting_user,
                                             total=sum(n for _, _, n in ranges),
                                             state=JobState.QUEUED if ranges else JobState.DONE,
                                             finished_at=None if ranges else timezone.now())
        chunks = ReevaluationChunk.objects.bulk_create(
            [ReevaluationChunk(job=job, first_id=lo, last_id=hi, size=n) for lo, hi, n in ranges])
        audit(actor=acting_user, action="reevaluation_request", obj=job, task_id=task_id, total=job.total,
              chunks=len(chunks))
        ids = [c.pk for c in chunks]
        transaction.on_commit(lambda: reevaluation_dispatch(ids))
    return job


def reevaluation_dispatch(chunk_ids: list[int]) -> list[int]:
    """Hand queued ranges to the broker and note when; returns the ids handed over. A range the broker does not
    take (Redis down) is logged and left queued: the sweeper tries again."""
    from .tasks import reevaluate_job_chunk

    sent = []
    for pk in chunk_ids:
        try:
            reevaluate_job_chunk.apply_async(args=[pk], retry=False)
        except Exception:  # kombu/redis connection errors vary by transport
            log.warning("re-evaluation chunk %s not dispatched (broker unreachable); the sweeper will retry", pk,
                        exc_info=True)
            break  # the broker is down: the rest would fail the same way
        sent.append(pk)
    if sent:
        ReevaluationChunk.objects.filter(pk__in=sent, state=JobState.QUEUED).update(dispatched_at=timezone.now())
    return sent


def reevaluation_chunk_run(*, chunk_id: int) -> ReevaluationChunk:
    """Run one range of a job (the Celery task). Idempotent: a finished range, or one of a failed job, is left
    alone; running a range twice (a redelivered message while the first run lives) stores the same results and
    counts once. A failure fails the job with a Chinese message (the traceback goes to the log)."""
    chunk = ReevaluationChunk.objects.select_related("job").get(pk=chunk_id)
    if chunk.state in (JobState.DONE, JobState.FAILED) or chunk.job.state == JobState.FAILED:
        return chunk
    job_id = chunk.job_id
    now = timezone.now()
    ReevaluationChunk.objects.filter(pk=chunk.pk).update(state=JobState.RUNNING, heartbeat_at=now, error="",
                                                         attempts=models.F("attempts") + 1)
    ReevaluationJob.objects.filter(pk=job_id, state=JobState.QUEUED).update(state=JobState.RUNNING)
    running = ReevaluationChunk.objects.filter(pk=chunk.pk, state=JobState.RUNNING)
    try:
        evaluated, changed = task_reevaluate(acting_user=None, task_id=chunk.job.task_id,
                                             first_id=chunk.first_id, last_id=chunk.last_id)
    except Exception:
        log.exception("re-evaluation chunk %s (job %s) failed", chunk.pk, job_id)
        message = FAILED_MESSAGE.format(first=chunk.first_id, last=chunk.last_id, id=job_id)
        with transaction.atomic():
            running.update(state=JobState.FAILED, error=message, finished_at=timezone.now())
            _fail_job(job_id, message, acting_user=None)
    else:
        with transaction.atomic():
            # the last two ranges may finish at once in two processes: one at a time, so one sees the other done
            list(ReevaluationJob.objects.select_for_update().filter(pk=job_id).values_list("pk", flat=True))
            if running.update(state=JobState.DONE, evaluated=evaluated, changed=changed,
                              finished_at=timezone.now(), heartbeat_at=timezone.now()):
                ReevaluationJob.objects.filter(pk=job_id).update(evaluated=models.F("evaluated") + evaluated,
                                                                 changed=models.F("changed") + changed)
                left = ReevaluationChunk.objects.filter(job_id=job_id).exclude(state=JobState.DONE).exists()
                if not left:
                    ReevaluationJob.objects.filter(pk=job_id, state__in=[JobState.QUEUED, JobState.RUNNING]).update(
                        state=JobState.DONE, finished_at=timezone.now())
                    audit(actor=None, action="reevaluation_done", obj=chunk.job, task_id=chunk.job.task_id)
    chunk.refresh_from_db()
    return chunk


def _fail_job(job_id: int, message: str, *, acting_user: User | None) -> None:
    """Fail a job with `message` (its other unfinished ranges are abandoned); inside the caller's transaction."""
    ReevaluationJob.objects.filter(pk=job_id).exclude(state=JobState.FAILED).update(
        state=JobState.FAILED, error=message, finished_at=timezone.now())
    ReevaluationChunk.objects.filter(job_id=job_id, state__in=[JobState.QUEUED, JobState.RUNNING]).update(
        state=JobState.FAILED, error=ABANDONED_MESSAGE, finished_at=timezone.now())
    audit(actor=acting_user, action="reevaluation_failed", job_id=job_id, error=message)


@dataclass
class SweepOutcome:
    dispatched: list[int] = field(default_factory=list)  # chunk ids handed to the broker
    requeued: list[int] = field(default_factory=list)  # chunk ids whose run died, queued again
    failed: list[int] = field(default_factory=list)  # job ids failed
    closed: list[int] = field(default_factory=list)  # job ids found with every range done, marked done


def reevaluation_jobs_sweep(*, acting_user: User | None = None) -> SweepOutcome:
    """The periodic sweeper (Celery beat, settings.CELERY_BEAT_SCHEDULE): no re-evaluation job stays queued or
    running for ever. Idempotent: a second sweep finds nothing more to do until time passes.

    - a range queued and never handed to the broker (it was down), or handed over long ago and never started:
      dispatch it;
    - a range running without a heartbeat for settings.FJZL_JOB_STALE_SECONDS (its worker was killed): queue it
      again, up to settings.FJZL_JOB_MAX_ATTEMPTS runs, then fail its job with a Chinese message."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.FJZL_JOB_STALE_SECONDS)
    outcome = SweepOutcome()
    Q = models.Q
    with transaction.atomic():
        waiting = (ReevaluationChunk.objects.select_for_update(skip_locked=True, of=("self",))
                   .filter(state=JobState.QUEUED)
                   .filter(Q(dispatched_at__isnull=True, job__created_at__lt=now - timedelta(seconds=2))
                           | Q(dispatched_at__lt=stale)))
        to_dispatch = list(waiting.values_list("pk", flat=True)[:500])
        dead = list(ReevaluationChunk.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(state=JobState.RUNNING)
                    .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True))
                    .values_list("pk", "attempts", "job_id", "first_id", "last_id", "job__task__code")[:500])
        for pk, attempts, job_id, first, last, task_code in dead:
            if job_id in outcome.failed:
                continue
            if attempts >= settings.FJZL_JOB_MAX_ATTEMPTS:
                message = STALE_MESSAGE.format(first=first, last=last, n=attempts, task=task_code)
                ReevaluationChunk.objects.filter(pk=pk).update(state=JobState.FAILED, error=message,
                                                               finished_at=now)
                _fail_job(job_id, message, acting_user=acting_user)
                outcome.failed.append(job_id)
            else:
                ReevaluationChunk.objects.filter(pk=pk).update(state=JobState.QUEUED, dispatched_at=None,
                                                               heartbeat_at=None)
                outcome.requeued.append(pk)
        # a job whose ranges are all done but that was never closed (its last run died after finishing)
        ranges = ReevaluationChunk.objects.filter(job_id=models.OuterRef("pk"))
        finished = list(ReevaluationJob.objects.select_for_update(skip_locked=True)
                        .filter(state__in=[JobState.QUEUED, JobState.RUNNING])
                        .filter(models.Exists(ranges), ~models.Exists(ranges.exclude(state=JobState.DONE)))
                        .values_list("pk", flat=True)[:500])
        if finished:
            ReevaluationJob.objects.filter(pk__in=finished).update(state=JobState.DONE, finished_at=now)
            outcome.closed = finished
        if outcome.failed or outcome.requeued or outcome.closed:
            audit(actor=acting_user, action="reevaluation_jobs_sweep", requeued=outcome.requeued,
                  failed=outcome.failed, closed=outcome.closed)
    outcome.dispatched = reevaluation_dispatch(to_dispatch + outcome.requeued)
    return outcome
