"""Read side of the review workflow: the reviewer's queue, the progress board (进度明细), a submission's review
data (values by section, previous period, indicators) and its audit trail. Always scoped through
reporting.selectors.submissions_for / accounts.scoping."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Role, Unit, UnitLevel, User
from engine import format_value
from reporting.models import Status, Submission, Task, TaskForm, Transition, ValueChange
from reporting.selectors import member_name, submissions_for
from reporting.workflow import approvable_q, recheckable_q

from .models import FieldComment

DONE_STATUSES = (Status.SUBMITTED, Status.APPROVED, Status.RECHECKED)
STATUS_LABELS = dict(Status.choices)
LEVEL_LABELS = dict(UnitLevel.choices)
# Heavy JSON columns a list never needs.
LIST_DEFER = ("form_version__definition", "values", "explanations", "task__name")


def is_supervisor(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in (Role.REVIEWER, Role.ANALYST, Role.ADMIN))


# --- queue -----------------------------------------------------------------------------------------------------

def queue_for(user: User, task: Task) -> QuerySet[Submission]:
    """What waits for this reviewer: submitted forms it approves, approved forms it re-checks."""
    if not user.is_authenticated or user.role != Role.REVIEWER or user.unit_id is None:
        return Submission.objects.none()
    level = user.unit.level
    wanted = (Q(status=Status.SUBMITTED) & approvable_q(level)) | (Q(status=Status.APPROVED) & recheckable_q(level))
    return (submissions_for(user).filter(task=task).filter(wanted).exclude(unit_id=user.unit_id)
            .select_related("status_changed_by").defer(*LIST_DEFER).order_by("submitted_at", "unit__path"))


def violation_summary(result: dict | None) -> dict[str, int]:
    hard = soft = explained = 0
    for v in (result or {}).get("violations", []) or []:
        if v.get("severity") == "hard":
            hard += 1
        elif v.get("explained"):
            explained += 1
        else:
            soft += 1
    return {"hard": hard, "soft": soft, "explained": explained, "clean": not (hard or soft or explained)}


# --- progress board --------------------------------------------------------------------------------------------

class Completion:
    """Counts per status → total, done (已上报 and beyond) and completion rate; shared by cells, rows, board."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return sum(self.counts.get(s, 0) for s in DONE_STATUSES)

    @property
    def rate(self) -> float | None:
        return round(self.done * 100.0 / self.total, 1) if self.total else None


@dataclass
class Cell(Completion):
    """One form of one row: the unit's own form, or a roll-up over the forms of the units below it."""

    form_code: str
    own: bool
    status: str = ""
    submission_id: int | None = None
    at: datetime | None = None
    by: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, "")



@dataclass
class Row(Completion):
    unit: Unit
    cells: dict[str, Cell] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    at: datetime | None = None
    by: str = ""
    drill: bool = False

    def cell_list(self, form_codes: list[str]) -> list[Cell | None]:
        return [self.cells.get(code) for code in form_codes]


@dataclass
class Board(Completion):
    task: Task
    unit: Unit
    forms: list[tuple[str, str]]  # (code, title) of the lead forms shown
    rows: list[Row]
    counts: dict[str, int]
    trail: list[Unit]

    @property
    def form_codes(self) -> list[str]:
        return [code for code, _ in self.forms]

    def status_counts(self) -> list[tuple[str, str, int]]:
        return [(value, label, self.counts.get(value, 0)) for value, label in Status.choices]


def board_root(user: User) -> Unit:
    """The unit a user's board starts at: its own unit (admins without one: the top of the hierarchy)."""
    if user.unit_id is not None:
        return user.unit
    root = Unit.objects.filter(parent__isnull=True).order_by("path").first()
    if root is None:
        raise Http404("没有单位。")
    return root


def _who(display: str | None, username: str | None) -> str:
    return display or username or ""


