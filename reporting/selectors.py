"""Read-side queries, always scoped by the acting user's unit."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from accounts.scoping import unit_scope

from .models import Submission, Task


def current_task() -> Task | None:
    return Task.objects.filter(is_current=True).order_by("-period_end").first() or Task.objects.first()


def submissions_for(user: User) -> QuerySet[Submission]:
    """Submissions of the units the user may read (accounts.scoping's rule: own unit for fillers, own subtree
    for reviewers/analysts, everything for admins)."""
    qs = Submission.objects.select_related("unit", "task", "form_version")
    scope = unit_scope(user, "unit__")
    return qs if scope is None else qs.filter(scope)


def submission_for(user: User, pk: int) -> Submission:
    """One submission in the user's scope, or 404."""
    return get_object_or_404(submissions_for(user), pk=pk)
