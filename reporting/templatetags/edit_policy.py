"""`{% load edit_policy %}{% can_edit submission as decision %}`: the edit policy (reporting.policy.can_edit) for templates."""

from __future__ import annotations

from django import template

from reporting.models import Submission
from reporting.policy import EditDecision
from reporting.policy import can_edit as policy_can_edit

register = template.Library()


@register.simple_tag(takes_context=True)
def can_edit(context: template.Context, submission: Submission) -> EditDecision:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None:
        return EditDecision(False, "未登录", "role")
    return policy_can_edit(user, submission)
