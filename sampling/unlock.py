"""Which fields of an approved submission its unit may change now: those with an open rectification item whose
deadline has not passed. Every other field stays locked (the edit policy asks here through its unlock hook)."""

from __future__ import annotations

from django.utils import timezone

from .models import Item, ItemState, Target


def unlocked_fields(submission_id: int) -> set[tuple[str, str]]:
    """(member key or "", field code) of the submission's open field items within their deadline."""
    return set(Item.objects.filter(submission_id=submission_id, target=Target.FIELD, state=ItemState.OPEN,
                                   deadline__gte=timezone.localdate())
               .values_list("member_key", "field_code"))


def open_report_sections(submission_id: int) -> set[str]:
    """Section keys of the self-assessment report the unit must revise (report targets of open items)."""
    return set(Item.objects.filter(submission_id=submission_id, target=Target.REPORT, state=ItemState.OPEN,
                                   deadline__gte=timezone.localdate()).values_list("section", flat=True))


def unlocked_for(user, submission, now=None) -> set[tuple[str, str]]:
    """The field unlocker registered with reporting.policy (only approved / re-checked forms carry items)."""
    from reporting.models import Status

    if submission.status not in (Status.APPROVED, Status.RECHECKED):
        return set()
    return unlocked_fields(submission.pk)
