"""Writes on tasks and submissions. Each action: one transaction, one audit row."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Unit, UnitLevel, User, audit

from .catalog import attach_catalog, read_catalog
from .models import Submission, Task, TaskForm


@transaction.atomic
def task_create(*, acting_user: User | None, code: str, name: str, period_start, period_end, window_open,
                window_close, catalog_slug: str, previous: Task | None = None, is_current: bool = True) -> Task:
    if is_current:
        Task.objects.filter(is_current=True).update(is_current=False)
    task = Task.objects.create(code=code, name=name, period_start=period_start, period_end=period_end,
                               window_open=window_open, window_close=window_close, catalog_slug=catalog_slug,
                               previous=previous, is_current=is_current)
    _, forms = read_catalog(catalog_slug)
    attach_catalog(task, forms)
    audit(actor=acting_user, action="task_create", obj=task, code=code, catalog=catalog_slug)
    return task


@transaction.atomic
def submissions_ensure(*, acting_user: User | None, task: Task) -> int:
    """Create the (not started) submission row of every unit that must fill a form of this task."""
    created = 0
    task_forms = list(TaskForm.objects.filter(task=task).select_related("version"))
    existing = set(Submission.objects.filter(task=task).values_list("unit_id", "form_code"))
    rows = []
    for tf in task_forms:
        level = tf.version.definition.get("unit_level")
        if not level or level == UnitLevel.MEMBER or tf.version.definition.get("parent"):
            continue  # sub-forms live inside their lead form's submission
        for unit_id in Unit.objects.filter(level=level).values_list("id", flat=True):
            if (unit_id, tf.form_code) not in existing:
                rows.append(Submission(task=task, unit_id=unit_id, form_code=tf.form_code, form_version=tf.version))
    Submission.objects.bulk_create(rows, batch_size=2000)
    created = len(rows)
    if created:
        audit(actor=acting_user, action="submissions_ensure", obj=task, created=created)
    return created
