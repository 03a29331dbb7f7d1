from celery import shared_task


@shared_task(acks_late=True)
def reevaluate_task(task_id: int) -> int:
    from indicators.actions import task_reevaluate

    return task_reevaluate(acting_user=None, task_id=task_id)
