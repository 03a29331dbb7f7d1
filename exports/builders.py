"""The built-in export kinds: "task" (every form of a task, a sheet per form and member sub-form) and "audit"
(every saved change of a value). Both read straight from the database with .values_list().iterator(), so a
national export of tens of thousands of forms never holds more than one chunk of rows in memory."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.db.models.fields.json import KeyTransform

from accounts.models import Unit, UnitLevel, User
from reporting.catalog_loader import task_definitions
from reporting.models import MemberEntry, Status, Submission, Task, ValueChange
from reporting.selectors import member_name, submissions_for

from .registry import Sheet, register

CHUNK = 2000
STATUS_LABELS = dict(Status.choices)
LEVEL_LABELS = dict(UnitLevel.choices)
NUMBER_FORMATS = {"count": "#,##0", "decimal": "#,##0.00", "percent": "0.00"}
ATTAINMENT_LABELS = {True: "达标", False: "未达标", None: "无法计算"}
SEVERITY_LABELS = {"hard": "强制性", "soft": "合理性"}
INFO = "单位信息"
MEMBER_INFO = "成员单位信息"


# --- scoping ------------------------------------------------------------------------------------------------

def scoped_submissions(user: User | None, task: Task, params: dict) -> QuerySet[Submission]:
    """The task's submissions the user may read (everything for user=None: the trusted command line),
    limited to the subtree of params["unit"] when given."""
    qs = Submission.objects.all() if user is None else submissions_for(user)
    qs = qs.filter(task=task)
    unit_code = params.get("unit")
    if unit_code:
        unit = Unit.objects.filter(code=unit_code).first()
        if unit is None:
            return qs.none()
        qs = qs.filter(unit__path__startswith=unit.path)
    return qs


# --- columns ------------------------------------------------------------------------------------------------

def header_label(label: str, unit: str | None) -> str:
    return f"{label}（{unit}）" if unit else label


def section_text(section: list[str] | str | None) -> str:
    if not section:
        return ""
    if isinstance(section, str):
        return section
    return " / ".join(s for s in section if s)


def form_number(definition: dict) -> str:
    match = re.match(r"\s*(表\s*\d+)", definition.get("title") or "")
    return match.group(1).replace(" ", "") if match else definition.get("code", "")


def sheet_title(definition: dict, definitions: dict[str, dict]) -> str:
    """"表1 省级", "表3 城市医联体", "表3 成员单位" …"""
    parent_code = definition.get("parent")
    if parent_code:
        parent = definitions.get(parent_code, {})
        label = parent.get("member_label") or "成员单位"
        label = re.sub(r"[（(].*?[）)]", "", label).strip() or label
        return f"{form_number(parent or definition)} {label}"
    level = LEVEL_LABELS.get(definition.get("unit_level") or "", "")
    return f"{form_number(definition)} {level}".strip()


def _identifiers(expr: str) -> list[str]:
    """Field codes an expression names, in order (a light scan; labels only, never evaluated)."""
    out: list[str] = []
    for name in re.findall(r"(?<![.\w'])[a-z][a-z0-9_]*", expr):
        if name not in out:
            out.append(name)
    return out


def target_text(target: dict | None, unit: str) -> str:
    if not target:
        return ""
    op = {">=": "≥", "<=": "≤", "!=": "≠", "==": "="}.get(target.get("op"), target.get("op", ""))
    value = target.get("value")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{op}{value}{unit or ''}"


def attained(value: Any, target: dict) -> bool | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    goal = target.get("value")
    if not isinstance(goal, int | float):
        return None
    op = target.get("op")
    return {">=": value >= goal, "<=": value <= goal, ">": value > goal, "<": value < goal,
            "==": value == goal, "!=": value != goal}.get(op)


@dataclass
class FormColumns:
    """The columns of one form's sheet after the fixed unit columns."""

    definition: dict
    field_codes: list[str] = field(default_factory=list)
    indicator_codes: list[str] = field(default_factory=list)
    targets: list[tuple[str, dict]] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    formats: list[str | None] = field(default_factory=list)
    check_labels: dict[str, str] = field(default_factory=dict)
    field_labels: dict[str, str] = field(default_factory=dict)
    check_fields: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, definition: dict, *, member: bool = False) -> FormColumns:
        """Field columns, then indicators; a lead form also gets target attainment and check results."""
        cols = cls(definition=definition)
        for f in definition.get("fields", []):
            cols.field_codes.append(f["code"])
            cols.sections.append(section_text(f.get("section")) or "填报内容")
            cols.labels.append(header_label(f.get("label", f["code"]), f.get("unit")))
            cols.formats.append(NUMBER_FORMATS.get(f.get("type")))
        indicators = definition.get("indicators") or []
        for ind in indicators:
            cols.indicator_codes.append(ind["code"])
            cols.sections.append("计算指标")
            cols.labels.append(header_label(ind.get("label", ind["code"]), ind.get("unit")))
            cols.formats.append("0.00" if ind.get("unit") == "%" else "#,##0.00")
        if member:
            return cols
        for ind in indicators:
            if ind.get("target"):
                cols.targets.append((ind["code"], ind["target"]))
                cols.sections.append("目标达标情况")
                goal = target_text(ind["target"], ind.get("unit", ""))
                cols.labels.append(f"{ind.get('label', ind['code'])}（目标{goal}）" if goal else ind["code"])
                cols.formats.append(None)
        for label in ("强制性审核未通过（条）", "合理性审核提示（条）", "审核问题", "填报说明"):
            cols.sections.append("审核结果")
            cols.labels.append(label)
            cols.formats.append("0" if "（条）" in label else None)
        cols.check_labels = {c["code"]: c.get("message") or c["code"] for c in definition.get("checks", [])}
        cols.field_labels = {f["code"]: f.get("label") or f["code"] for f in definition.get("fields", [])}
        names = set(cols.field_labels)
        cols.check_fields = {c["code"]: [n for n in _identifiers(c.get("expr") or "") if n in names]
                             for c in definition.get("checks", [])}
        return cols

    def result_cells(self, result: dict | None, explanations: dict | None) -> list[Any]:
        result = result or {}
        indicators = result.get("indicators") or {}
        cells: list[Any] = [indicators.get(code) for code in self.indicator_codes]
        attainment = result.get("attainment")
        for code, target in self.targets:
            if isinstance(attainment, dict) and code in attainment:
                verdict = attainment.get(code)
            else:
                verdict = attained(indicators.get(code), target)
            cells.append(ATTAINMENT_LABELS.get(verdict, "无法计算"))
        violations = result.get("violations") or []
        hard = sum(1 for v in violations if v.get("severity") == "hard")
        cells.append(hard)
        cells.append(len(violations) - hard)
        cells.append("\n".join(
            f"【{SEVERITY_LABELS.get(v.get('severity'), '')}】{v.get('message') or v.get('check', '')}"
            for v in violations) or None)
        cells.append(self.explanation_text(violations, explanations))
        return cells

    def explanation_text(self, violations: list[dict], explanations: dict | None) -> str | None:
        """填写说明, each under what it explains: the fields' labels and the check's message, never a code."""
        by_key = {v.get("explanation_key") or v.get("check"): v for v in violations}
        lines = []
        for key, text in (explanations or {}).items():
            if not text:
                continue
            violation = by_key.get(key)
            if violation is not None:
                labels = "、".join(self.field_labels.get(c, "") for c in violation.get("fields") or []
                                  if self.field_labels.get(c)) if not violation.get("member") else ""
                message = violation.get("message") or ""
            else:  # explained earlier, no longer violated: say which rule it was about
                check = self.check_fields.get(key.partition("@")[0])
                labels = "、".join(self.field_labels[c] for c in check or () if c in self.field_labels)
                message = "（该审核提示已不再出现）"
            head = f"【{labels}】" if labels else ""
            lines.append(f"{head}{message} 说明：{text}".strip())
        return "\n".join(lines) or None


