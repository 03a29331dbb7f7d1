"""Read-side queries, always scoped by the acting user's unit."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Role, User

from .models import Submission, Task


def current_task() -> Task | None:
    return Task.objects.filter(is_current=True).order_by("-period_end").first() or Task.objects.first()


def submissions_for(user: User) -> QuerySet[Submission]:
    """Submissions the user may read: own unit for fillers; own subtree for reviewers/analysts; all for admins."""
    qs = Submission.objects.select_related("unit", "task", "form_version")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser or user.role == Role.ADMIN:
        return qs
    if user.unit_id is None:
        return qs.none()
    if user.role == Role.FILLER:
        return qs.filter(unit_id=user.unit_id)
    return qs.filter(unit__path__startswith=user.unit.path)


def submission_for(user: User, pk: int) -> Submission:
    """One submission in the user's scope, or 404."""
    return get_object_or_404(submissions_for(user), pk=pk)
