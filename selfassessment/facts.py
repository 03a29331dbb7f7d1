"""The unit's own facts beside each report section: the computed indicators of its form (value, target,
attainment, previous period) and its soft checks with the unit's explanation.

A section's "facts" in the framework name, per form code, the indicators (`indicators`) and the form sections
(`form_sections`, headings as in the form's field `section` path) that belong to it. Soft checks are those
naming a field of those form sections or an operand of those indicators."""

from __future__ import annotations

import re
from typing import Any

from reporting.models import Submission

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _fmt(value: Any) -> str:
    from review.selectors import display_value

    return display_value(round(value, 2) if isinstance(value, float) else value)


def facts_context(submission: Submission) -> dict:
    """What every section's facts are built from (one previous-period lookup per report)."""
    from review.selectors import indicator_rows, previous_submission

    definition = submission.form_version.definition
    previous = previous_submission(submission)
    rows = indicator_rows(definition, submission.result or {}, previous.result if previous else None)
    field_section = {f["code"]: [s for s in (f.get("section") or []) if s] for f in definition.get("fields", [])}
    labels = {f["code"]: f.get("label", f["code"]) for f in definition.get("fields", [])}
    operands = {ind["code"]: set(IDENT.findall(ind.get("expr", ""))) & set(field_section)
                for ind in definition.get("indicators", [])}
    return {"form": submission.form_code, "rows": {r["code"]: r for r in rows}, "order": [r["code"] for r in rows],
            "field_section": field_section, "labels": labels, "operands": operands,
            "violations": (submission.result or {}).get("violations", []) or [],
            "explanations": submission.explanations or {}}


def section_facts(section: dict, ctx: dict) -> dict:
    """{"indicators": [...], "checks": [...]} of one section for this unit's form."""
    spec = section.get("facts") or {}
    form = ctx["form"]
    wanted = set((spec.get("indicators") or {}).get(form, []))
    headings = set((spec.get("form_sections") or {}).get(form, []))
    fields = {code for code, path in ctx["field_section"].items() if headings & set(path)}
    for code in wanted:
        fields |= ctx["operands"].get(code, set())
    indicators = []
    for code in ctx["order"]:
        if code not in wanted:
            continue
        r = ctx["rows"][code]
        attained = r["attained"]
        indicators.append({
            "code": code, "label": r["label"], "unit": r["unit"], "value": r["value"],
            "value_shown": (r["shown"] + r["unit"]) if r["shown"] else "",
            "reason": r["reason"], "target": r["target"],
            "attainment": "达标" if attained is True else "未达标" if attained is False else "",
            "previous": r["previous"], "previous_shown": (r["previous_shown"] + r["unit"]) if r["previous_shown"] else "",
        })
    checks = []
    for v in ctx["violations"]:
        if v.get("severity") != "soft" or not (set(v.get("fields") or []) & fields):
            continue
        key = v.get("explanation_key") or v.get("check", "")
        checks.append({"check": v.get("check", ""), "message": v.get("message", ""),
                       "explanation": v.get("explanation") or ctx["explanations"].get(key, ""),
                       "fields": [ctx["labels"].get(f, f) for f in v.get("fields") or []]})
    return {"indicators": indicators, "checks": checks}


def fact_sentence(ind: dict) -> str:
    """One indicator as a sentence to insert into the text."""
    if not ind["value_shown"]:
        return f"{ind['label']}：暂无法计算（{ind['reason'] or '数据不全'}）。"
    parts = [f"{ind['label']}为{ind['value_shown']}"]
    if ind["target"]:
        parts.append(f"目标值{ind['target']}，{ind['attainment'] or '—'}")
    if ind["previous_shown"]:
        parts.append(f"上期为{ind['previous_shown']}")
    return "，".join(parts) + "。"