# --- the "task" kind ----------------------------------------------------------------------------------------

LEAD_FIXED = ["单位编码", "单位名称", "上级单位编码", "上级单位名称", "状态", "上报时间", "审核通过时间"]
MEMBER_FIXED = ["牵头单位编码", "牵头单位名称", "序号", "成员单位名称", "医院组织机构代码"]


def _lead_sheet(name: str, qs: QuerySet[Submission], cols: FormColumns) -> Sheet:
    fixed = len(LEAD_FIXED)
    header = [[INFO] * fixed + cols.sections, LEAD_FIXED + cols.labels]
    field_codes = cols.field_codes
    result_cells = cols.result_cells
    status_labels = STATUS_LABELS

    def rows() -> Iterator[list[Any]]:
        values_qs = qs.order_by("unit__path").values_list(
            "unit__code", "unit__name", "unit__parent__code", "unit__parent__name", "status", "submitted_at",
            "approved_at", "values", "explanations", "result")
        for code, uname, pcode, pname, status, sub_at, appr_at, values, expl, result in values_qs.iterator(
                chunk_size=CHUNK):
            get = (values or {}).get
            row = [code, uname, pcode, pname, status_labels.get(status, status), sub_at, appr_at]
            row += [get(c) for c in field_codes]
            row += result_cells(result, expl)
            yield row

    total_cols = fixed + len(cols.labels)
    return Sheet(name=name, header_rows=header, rows=rows(),
                 number_formats=[None] * fixed + cols.formats, freeze_cols=2,
                 wrap_cols=(total_cols - 2, total_cols - 1))


