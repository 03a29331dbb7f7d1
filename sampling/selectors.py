"""Read side of the sampling app: scoped batches and items, the diff of an item, on-site rates, the board."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Role, Unit, User
from accounts.scoping import unit_scope

from .models import Batch, Item, ItemState, OnsiteCheck, Sample, Target

CONSISTENT_TOLERANCE = 0.10  # WHO DQR module 3: a verification factor within 0.90–1.10 counts as consistent


def batches_for(user: User) -> QuerySet[Batch]:
    """Batches the user may open: those whose scope lies within the user's subtree (admins: all). Fillers none."""
    qs = Batch.objects.select_related("task", "scope_unit", "created_by")
    if user.is_platform_admin:
        return qs
    if user.role not in (Role.ANALYST, Role.REVIEWER) or user.unit_id is None:
        return qs.none()
    return qs.filter(scope_unit__path__startswith=user.unit.path)


def items_for(user: User) -> QuerySet[Item]:
    """Items of the units the user may read (accounts.scoping), so a filler sees its own unit's items."""
    qs = Item.objects.select_related("unit", "batch", "batch__scope_unit", "submission", "raised_by")
    scope = unit_scope(user, "unit__")
    return qs if scope is None else qs.filter(scope)


def samples_for(user: User) -> QuerySet[Sample]:
    qs = Sample.objects.select_related("unit", "batch", "submission", "batch__scope_unit")
    scope = unit_scope(user, "unit__")
    return qs if scope is None else qs.filter(scope)


def current_value(item: Item, values: dict | None = None, members: dict | None = None):
    if item.target != Target.FIELD:
        return None
    if item.member_key:
        if members is None:
            members = dict(item.submission.members.values_list("key", "values"))
        return (members.get(item.member_key) or {}).get(item.field_code)
    return ((values if values is not None else item.submission.values) or {}).get(item.field_code)


def shown(value) -> str:
    if value is True:
        return "是"
    if value is False:
        return "否"
    if value is None:
        return "（空）"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def members_of(items: list[Item]) -> dict[int, dict[str, dict]]:
    """submission id → {member key: values} for the submissions of member-entry items (one query)."""
    from reporting.models import MemberEntry

    ids = {i.submission_id for i in items if i.member_key}
    out: dict[int, dict[str, dict]] = defaultdict(dict)
    for sid, key, values in MemberEntry.objects.filter(submission_id__in=ids).values_list("submission_id", "key",
                                                                                          "values"):
        out[sid][key] = values
    return out


def diff(item: Item, members: dict[int, dict[str, dict]] | None = None) -> dict:
    """The value at sampling time against now (and when the unit answered). `members`: members_of(items)."""
    now = current_value(item, members=members.get(item.submission_id, {}) if members is not None else None)
    return {"before": item.original_value, "after": now, "changed": now != item.original_value,
            "before_shown": shown(item.original_value), "after_shown": shown(now)}


def is_overdue(item: Item, today=None) -> bool:
    today = today or timezone.localdate()
    return item.state == ItemState.OPEN and item.deadline < today


def overdue_items(user: User, limit: int = 10) -> tuple[list[Item], int]:
    """Open items past their deadline: a filler's own unit, a supervisor's subtree."""
    qs = items_for(user).filter(state=ItemState.OPEN, deadline__lt=timezone.localdate())
    if user.role == Role.FILLER:
        qs = qs.filter(unit_id=user.unit_id)
    qs = qs.order_by("deadline", "id")
    return list(qs[:limit]), qs.count()


def open_items_of_unit(user: User) -> list[Item]:
    """A filler's open items (to answer), nearest deadline first."""
    if user.role != Role.FILLER or user.unit_id is None:
        return []
    return list(items_for(user).filter(unit_id=user.unit_id, state=ItemState.OPEN).order_by("deadline", "id")[:20])


# --- on-site verification --------------------------------------------------------------------------------------

