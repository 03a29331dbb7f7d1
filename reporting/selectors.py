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


def member_name(values: dict | None, unit_name: str | None = None, org_code: str | None = None) -> str:
    """A member entry as a reader knows it: "name（organisation code）"."""
    values = values or {}
    name = values.get("hospital_name") or unit_name or ""
    code = values.get("org_code") or org_code or ""
    name = name if isinstance(name, str) else ""
    code = code if isinstance(code, str) and code != "--" else ""
    if name and code:
        return f"{name}（{code}）"
    return name or code or "未命名的成员单位"
