"""{% sampling_home %}: the rectification box of the home page (open items of a filler's unit; overdue items
of a unit and of its supervisors' subtree)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("sampling/_home.html", takes_context=True)
def sampling_home(context) -> dict:
    from ..selectors import open_items_of_unit, overdue_items

    user = context["request"].user
    if not user.is_authenticated:
        return {"show": False}
    overdue, overdue_count = overdue_items(user)
    mine = open_items_of_unit(user)
    return {"show": bool(overdue or mine), "overdue": overdue, "overdue_count": overdue_count, "mine": mine,
            "is_filler": user.role == "filler"}


@register.inclusion_tag("sampling/_entry.html", takes_context=True)
def sampling_entry(context, submission) -> dict:
    """The open rectification items of this submission on its (read-only) data-entry page."""
    from ..models import Item, ItemState

    items = list(Item.objects.filter(submission=submission).exclude(state=ItemState.CLOSED).order_by("deadline", "id"))
    user = context["request"].user
    return {"items": items, "is_filler": user.is_authenticated and user.role == "filler"}
