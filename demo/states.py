"""Demo workflow states: every form kind shows units in different states, laid out through the real actions
(submission_save, submission_submit, approve, reject …) so the audit trail, transitions, snapshots and
notifications are real.

Values come from the catalog definitions (engine.valuegen) and are repaired with the engine until clean, so
this works for whatever fields the catalog holds. The previous task (2018) is filled and approved first, so the
current values grow from it and previous-period comparisons show.

Idempotent: a submission that is no longer "not started" is left as it is, so a second seed changes nothing.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, Unit, UnitLevel, User
from engine.valuegen import ValueGenerator, break_one
from reporting.actions import member_add, submission_save, task_window_set
from reporting.evaluation import catalog_for_task
from reporting.models import Status, Submission, Task
from reporting.workflow import LEVEL_RANK, approver_level
from review import actions

from .profile import Profile

log = logging.getLogger(__name__)

NOT_STARTED = "not_started"
CLEAN_DRAFT = "clean_draft"
HARD_ERROR = "hard_error"
SOFT_WARNING = "soft_warning"
SUBMITTED = "submitted"
REJECTED = "rejected"
APPROVED = "approved"
RECHECKED = "rechecked"

# Which unit (in code order) of each form gets which state. With 2 provinces, 4 cities, 5 urban and 4 county
# alliances every state shows somewhere, and every demo reviewer has something in the queue:
# 济南 reviews 3701001-2 (submitted), 山东 re-checks 3702001 and reviews 370100's 表2, the nation reviews 510000.
STATE_PLAN: dict[str, list[str]] = {
    "t1": [CLEAN_DRAFT, SUBMITTED],
    "t2": [SUBMITTED, APPROVED, REJECTED, SOFT_WARNING],
    "t3": [CLEAN_DRAFT, SUBMITTED, APPROVED, RECHECKED, HARD_ERROR],
    "t4": [REJECTED, SOFT_WARNING, NOT_STARTED, SUBMITTED],
}
ORDER = [CLEAN_DRAFT, SUBMITTED, APPROVED, REJECTED, HARD_ERROR, SOFT_WARNING, RECHECKED, NOT_STARTED]
REJECT_REASON = "部分数据与上年差异较大，请核实后修改并重新上报。"
COMMENT_TEXT = "该项数值请核实，并与上年数据比对。"
# Generated values by (unit, form, definition, context): generation is deterministic, and repairing takes a
# moment, so repeated fills (tests, re-seeding after a reset) reuse it.
_generated: dict[str, tuple[dict, list | None]] = {}


@dataclass
class Plan:
    submission: Submission
    state: str


def _filler(unit: Unit) -> User | None:
    return User.objects.filter(unit=unit, role=Role.FILLER, is_active=True).order_by("pk").first()


def _reviewer_at(unit: Unit, level: str) -> User | None:
    codes = [c for c in unit.path.strip("/").split("/") if c]
    return (User.objects.filter(unit__code__in=codes, unit__level=level, role=Role.REVIEWER, is_active=True)
            .exclude(unit=unit).order_by("pk").first())


def _rechecker(submission: Submission) -> User | None:
    level = approver_level(submission)
    rank = LEVEL_RANK.get(level, 0)
    above = [lvl for lvl, r in LEVEL_RANK.items() if r == rank - 1]
    return _reviewer_at(submission.unit, above[0]) if above else None


def _level_order(submission: Submission) -> int:
    # lower units first, so a province's roll-up checks see its cities' forms
    return -LEVEL_RANK.get(submission.unit.level, 0)


def plan_states(task: Task) -> list[Plan]:
    """Deterministic: the units of each form in code order get the form's state list (then ORDER, cycling)."""
    subs = list(Submission.objects.filter(task=task).select_related("unit", "form_version")
                .order_by("form_code", "unit__code"))
    by_form: dict[str, list[Submission]] = {}
    for s in subs:
        by_form.setdefault(s.form_code, []).append(s)
    plans = []
    for index, (form_code, items) in enumerate(sorted(by_form.items())):
        states = STATE_PLAN.get(form_code) or ORDER[index % len(ORDER):] + ORDER[:index % len(ORDER)]
        for i, s in enumerate(items):
            state = states[i] if i < len(states) else ORDER[(i + index) % len(ORDER)]
            plans.append(Plan(s, state))
    plans.sort(key=lambda p: (_level_order(p.submission), p.submission.form_code, p.submission.unit.code))
    return plans


