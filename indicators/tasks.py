"""Background re-evaluation. A task's submissions are split into id ranges (indicators.models.ReevaluationChunk),
each its own Celery task, so a worker with several processes evaluates them in parallel (the engine is
CPU-bound); the sweeper reruns or fails ranges whose worker died. The tasks take ids and call the action layer."""

from celery import shared_task


@shared_task(name="indicators.reevaluate_job_chunk", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def reevaluate_job_chunk(chunk_id: int) -> None:
    """Re-evaluate one id range of a re-evaluation job (queued by indicators.actions.reevaluation_request)."""
    from .actions import reevaluation_chunk_run

    reevaluation_chunk_run(chunk_id=chunk_id)


@shared_task(name="indicators.sweep_reevaluation", ignore_result=True)
def sweep_reevaluation() -> None:
    """Periodic (settings.CELERY_BEAT_SCHEDULE): dispatch undispatched ranges, rerun or fail stale ones."""
    from .actions import reevaluation_jobs_sweep

    reevaluation_jobs_sweep()


# Messages queued before re-evaluation jobs existed (a deploy during a run) still find their task.
@shared_task(acks_late=True)
def reevaluate_task(task_id: int) -> int:
    from .actions import reevaluation_request

    return reevaluation_request(acting_user=None, task_id=task_id).chunks.count()


@shared_task(acks_late=True)
def reevaluate_chunk(task_id: int, first_id: int, last_id: int) -> int:
    from .actions import task_reevaluate

    return task_reevaluate(acting_user=None, task_id=task_id, first_id=first_id, last_id=last_id)[0]