def progress_board(user: User, task: Task, *, unit_code: str | None = None, form: str | None = None,
                   status: str | None = None, name: str | None = None) -> Board:
    """The status of every unit directly below `unit_code` (default: the user's unit) and, rolled up, of the
    units below those. A constant number of queries whatever the number of units."""
    root = board_root(user)
    focus = root
    if unit_code and unit_code != root.code:
        focus = Unit.objects.filter(code=unit_code).first()
        within = user.is_superuser or user.role == Role.ADMIN or (focus is not None and focus.is_within(root))
        if focus is None or not within or focus.level == UnitLevel.MEMBER:
            raise Http404("单位不存在或不在您的管辖范围内。")
    trail_codes = [c for c in focus.path.strip("/").split("/") if c]
    trail = [u for u in Unit.objects.filter(code__in=trail_codes).order_by("path") if u.is_within(root)]
    forms = [(code, title) for code, title, parent in
             TaskForm.objects.filter(task=task).order_by("form_code")
             .values_list("form_code", "version__title", "version__definition__parent") if not parent]
    if form:
        forms = [f for f in forms if f[0] == form]
    codes = [code for code, _ in forms]

    children_qs = Unit.objects.filter(parent=focus).exclude(level=UnitLevel.MEMBER).order_by("sort_key", "code")
    if name:
        children_qs = children_qs.filter(name__icontains=name.strip())
    rows = {u.code: Row(unit=u, drill=u.level in (UnitLevel.NATION, UnitLevel.PROVINCE, UnitLevel.CITY))
            for u in children_qs}

    subs = (Submission.objects.filter(task=task, unit__path__startswith=focus.path, form_code__in=codes)
            .exclude(unit_id=focus.pk).exclude(unit__level=UnitLevel.MEMBER)
            .values_list("id", "unit_id", "unit__path", "form_code", "status", "revision", "status_changed_at",
                         "updated_at", "status_changed_by__display_name", "status_changed_by__username",
                         "updated_by__display_name", "updated_by__username"))
    prefix = len(focus.path)
    for (pk, unit_id, path, form_code, st, revision, changed_at, updated_at, changed_name, changed_user,
         updated_name, updated_user) in subs:
        row = rows.get(path[prefix:].split("/", 1)[0])
        if row is None:
            continue
        at, by = None, ""
        if st != Status.NOT_STARTED or revision:
            if changed_at and (not updated_at or changed_at >= updated_at or not revision):
                at, by = changed_at, _who(changed_name, changed_user)
            else:
                at, by = updated_at, _who(updated_name, updated_user)
        if unit_id == row.unit.pk:
            row.cells[form_code] = Cell(form_code, True, st, pk, at, by, {st: 1})
        else:
            cell = row.cells.get(form_code) or row.cells.setdefault(form_code, Cell(form_code, False))
            cell.counts[st] = cell.counts.get(st, 0) + 1
            if at and (cell.at is None or at > cell.at):
                cell.at, cell.by = at, by
        row.counts[st] = row.counts.get(st, 0) + 1
        if at and (row.at is None or at > row.at):
            row.at, row.by = at, by
    shown = [r for r in rows.values() if not status or r.counts.get(status)]
    if not form and shown:
        # only the forms somebody on the board fills (a city's board has no 表1 column)
        used = {code for r in shown for code in r.cells}
        forms = [f for f in forms if f[0] in used] or forms
    counts: dict[str, int] = {}
    for r in shown:
        for st, n in r.counts.items():
            counts[st] = counts.get(st, 0) + n
    return Board(task=task, unit=focus, forms=forms, rows=shown, counts=counts, trail=trail)


def board_sheet_rows(board: Board) -> tuple[list[str], list[list[Any]]]:
    """The board as a table for Excel: one row per unit, per form its status (or roll-up) and last change."""
    header = ["单位编码", "单位名称", "层级"]
    for _code, title in board.forms:
        header += [f"{title} 状态", f"{title} 最后修改", f"{title} 修改人"]
    header += [label for _, label in Status.choices] + ["合计", "完成率（%）"]
    rows = []
    for row in board.rows:
        line: list[Any] = [row.unit.code, row.unit.name, LEVEL_LABELS.get(row.unit.level, row.unit.level)]
        for code in board.form_codes:
            cell = row.cells.get(code)
            if cell is None:
                line += ["", None, ""]
            elif cell.own:
                line += [cell.status_label, _naive(cell.at), cell.by]
            else:
                line += [f"已完成 {cell.done}/{cell.total}", _naive(cell.at), cell.by]
        line += [row.counts.get(value, 0) for value, _ in Status.choices]
        line += [row.total, row.rate]
        rows.append(line)
    return header, rows


def _naive(dt: datetime | None) -> datetime | None:
    from django.utils import timezone

    return timezone.localtime(dt).replace(tzinfo=None) if dt else None


# --- one submission --------------------------------------------------------------------------------------------

def previous_submission(submission: Submission) -> Submission | None:
    """The same unit's form of the previous period (task.previous), if it was started."""
    if not submission.task.previous_id:
        return None
    return (Submission.objects.filter(task_id=submission.task.previous_id, unit_id=submission.unit_id,
                                      form_code=submission.form_code)
            .exclude(status=Status.NOT_STARTED).first())


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


def delta_pct(current: Any, previous: Any) -> float | None:
    a, b = _number(current), _number(previous)
    if a is None or b is None or b == 0:
        return None
    return round((a - b) * 100.0 / b, 1)