def consistent(check: OnsiteCheck, tolerance: float = CONSISTENT_TOLERANCE) -> bool:
    if check.reported == 0:
        return check.verified == 0
    return abs(check.verified / check.reported - 1) <= tolerance + 1e-12


@dataclass
class Rate:
    key: str
    label: str
    checked: int = 0
    consistent: int = 0
    reported: float = 0.0
    verified: float = 0.0

    @property
    def rate(self) -> float | None:
        """一致率 (%): consistent records / records."""
        return None if not self.checked else self.consistent / self.checked * 100

    @property
    def factor(self) -> float | None:
        """Overall verification factor: sum verified / sum reported (WHO DQR weighting)."""
        return None if not self.reported else self.verified / self.reported

    def add(self, check: OnsiteCheck, ok: bool) -> None:
        self.checked += 1
        self.consistent += int(ok)
        self.reported += check.reported
        self.verified += check.verified


@dataclass
class OnsiteSummary:
    batch: Rate
    by_province: list[Rate] = field(default_factory=list)
    by_indicator: list[Rate] = field(default_factory=list)
    by_field: list[Rate] = field(default_factory=list)


def _indicator_fields(definition: dict) -> list[tuple[str, str, set[str]]]:
    import re

    field_codes = {f["code"] for f in definition.get("fields", [])}
    out = []
    for ind in definition.get("indicators", []):
        names = set(re.findall(r"[a-z][a-z0-9_]*", ind.get("expr", ""))) & field_codes
        out.append((ind["code"], ind.get("label", ind["code"]), names))
    return out


def onsite_summary(batch: Batch, checks: list[OnsiteCheck] | None = None,
                   tolerance: float = CONSISTENT_TOLERANCE) -> OnsiteSummary:
    """一致率 per batch, province, indicator (over the fields its formula names) and field."""
    if checks is None:
        checks = list(OnsiteCheck.objects.filter(sample__batch=batch)
                      .select_related("sample__unit", "sample__submission__form_version"))
    summary = OnsiteSummary(batch=Rate(str(batch.pk), batch.name))
    provinces: dict[str, Rate] = {}
    indicators: dict[str, Rate] = {}
    fields: dict[str, Rate] = {}
    province_names = {}
    codes = {c.sample.unit.path.strip("/").split("/")[1] for c in checks
             if len(c.sample.unit.path.strip("/").split("/")) > 1}
    if codes:
        province_names = dict(Unit.objects.filter(code__in=codes).values_list("code", "name"))
    for check in checks:
        ok = consistent(check, tolerance)
        summary.batch.add(check, ok)
        parts = check.sample.unit.path.strip("/").split("/")
        province = parts[1] if len(parts) > 1 else parts[0]
        provinces.setdefault(province, Rate(province, province_names.get(province, province))).add(check, ok)
        form = check.sample.submission.form_code
        fkey = f"{form}.{check.field_code}" + (":member" if check.member_key else "")
        fields.setdefault(fkey, Rate(fkey, check.label or check.field_code)).add(check, ok)
        if not check.member_key:
            for code, label, names in _indicator_fields(check.sample.submission.form_version.definition):
                if check.field_code in names:
                    indicators.setdefault(code, Rate(code, label)).add(check, ok)
    summary.by_province = [provinces[k] for k in sorted(provinces)]
    summary.by_indicator = [indicators[k] for k in sorted(indicators)]
    summary.by_field = [fields[k] for k in sorted(fields)]
    return summary


# --- the board -------------------------------------------------------------------------------------------------

@dataclass
class BoardRow:
    key: str
    label: str
    samples: int = 0
    raised: int = 0
    answered: int = 0  # answered at least once (answered, escalated after an answer, closed)
    closed: int = 0
    escalated: int = 0
    overdue: int = 0
    changed: int = 0  # closed field items whose value differs from sampling time
    closed_fields: int = 0
    days_total: float = 0.0
    onsite_checked: int = 0
    onsite_consistent: int = 0

    @property
    def days_to_close(self) -> float | None:
        return None if not self.closed else self.days_total / self.closed

    @property
    def changed_share(self) -> float | None:
        return None if not self.closed_fields else self.changed / self.closed_fields * 100

    @property
    def discrepancy_rate(self) -> float | None:
        """现场抽查 discrepancy (%): records outside the tolerance / records."""
        if not self.onsite_checked:
            return None
        return (self.onsite_checked - self.onsite_consistent) / self.onsite_checked * 100