def _member_sheet(name: str, lead_qs: QuerySet[Submission], cols: FormColumns) -> Sheet:
    header = [[INFO] * 2 + [MEMBER_INFO] * 3 + cols.sections, MEMBER_FIXED + cols.labels]
    field_codes = cols.field_codes

    indicator_codes = cols.indicator_codes

    def rows() -> Iterator[list[Any]]:
        # The engine lists member indicators in entry order (position, id) in the lead's result.
        entries = (MemberEntry.objects.filter(submission__in=lead_qs.values("pk"))
                   .order_by("submission__unit__path", "submission_id", "position", "id")
                   .annotate(member_indicators=KeyTransform("member_indicators", "submission__result"))
                   .values_list("submission_id", "submission__unit__code", "submission__unit__name",
                                "member_unit__name", "member_unit__org_code", "values", "member_indicators"))
        current, seq = None, 0
        for sid, lead_code, lead_name, member_unit_name, member_org_code, values, member_indicators in entries.iterator(
                chunk_size=CHUNK):
            if sid != current:
                current, seq = sid, 0
            seq += 1
            values = values or {}
            # A member is named by its name and organisation code, as the clerk entered them (the entry's
            # internal key means nothing to a reader).
            label = values.get("hospital_name") or member_unit_name or values.get("name")
            org_code = values.get("org_code") or member_org_code
            row = [lead_code, lead_name, seq, label if isinstance(label, str) else None,
                   org_code if isinstance(org_code, str) else None]
            get = values.get
            row += [get(c) for c in field_codes]
            if indicator_codes:
                if isinstance(member_indicators, str):  # some backends hand the JSON fragment back as text
                    member_indicators = json.loads(member_indicators)
                mine = (member_indicators[seq - 1] if isinstance(member_indicators, list)
                        and len(member_indicators) >= seq else None) or {}
                row += [mine.get(c) for c in indicator_codes]
            yield row

    return Sheet(name=name, header_rows=header, rows=rows(), number_formats=[None, None, "0", None, None]
                 + cols.formats, freeze_cols=4, widths=[None, None, None, None, 12])


