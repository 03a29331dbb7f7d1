"""Celery tasks: they take ids, call an action and are idempotent (a delivery is sent at most once)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_delivery(self, delivery_id: int) -> str:
    """Send one delivery; a refused hand-over is retried with the action's backoff (the periodic flush also
    picks it up, so a lost retry message delays a mail but never loses it)."""
    from .actions import delivery_send

    outcome = delivery_send(delivery_id=delivery_id)
    if outcome.state in ("retry", "later") and not self.request.is_eager:
        raise self.retry(countdown=max(outcome.retry_in, 1), max_retries=settings.COMM_MAX_ATTEMPTS + 1)
    return outcome.state


@shared_task
def flush_deliveries() -> dict:
    from .actions import deliveries_flush

    return deliveries_flush()


@shared_task
def send_digests() -> int:
    from .actions import digests_send

    return digests_send()


@shared_task
def send_scheduled_reminders() -> int:
    """What beat runs daily: reminders for every task whose window is near or recently closed."""
    from reporting.models import Task

    from .actions import reminders_send

    now = timezone.now()
    tasks = Task.objects.filter(window_open__lte=now + timedelta(days=settings.COMM_REMIND_BEFORE_DAYS),
                                window_close__gte=now - timedelta(days=settings.COMM_REMIND_OVERDUE_WINDOW_DAYS))
    written = 0
    for task in tasks:
        written += sum(i["deliveries"] for i in reminders_send(acting_user=None, task=task, now=now))
    return written