class _Filler:
    """Generates and saves the values of one submission."""

    def __init__(self, task: Task) -> None:

        self.task = task
        self.catalog = catalog_for_task(task)
        self.profile = Profile()
        # the previous period is year 0 of the profile's draws, the current period year 1
        self.year = 1 if task.previous_id else 0

    def realistic(self, form, unit: Unit, base: dict, members: list[dict] | None = None,
                  children: list[dict] | None = None) -> dict:
        """The generator's draft with the profile's values laid over it (see demo/yearbook_2019.json)."""
        if not self.profile.has(form.code):
            return base
        codes = [c for c in unit.path.strip("/").split("/") if c]
        region = codes[1] if len(codes) > 1 else unit.code  # nation / province / …
        values = self.profile.values(form, level=unit.level, unit_key=unit.code, region_key=region,
                                     year=self.year, members=members, children=children)
        skipped = self.profile.skipped(form.code)
        return {**{k: v for k, v in base.items() if k not in skipped}, **values}

    def generate(self, submission: Submission, previous: Submission | None) -> tuple[dict, list[dict] | None,
                                                                                      list[Unit]]:
        form = self.catalog[submission.form_code]
        unit = submission.unit
        seed = f"{self.task.code}/{unit.code}/{submission.form_code}"
        gen = ValueGenerator(form, level=unit.level, rng=random.Random(seed), name=unit.name,
                             org_code=unit.org_code)
        member_units: list[Unit] = []
        members: list[dict] | None = None
        prev_values = prev_members = None
        if previous is not None and previous.status != Status.NOT_STARTED:
            prev_values = previous.values
            prev_members = [m.values for m in previous.members.order_by("position", "id")]
        if form.subform is not None:
            member_units = list(Unit.objects.filter(parent=unit, level=UnitLevel.MEMBER).order_by("code"))
            members = [self.realistic(form.subform, m, gen.draft(form.subform, level=UnitLevel.MEMBER, name=m.name,
                                                                 org_code=m.org_code, lead=False))
                       for m in member_units]
        children = list(Submission.objects.filter(task=self.task, unit__parent=unit)
                        .exclude(status=Status.NOT_STARTED).values_list("values", flat=True))
        context = {"children": children, "previous": prev_values, "previous_members": prev_members}
        self.context = context
        key = hashlib.sha256(json.dumps([seed, form.content_hash, [m.code for m in member_units], context],
                                        sort_keys=True, default=str).encode()).hexdigest()
        hit = _generated.get(key)
        if hit is not None:
            values, members = copy.deepcopy(hit)
            return values, members, member_units
        values = self.realistic(form, unit, gen.draft(), members=members, children=children)
        values, members, remaining = gen.repair(values, members, **context)
        if remaining:
            log.warning("demo values of %s %s keep %d violations", unit.code, submission.form_code, len(remaining))
        _generated[key] = copy.deepcopy((values, members))
        return values, members, member_units

    def store(self, submission: Submission, values: dict, members: list[dict] | None, member_units: list[Unit],
             explanations: dict | None = None) -> Submission:
        filler = _filler(submission.unit)
        if filler is None:
            raise RuntimeError(f"单位 {submission.unit.code} 没有填报账号")
        changes = [{"field": code, "value": value} for code, value in values.items()]
        if members is not None:
            for unit, mvalues in zip(member_units, members, strict=False):
                key = f"demo-{unit.code}"
                member_add(acting_user=filler, submission_id=submission.pk, key=key, member_unit=unit)
                changes += [{"field": code, "member": key, "value": value} for code, value in mvalues.items()]
        result = submission_save(acting_user=filler, submission_id=submission.pk, changes=changes,
                                 explanations=explanations)
        if result.errors:
            log.warning("demo values of %s refused: %s", submission.unit.code, result.errors)
        return Submission.objects.select_related("unit", "task", "form_version").get(pk=submission.pk)


