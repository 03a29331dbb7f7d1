"""`{% load entry_rows %}{% field_row row %}`: one field row of the data-entry page (reporting.entry_layout.Row),
rendered in Python — the page has a few hundred of them and the template language spent most of the page's time
on them. The row is left open: the template adds the field's FAQ entries (communication's `field_faq`) and closes
it with its message slot, as templates/reporting/_field.html does:

    {% field_row row %}{% field_faq row %}<div class="field-msg" aria-live="polite"></div></div>
"""

from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from reporting.entry_layout import Row

register = template.Library()

QUICK = ('<button type="button" class="btn btn-outline-secondary quick" data-quick="--" tabindex="-1" title="未统计">'
         '--</button><button type="button" class="btn btn-outline-secondary quick" data-quick="0" tabindex="-1" '
         'title="未开展">0</button>')


def _e(value: object) -> str:
    """HTML-escaped text (Django's escape without its lazy-string wrapper, which cost more than the row)."""
    return escape(str(value), quote=True)


def _selected(row: Row, value: str) -> str:
    return " selected" if row.display == value else ""


def _input(row: Row, editable: bool) -> str:
    ident = f'id="{_e(row.dom_id)}" data-key="{_e(row.key)}"'
    if row.type in ("yesno", "choice"):
        if row.type == "yesno":
            options = (f'<option value="true"{_selected(row, "true")}>是</option>\n'
                       f'<option value="false"{_selected(row, "false")}>否</option>')
        else:
            options = "".join(f'<option value="{_e(c)}"{_selected(row, c)}>{_e(c)}</option>' for c in row.choices)
        return (f'<select class="form-select form-select-sm field-input" {ident}{"" if editable else " disabled"}>\n'
                f'<option value=""{_selected(row, "")}>请选择</option>\n{options}\n'
                f'<option value="--"{_selected(row, "--")}>--（未统计）</option>\n</select>')
    lock = "" if editable else " readonly"
    if row.is_numeric:
        unit = f'<span class="input-group-text">{_e(row.unit)}</span>' if row.unit else ""
        return (f'<div class="input-group input-group-sm">\n<input type="text" inputmode="decimal" autocomplete="off" '
                f'class="form-control field-input" {ident} value="{_e(row.display)}"{lock}>\n{unit}\n'
                f'{QUICK if editable else ""}\n</div>')
    return (f'<input type="text" autocomplete="off" class="form-control form-control-sm field-input" {ident} '
            f'value="{_e(row.display)}" maxlength="1000"{lock}>')


def render_row(row: Row, editable: bool) -> SafeString:
    """The row up to its FAQ entries (the caller closes it)."""
    attrs = f' data-condition="{_e(row.condition)}"' if row.condition else ""
    if row.optional:
        attrs += ' data-optional="1"'
    unit = f'<span class="text-muted small">（{_e(row.unit)}）</span>' if row.unit and not row.is_numeric else ""
    badge = '<span class="badge badge-optional">选填</span>' if row.optional else ""
    toggle = help_text = ""
    dom_id = _e(row.dom_id)
    if row.help:
        toggle = (f'<button type="button" class="btn btn-link btn-sm p-0 ms-1 align-baseline help-toggle" '
                  f'data-bs-toggle="collapse" data-bs-target="#h-{dom_id}" aria-expanded="false" '
                  f'aria-controls="h-{dom_id}" tabindex="-1">说明</button>')
        help_text = f'<div class="collapse field-help small text-muted" id="h-{dom_id}">{_e(row.help)}</div>'
    sections = _e(" ".join(row.sections))
    return mark_safe(
        f'<div class="field-row{"" if row.visible else " d-none"}" data-key="{_e(row.key)}" data-field="{_e(row.code)}" '
        f'data-member="{_e(row.member)}" data-type="{_e(row.type)}" data-sections="{sections}"{attrs}>\n'
        f'<div class="row g-2 align-items-center">\n<div class="col-md-7 field-label">\n'
        f'<label for="{dom_id}">{_e(row.label)}</label>{unit}\n{badge}\n{toggle}\n</div>\n'
        f'<div class="col-md-5">\n{_input(row, editable)}\n</div>\n</div>\n{help_text}\n')


@register.simple_tag(takes_context=True)
def field_row(context: template.Context, row: Row) -> SafeString:
    return render_row(row, bool(context.get("editable")))


@register.simple_tag
def heading(item) -> SafeString:
    """A section heading of the lead form (reporting.entry_layout.Heading), as templates/reporting/_heading.html."""
    anchor = _e(item.anchor)
    ident = f' id="{anchor}"' if item.anchor else ""
    progress = (f' <span class="badge section-progress" data-progress="{anchor}">{item.filled}/{item.required}</span>'
                if item.anchor else " ")
    if item.level == 0:
        return mark_safe(f'<h2 class="section-heading h5 level-0"{ident} data-anchor="{anchor}">{_e(item.title)}'
                         f'{progress}</h2>\n')
    if item.level == 1:
        return mark_safe(f'<h3 class="section-heading h6 level-1"{ident} data-anchor="{anchor}">{_e(item.title)}'
                         f'{progress}</h3>\n')
    return mark_safe(f'<h4 class="section-heading level-2"{ident} data-anchor="{anchor}">{_e(item.title)}</h4>')


@register.simple_tag(takes_context=True)
def member_header(context: template.Context, card) -> SafeString:
    """A collapsed member card (reporting.entry_layout.MemberCard without rows), as templates/reporting/
    _member_card.html renders it: its rows are cloned from the page's one template when it is opened."""
    unit = f' data-unit="{_e(card.unit_code)}"' if card.unit_code else ""
    complete = " is-complete" if card.required and card.filled == card.required else ""
    remove = ('<button type="button" class="btn btn-sm btn-outline-danger ms-auto member-remove">删除</button>'
              if context.get("editable") else "")
    key = _e(card.key)
    return mark_safe(
        f'<details class="card member-card mb-2" id="member-{key}" data-member-key="{key}"{unit}>\n'
        f'<summary class="card-header d-flex align-items-center gap-2">\n'
        f'<span class="member-title fw-semibold">{_e(card.title)}</span>\n'
        f'<span class="badge member-progress{complete}" title="已填/必填">{card.filled}/{card.required}</span>\n'
        f'<span class="member-violations"></span>\n{remove}\n</summary>\n'
        f'<div class="card-body py-2 member-body"></div>\n</details>\n')