@dataclass
class Board:
    batch: Batch
    total: BoardRow
    rows: list[BoardRow]


def board(batch: Batch, user: User) -> Board:
    """Per province (per city for a province's batch): samples, items raised / answered / closed / overdue,
    mean days to close, share of values changed, on-site discrepancy. Rows limited to what the user sees."""
    scope = unit_scope(user, "unit__")
    samples = Sample.objects.filter(batch=batch)
    items = Item.objects.filter(batch=batch)
    checks = OnsiteCheck.objects.filter(sample__batch=batch)
    if scope is not None:
        samples, items = samples.filter(scope), items.filter(scope)
        checks = checks.filter(unit_scope(user, "sample__unit__"))
    depth = len([c for c in batch.scope_unit.path.strip("/").split("/") if c])

    def group(path: str) -> str:
        parts = [c for c in path.strip("/").split("/") if c]
        return parts[depth] if len(parts) > depth else parts[-1]

    rows: dict[str, BoardRow] = {}
    total = BoardRow("", "合计")
    today = timezone.localdate()
    answered_steps = set(Item.objects.filter(batch=batch, steps__action="answer").values_list("pk", flat=True))
    for path in samples.values_list("unit__path", flat=True):
        key = group(path)
        rows.setdefault(key, BoardRow(key, key)).samples += 1
        total.samples += 1
    for item in items.only("pk", "state", "deadline", "raised_at", "closed_at", "target", "value_changed",
                           "original_value", "unit__path").select_related("unit"):
        key = group(item.unit.path)
        for row in (rows.setdefault(key, BoardRow(key, key)), total):
            row.raised += 1
            if item.pk in answered_steps:
                row.answered += 1
            if item.state == ItemState.ESCALATED:
                row.escalated += 1
            if item.state == ItemState.OPEN and item.deadline < today:
                row.overdue += 1
            if item.state == ItemState.CLOSED:
                row.closed += 1
                if item.closed_at:
                    row.days_total += (item.closed_at - item.raised_at).total_seconds() / 86400
                if item.target == Target.FIELD:
                    row.closed_fields += 1
                    row.changed += int(item.value_changed)
    for check in checks.select_related("sample__unit"):
        key = group(check.sample.unit.path)
        ok = consistent(check)
        for row in (rows.setdefault(key, BoardRow(key, key)), total):
            row.onsite_checked += 1
            row.onsite_consistent += int(ok)
    names = dict(Unit.objects.filter(code__in=list(rows)).values_list("code", "name"))
    for key, row in rows.items():
        row.label = names.get(key, key)
    return Board(batch=batch, total=total, rows=[rows[k] for k in sorted(rows)])


def item_filter(qs: QuerySet[Item], *, batch: str | None = None, state: str | None = None,
                unit: str | None = None, overdue: bool = False) -> QuerySet[Item]:
    if batch:
        qs = qs.filter(batch_id=int(batch)) if str(batch).isdigit() else qs.none()
    if state:
        qs = qs.filter(state=state)
    if unit:
        u = Unit.objects.filter(code=unit).first()
        qs = qs.filter(unit__path__startswith=u.path) if u else qs.none()
    if overdue:
        qs = qs.filter(Q(state=ItemState.OPEN) & Q(deadline__lt=timezone.localdate()))
    return qs


def answered_ids(items: list[Item]) -> set[int]:
    ids = [i.pk for i in items]
    return set(Item.objects.filter(pk__in=ids, steps__action="answer").values_list("pk", flat=True))


def group_by_submission(items: list[Item]) -> dict[int, list[Item]]:
    out: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        out[item.submission_id].append(item)
    return out