def display_value(value: Any, field_type: str = "") -> str:
    """A stored value as the review page shows it (engine.format_value with thousands separators)."""
    return format_value(value, empty="", grouping=True)


@dataclass
class FieldRow:
    code: str
    label: str
    unit: str
    type: str
    value: Any
    shown: str
    previous: Any = None
    previous_shown: str = ""
    delta: float | None = None
    comments: list[FieldComment] = field(default_factory=list)
    flagged: bool = False  # named by a violation
    optional: bool = False


@dataclass
class Section:
    title: str
    rows: list[FieldRow]


def sections(definition: dict, values: dict, previous: dict | None, comments: dict[tuple[str, str], list],
             flagged: set[str], member_key: str = "") -> list[Section]:
    out: list[Section] = []
    by_title: dict[str, Section] = {}
    for f in definition.get("fields", []):
        title = " / ".join(s for s in (f.get("section") or []) if s) or "基本信息"
        section = by_title.get(title)
        if section is None:
            section = by_title[title] = Section(title, [])
            out.append(section)
        value = values.get(f["code"])
        prev = previous.get(f["code"]) if previous is not None else None
        section.rows.append(FieldRow(
            code=f["code"], label=f.get("label", f["code"]), unit=f.get("unit") or "", type=f.get("type", ""),
            value=value, shown=display_value(value), previous=prev, previous_shown=display_value(prev),
            delta=delta_pct(value, prev), comments=comments.get((member_key, f["code"]), []),
            flagged=f["code"] in flagged, optional=bool(f.get("optional")),
        ))
    return out


def indicator_rows(definition: dict, result: dict, previous_result: dict | None) -> list[dict]:
    values = (result or {}).get("indicators", {}) or {}
    reasons = (result or {}).get("reasons", {}) or {}
    attainment = (result or {}).get("attainment", {}) or {}
    prev_values = (previous_result or {}).get("indicators", {}) or {}
    rows = []
    ops = {">=": "≥", "<=": "≤", "==": "=", "!=": "≠"}

    def rate(x: Any) -> str:
        # Rates read to two decimals (the engine keeps four for exports and comparisons).
        return display_value(round(x, 2) if isinstance(x, float) else x)

    for ind in definition.get("indicators", []):
        code = ind["code"]
        target = ind.get("target") or None
        value = values.get(code)
        prev = prev_values.get(code)
        rows.append({
            "code": code, "label": ind.get("label", code), "unit": ind.get("unit", ""),
            "value": value, "shown": rate(value), "reason": reasons.get(code, ""),
            "target": f"{ops.get(target.get('op', ''), target.get('op', ''))}{rate(target.get('value'))}"
                      f"{ind.get('unit', '')}"
            if target else "",
            "target_source": (target or {}).get("source", ""),
            "target_note": (target or {}).get("note", ""),
            "attained": attainment.get(code) if target else None, "has_target": bool(target),
            "previous": prev, "previous_shown": rate(prev), "delta": delta_pct(value, prev),
            "definition": ind.get("definition", ""),
        })
    return rows


def audit_trail(submission: Submission, definition: dict, member_definition: dict | None) -> list[dict]:
    """Every saved value change (old → new, who, when) and every status change, newest first."""
    lead = {f["code"]: f.get("label", f["code"]) for f in definition.get("fields", [])}
    member = {f["code"]: f.get("label", f["code"]) for f in (member_definition or {}).get("fields", [])}
    names = {key: member_name(values, unit_name, org_code) for key, values, unit_name, org_code in
             submission.members.values_list("key", "values", "member_unit__name", "member_unit__org_code")}
    items = []
    for vc in ValueChange.objects.filter(submission=submission).select_related("actor").order_by("-at", "-id"):
        items.append({
            "kind": "value", "at": vc.at, "actor": vc.actor, "member": (names.get(vc.member_key) or "（已删除的成员单位）") if vc.member_key else "",
            "field": vc.field_code,
            "label": (member if vc.member_key else lead).get(vc.field_code, vc.field_code),
            "old": display_value(vc.old), "new": display_value(vc.new), "id": vc.pk,
        })
    for t in Transition.objects.filter(submission=submission).select_related("actor").order_by("-at", "-id"):
        items.append({
            "kind": "status", "at": t.at, "actor": t.actor, "action": t.action,
            "from": STATUS_LABELS.get(t.from_status, t.from_status),
            "to": STATUS_LABELS.get(t.to_status, t.to_status), "reason": t.reason, "data": t.data, "id": t.pk,
        })
    items.sort(key=lambda i: (i["at"], i["kind"] == "status", i["id"]), reverse=True)
    return items
