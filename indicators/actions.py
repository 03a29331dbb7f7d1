"""Changing the rules of a running task: new form versions, then every submission re-evaluated."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User, audit
from engine import Catalog
from reporting.actions import catalog_attach, submissions_reevaluate
from reporting.models import Status, Submission, Task, TaskForm


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
            task_id = task.pk
            transaction.on_commit(lambda: _queue_reevaluation(task_id))
    return changed


def _queue_reevaluation(task_id: int) -> None:
    from indicators.tasks import reevaluate_task

    reevaluate_task.delay(task_id)


def reevaluation_chunks(*, task_id: int, size: int) -> list[tuple[int, int]]:
    """Id ranges of about `size` started submissions each, covering the whole task."""

    ids = list(Submission.objects.filter(task_id=task_id).exclude(status=Status.NOT_STARTED)
               .order_by("pk").values_list("pk", flat=True))
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


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