def _comment_field(submission: Submission) -> str | None:
    for f in submission.form_version.definition.get("fields", []):
        if f.get("type") == "count" and f.get("code") in submission.values:
            return f["code"]
    return next(iter(submission.values), None)


def lay_out(plan: Plan, filler: _Filler, previous: Submission | None) -> None:
    submission, state = plan.submission, plan.state
    if state == NOT_STARTED or submission.status != Status.NOT_STARTED:
        return
    values, members, member_units = filler.generate(submission, previous)
    form = filler.catalog[submission.form_code]
    if state in (HARD_ERROR, SOFT_WARNING):
        broken = break_one(form, values, members, "hard" if state == HARD_ERROR else "soft", **filler.context)
        if broken is not None:
            values = broken[0]
        filler.store(submission, values, members, member_units)
        return
    submission = filler.store(submission, values, members, member_units)
    if state == CLEAN_DRAFT:
        return
    user = _filler(submission.unit)
    try:
        actions.submission_submit(acting_user=user, submission_id=submission.pk)
    except actions.SubmitRefused as e:
        log.warning("demo submission %s %s refused: %s", submission.unit.code, submission.form_code,
                    [b["message"] for b in e.blocking])
        return
    if state == SUBMITTED:
        return
    approver = _reviewer_at(submission.unit, approver_level(submission))
    if approver is None:
        return
    if state == REJECTED:
        code = _comment_field(submission)
        comments = [{"field": code, "member": "", "text": COMMENT_TEXT}] if code else []
        actions.submission_reject(acting_user=approver, submission_id=submission.pk, reason=REJECT_REASON,
                                  comments=comments)
        return
    actions.submission_approve(acting_user=approver, submission_id=submission.pk)
    if state == RECHECKED:
        rechecker = _rechecker(submission)
        if rechecker is not None:
            actions.submission_recheck(acting_user=rechecker, submission_id=submission.pk, passed=True)


def fill_form(submission: Submission, *, state: str = CLEAN_DRAFT, previous: Submission | None = None) -> Submission:
    """Fill one submission with generated values and bring it to `state` (tests and the demo use this)."""
    submission = Submission.objects.select_related("unit", "task", "form_version").get(pk=submission.pk)
    lay_out(Plan(submission, state), _Filler(submission.task), previous)
    return Submission.objects.select_related("unit", "task", "form_version").get(pk=submission.pk)


def fill_previous(task: Task) -> None:
    """Approved values for every form of the previous task (its window is opened for the moment it takes)."""
    previous = task.previous
    if previous is None:
        return
    window_close = previous.window_close
    previous = task_window_set(acting_user=None, task_id=previous.pk, window_close=timezone.now() + timedelta(hours=1))
    try:
        plans = [Plan(p.submission, APPROVED) for p in plan_states(previous)]
        filler = _Filler(previous)
        for plan in plans:
            lay_out(plan, filler, None)
    finally:
        task_window_set(acting_user=None, task_id=previous.pk, window_close=window_close)


@transaction.atomic
def lay_out_states(task: Task) -> None:
    """Lay out every workflow state for the current demo task (seed_demo)."""
    fill_previous(task)
    filler = _Filler(task)
    previous_by_key = {}
    if task.previous_id:
        previous_by_key = {(s.unit_id, s.form_code): s
                           for s in Submission.objects.filter(task_id=task.previous_id)}
    for plan in plan_states(task):
        lay_out(plan, filler, previous_by_key.get((plan.submission.unit_id, plan.submission.form_code)))


__all__ = ["fill_form", "lay_out_states", "plan_states"]
