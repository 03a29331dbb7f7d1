"""`{% load live_panel %}`: the repeated rows of the live panel (templates/reporting/_live_details.html) — the
results list and the indicator table — rendered in Python. Every autosave answer carries the panel, and these
loops were most of its rendering time in the template language; the markup is the same."""

from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _item(v: dict) -> str:
    kind = _e(v.get("kind", ""))
    explained = bool(v.get("explained"))
    member_name = v.get("member_name") or ""
    note = ""
    if kind == "soft":
        note = ('<span class="text-success">（已说明）</span>' if explained
                else '<span class="text-muted">（须填写说明）</span>')
    return (f'<li class="live-item live-{kind}{" is-explained" if explained else ""}" data-kind="{kind}" '
            f'data-check="{_e(v.get("check", ""))}">\n<a href="#" data-goto-field="{_e(v.get("field", ""))}" '
            f'data-goto-member="{_e(v.get("member", ""))}">{_e(member_name) + "：" if member_name else ""}'
            f'{_e(v.get("message", ""))}</a>\n{note}\n</li>')


@register.simple_tag
def live_items(items: list[dict]) -> SafeString:
    """The <li> of each problem in the results list (review_tags.live_state's items)."""
    return mark_safe("\n".join(_item(v) for v in items))


def _indicator(i: dict) -> str:
    value, reason, unit, attained = i.get("value"), i.get("reason") or "", i.get("unit") or "", i.get("attained")
    label = _e(i.get("label", ""))
    if value is None and reason:
        label += f'<div class="text-muted indicator-reason">{_e(reason)}</div>'
    if value is None:
        shown = f'<span class="text-muted" title="{_e(reason or "尚未计算")}">—</span>'
    elif unit == "%":
        shown = f'{_e(i.get("shown", ""))}%'
    elif unit:
        shown = f'{_e(i.get("shown", ""))}<span class="text-muted"> {_e(unit)}</span>'
    else:
        shown = _e(i.get("shown", ""))
    if attained is True:
        shown += ' <span class="badge text-bg-success">达标</span>'
    elif attained is False:
        shown += ' <span class="badge text-bg-danger">未达标</span>'
    return (f'<tr data-indicator="{_e(i.get("code", ""))}"><td class="small">{label}</td>\n'
            f'<td class="text-end small text-nowrap">{shown}</td>\n'
            f'<td class="text-end small text-nowrap">{_e(i.get("target", ""))}</td></tr>')


@register.simple_tag
def indicator_rows(indicators: list[dict]) -> SafeString:
    """The <tr> of each indicator (review.selectors.indicator_rows), or the row saying there is none."""
    if not indicators:
        return mark_safe('<tr><td colspan="3" class="text-muted small">本表没有计算指标。</td></tr>')
    return mark_safe("\n".join(_indicator(i) for i in indicators))
