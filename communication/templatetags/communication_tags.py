"""Template tags other pages include: the home page's notice list and the FAQ entries at a form field."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.inclusion_tag("communication/_home_notices.html", takes_context=True)
def home_notices(context, limit: int = 5):
    from ..selectors import home_notices as rows
    from ..selectors import unread_count

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"notices": [], "unread": 0}
    return {"notices": rows(user, limit), "unread": unread_count(user)}


@register.simple_tag(takes_context=True)
def field_faq(context, row):
    """FAQ entries of this field, next to its 说明 (one query per page: all entries of the page's forms are
    loaded once and kept on the request; a field without entries renders nothing)."""
    request = context.get("request")
    submission = context.get("submission")
    if request is None or submission is None:
        return ""
    definition = context.get("definition") or {}
    form_code = (definition.get("subform") or submission.form_code) if row.member else submission.form_code
    cache = getattr(request, "_comm_faq", None)
    if cache is None:
        from ..selectors import faq_by_field

        codes = [submission.form_code] + ([definition["subform"]] if definition.get("subform") else [])
        cache = faq_by_field(codes)
        request._comm_faq = cache
    entries = cache.get((form_code, row.code))
    if not entries:
        return ""
    return render_to_string("communication/_field_faq.html", {"entries": entries, "row": row})
