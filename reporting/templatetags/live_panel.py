"""`{% load live_panel %}`: the repeated rows of the live panel (templates/reporting/_live_details.html) — the
results list and the indicator table — rendered in Python. Every autosave answer carries the panel, and these
loops were most of its rendering time in the template language; the markup is the same."""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _item(v: dict) -> str:
    kind = v.get("kind", "")
    explained = bool(v.get("explained"))
    member_name = v.get("member_name") or ""
    note = ""
    if kind == "soft":
        note = ('<span class="text-success">（已说明）</span>' if explained
                else '<span class="text-muted">（须填写说明）</span>')
    return format_html(
        '<li class="live-item live-{}{}" data-kind="{}" data-check="{}">\n'
        '<a href="#" data-goto-field="{}" data-goto-member="{}">{}{}</a>\n{}\n</li>',
        kind, " is-explained" if explained else "", kind, v.get("check", ""), v.get("field", ""),
        v.get("member", ""), f"{member_name}：" if member_name else "", v.get("message", ""), mark_safe(note))


@register.simple_tag
def live_items(items: list[dict]) -> SafeString:
    """The <li> of each problem in the results list (review_tags.live_state's items)."""
    return mark_safe("\n".join(_item(v) for v in items))


def _indicator(i: dict) -> str:
    value, reason, unit, attained = i.get("value"), i.get("reason") or "", i.get("unit") or "", i.get("attained")
    label = conditional_escape(i.get("label", ""))
    if value is None and reason:
        label = format_html('{}<div class="text-muted indicator-reason">{}</div>', label, reason)
    if value is None:
        shown = format_html('<span class="text-muted" title="{}">—</span>', reason or "尚未计算")
    elif unit == "%":
        shown = format_html("{}%", i.get("shown", ""))
    elif unit:
        shown = format_html('{}<span class="text-muted"> {}</span>', i.get("shown", ""), unit)
    else:
        shown = conditional_escape(i.get("shown", ""))
    if attained is True:
        shown += mark_safe(' <span class="badge text-bg-success">达标</span>')
    elif attained is False:
        shown += mark_safe(' <span class="badge text-bg-danger">未达标</span>')
    return format_html('<tr data-indicator="{}"><td class="small">{}</td>\n'
                       '<td class="text-end small text-nowrap">{}</td>\n'
                       '<td class="text-end small text-nowrap">{}</td></tr>',
                       i.get("code", ""), label, shown, i.get("target", ""))


@register.simple_tag
def indicator_rows(indicators: list[dict]) -> SafeString:
    """The <tr> of each indicator (review.selectors.indicator_rows), or the row saying there is none."""
    if not indicators:
        return mark_safe('<tr><td colspan="3" class="text-muted small">本表没有计算指标。</td></tr>')
    return mark_safe("\n".join(_indicator(i) for i in indicators))
