"""A readable description of a compiled form (fields, derived checks, indicators) for `manage.py catalog`."""

from __future__ import annotations

DERIVED_DESCRIPTIONS = {
    "of": "“其中”项不能大于合计",
    "int": "计数应为不小于0的整数",
    "pct": "百分比应在0～100之间",
    "nonneg": "数值不能为负数",
    "type": "取值类型应与指标类型一致",
    "scale": "与上期相差约千倍或万倍（疑似填报单位有误）",
}


def _template_text(check) -> str:
    if not check.message:
        return DERIVED_DESCRIPTIONS.get(check.kind, check.expr.source if check.expr is not None else "")
    parts = []
    for kind, text in check.message:
        parts.append(text if kind == "text" else "{" + text + (".label}" if kind == "label" else "}"))
    return "".join(parts)


def describe_form(form) -> dict:
    """A JSON-ready description of a compiled form: fields, checks (derived ones too) and indicators."""
    return {
        "code": form.code,
        "title": form.title,
        "filled_by": form.filled_by,
        "unit_level": form.unit_level,
        "subform": form.subform_code,
        "parent": form.parent,
        "content_hash": form.content_hash,
        "fields": [
            {"code": f.code, "label": f.label, "section": f.section, "unit": f.unit, "type": f.type,
             "choices": f.choices, "optional": f.optional, "condition": f.condition_source, "of": f.of,
             "help": f.help}
            for f in form.fields.values()
        ],
        "checks": [
            {"code": c.code, "severity": c.severity, "scope": c.scope, "kind": c.kind,
             "expr": c.expr.source if c.expr is not None else None, "message": _template_text(c),
             "label": _template_text(c), "fields": list(c.fields), "source": c.source}
            for c in form.all_checks
        ],
        "indicators": [
            {"code": i.code, "label": i.label, "expr": i.expr.source if i.expr is not None else None,
             "unit": i.unit, "definition": i.definition,
             "target": ({"op": i.target.op, "value": i.target.value, "source": i.target.source,
                         "note": i.target.note}
                        if i.target else None)}
            for i in form.indicators
        ],
    }
