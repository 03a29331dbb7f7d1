"""Background re-evaluation. A task's submissions are split into id ranges, each its own Celery task, so a
worker with several processes evaluates them in parallel (the engine is CPU-bound)."""

from celery import group, shared_task

CHUNK = 1000


@shared_task(acks_late=True)
def reevaluate_task(task_id: int) -> int:
    from indicators.actions import reevaluation_chunks

    chunks = reevaluation_chunks(task_id=task_id, size=CHUNK)
    group(reevaluate_chunk.s(task_id, lo, hi) for lo, hi in chunks).apply_async()
    return len(chunks)


@shared_task(acks_late=True)
def reevaluate_chunk(task_id: int, first_id: int, last_id: int) -> int:
    from indicators.actions import task_reevaluate

    return task_reevaluate(acting_user=None, task_id=task_id, first_id=first_id, last_id=last_id)[0]