def _form_plan(user: User | None, task: Task, params: dict) -> list[tuple[str, str, dict, QuerySet, QuerySet]]:
    """(sheet title, "lead"|"member", definition, rows to count, lead submissions) per sheet, in form order."""
    definitions = task_definitions(task)
    base = scoped_submissions(user, task, params)
    only = _form_codes(params.get("forms"))
    plan = []
    for code in sorted(definitions):
        definition = definitions[code]
        if only and code not in only and (definition.get("parent") not in only):
            continue
        title = sheet_title(definition, definitions)
        parent = definition.get("parent")
        if parent:
            lead_qs = base.filter(form_code=parent)
            plan.append((title, "member", definition, MemberEntry.objects.filter(submission__in=lead_qs.values("pk")),
                         lead_qs))
        else:
            qs = base.filter(form_code=code)
            plan.append((title, "lead", definition, qs, qs))
    return plan


def _form_codes(raw: Any) -> set[str]:
    """params["forms"]: a list of form codes or one comma-separated string ("t1,t3"); empty = all forms."""
    if not raw:
        return set()
    items = raw if isinstance(raw, list | tuple | set) else str(raw).split(",")
    return {str(code).strip() for code in items if str(code).strip()}


def count_task_rows(user: User | None, task: Task, params: dict) -> int:
    return sum(item[3].count() for item in _form_plan(user, task, params))


def task_export(user: User | None, task: Task, params: dict) -> Iterator[Sheet]:
    """A sheet per form and per member sub-form; sheets without rows are left out."""
    for title, kind, definition, _count_qs, qs in _form_plan(user, task, params):
        if not qs.exists():  # a member sheet is there whenever its lead form is, even with no member yet
            continue
        if kind == "lead":
            yield _lead_sheet(title, qs, FormColumns.of(definition))
        else:
            yield _member_sheet(title, qs, FormColumns.of(definition, member=True))


# --- the "audit" kind: every saved change of a value --------------------------------------------------------

AUDIT_HEADER = ["修改时间", "单位编码", "单位名称", "表单", "成员单位", "指标编码", "指标名称", "原值", "新值", "修改人"]


def _plain(value: Any) -> Any:
    if isinstance(value, dict | list):
        return str(value)
    return value


def audit_export(user: User | None, task: Task, params: dict) -> Iterator[Sheet]:
    definitions = task_definitions(task)
    labels = {(code, f["code"]): f.get("label", f["code"]) for code, d in definitions.items()
              for f in d.get("fields", [])}
    subform_of = {code: d.get("subform") for code, d in definitions.items()}
    titles = {code: d.get("title", code) for code, d in definitions.items()}
    subs = scoped_submissions(user, task, params)

    def rows() -> Iterator[list[Any]]:
        members = {(sid, key): member_name(values, unit_name, org_code) for sid, key, values, unit_name, org_code in
                   MemberEntry.objects.filter(submission__in=subs.values("pk"))
                   .values_list("submission_id", "key", "values", "member_unit__name", "member_unit__org_code")}
        changes = (ValueChange.objects.filter(submission__in=subs.values("pk"))
                   .order_by("at", "id")
                   .values_list("at", "submission_id", "submission__unit__code", "submission__unit__name",
                                "submission__form_code", "member_key", "field_code", "old", "new",
                                "actor__username", "actor__display_name"))
        for at, sid, ucode, uname, form_code, member_key, fcode, old, new, username, display in changes.iterator(
                chunk_size=CHUNK):
            form = subform_of.get(form_code) if member_key else form_code
            label = labels.get((form or form_code, fcode), fcode)
            member = (members.get((sid, member_key)) or "（已删除的成员单位）") if member_key else None
            yield [at, ucode, uname, titles.get(form_code, form_code), member, fcode, label,
                   _plain(old), _plain(new), display or username]

    yield Sheet(name="修改记录", header_rows=[AUDIT_HEADER], rows=rows(), freeze_cols=3,
                number_formats=None)


def count_audit_rows(user: User | None, task: Task, params: dict) -> int:
    subs = scoped_submissions(user, task, params)
    return ValueChange.objects.filter(submission__in=subs.values("pk")).count()


register("task", task_export, label="任务数据", count=count_task_rows, menu=True)
register("audit", audit_export, label="修改记录", count=count_audit_rows, menu=True)

