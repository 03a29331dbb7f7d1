"""Celery tasks of the sampling app: they call an action and are safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="sampling.remind_due_items")
def remind_due_items() -> int:
    """What beat runs daily: 整改事项到期 reminders (one per item and day, however often it runs)."""
    from .actions import items_remind_due

    return len(items_remind_due())
