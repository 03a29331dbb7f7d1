"""Test fixtures' form filling: engine-clean generated values (engine.valuegen) saved through the real actions,
then the submission is brought to a workflow state with the real review actions. Independent of the demo app."""

from __future__ import annotations

import copy
import json
import random

from accounts.models import Role, Unit, UnitLevel, User
from engine.valuegen import ValueGenerator, break_one
from reporting.actions import member_add, submission_save
from reporting.evaluation import catalog_for_task
from reporting.models import Status, Submission
from reporting.workflow import LEVEL_RANK, approver_level
from review import actions

CLEAN_DRAFT = "clean_draft"
HARD_ERROR = "hard_error"
SOFT_WARNING = "soft_warning"
SUBMITTED = "submitted"
REJECTED = "rejected"
APPROVED = "approved"
RECHECKED = "rechecked"
REJECT_REASON = "部分数据与上年差异较大，请核实后修改并重新上报。"
COMMENT_TEXT = "该项数值请核实，并与上年数据比对。"
# Generation is deterministic and repairing takes a moment: repeated fills across tests reuse it.
_generated: dict[str, tuple[dict, list | None]] = {}


def _filler(unit: Unit) -> User:
    return User.objects.filter(unit=unit, role=Role.FILLER, is_active=True).order_by("pk").first()


def _reviewer_at(unit: Unit, level: str | None) -> User | None:
    codes = [c for c in unit.path.strip("/").split("/") if c]
    return (User.objects.filter(unit__code__in=codes, unit__level=level, role=Role.REVIEWER, is_active=True)
            .exclude(unit=unit).order_by("pk").first())


def _reload(submission: Submission) -> Submission:
    return Submission.objects.select_related("unit", "task", "form_version").get(pk=submission.pk)


def _save(submission: Submission, values: dict, members: list[dict] | None, member_units: list[Unit],
          explanations: dict | None = None) -> Submission:
    filler = _filler(submission.unit)
    changes = [{"field": code, "value": value} for code, value in values.items()]
    for unit, mvalues in zip(member_units, members or [], strict=False):
        key = f"m-{unit.code}"
        member_add(acting_user=filler, submission_id=submission.pk, key=key, member_unit=unit)
        changes += [{"field": code, "member": key, "value": value} for code, value in mvalues.items()]
    submission_save(acting_user=filler, submission_id=submission.pk, changes=changes, explanations=explanations)
    return _reload(submission)


def fill_form(submission: Submission, *, state: str = CLEAN_DRAFT, previous: Submission | None = None) -> Submission:
    """Fill one submission with generated clean values and bring it to `state`."""
    submission = _reload(submission)
    form = catalog_for_task(submission.task)[submission.form_code]
    unit = submission.unit
    gen = ValueGenerator(form, level=unit.level, rng=random.Random(f"{submission.task.code}/{unit.code}/{form.code}"),
                         name=unit.name, org_code=unit.org_code)
    prev_values = prev_members = None
    if previous is not None and previous.status != Status.NOT_STARTED:
        prev_values = previous.values
        prev_members = [m.values for m in previous.members.order_by("position", "id")]
    member_units: list[Unit] = []
    members = None
    if form.subform is not None:
        member_units = list(Unit.objects.filter(parent=unit, level=UnitLevel.MEMBER).order_by("code"))
        if prev_members is not None and len(prev_members) == len(member_units):
            members = [gen.grow(m, 1.06) for m in prev_members]
        else:
            members = [gen.draft(form.subform, level=UnitLevel.MEMBER, name=m.name, org_code=m.org_code, lead=False)
                       for m in member_units]
    children = list(Submission.objects.filter(task=submission.task, unit__parent=unit)
                    .exclude(status=Status.NOT_STARTED).values_list("values", flat=True))
    context = {"children": children, "previous": prev_values, "previous_members": prev_members}
    key = json.dumps([submission.task.code, unit.code, form.content_hash, [m.code for m in member_units], context],
                     sort_keys=True, default=str)
    if key not in _generated:
        values = gen.grow(prev_values, 1.06) if prev_values else gen.draft()
        values, members, _ = gen.repair(values, members, **context)
        _generated[key] = (values, members)
    values, members = copy.deepcopy(_generated[key])
    if state in (HARD_ERROR, SOFT_WARNING):
        broken = break_one(form, values, members, "hard" if state == HARD_ERROR else "soft", **context)
        if broken is not None:
            values = broken[0]
        return _save(submission, values, members, member_units)
    submission = _save(submission, values, members, member_units)
    unexplained = {v.get("explanation_key") or v["check"]: "经核实，数据属实。"
                   for v in (submission.result or {}).get("violations", [])
                   if v.get("severity") == "soft" and not v.get("explained")}
    if unexplained:
        submission = _save(submission, {}, None, [], explanations=unexplained)
    if state == CLEAN_DRAFT:
        return submission
    actions.submission_submit(acting_user=_filler(unit), submission_id=submission.pk)
    if state == SUBMITTED:
        return _reload(submission)
    level = approver_level(submission)
    approver = _reviewer_at(unit, level)
    if state == REJECTED:
        code = next((f["code"] for f in submission.form_version.definition.get("fields", [])
                     if f.get("type") == "count" and f["code"] in submission.values), None)
        comments = [{"field": code, "member": "", "text": COMMENT_TEXT}] if code else []
        actions.submission_reject(acting_user=approver, submission_id=submission.pk, reason=REJECT_REASON,
                                  comments=comments)
        return _reload(submission)
    actions.submission_approve(acting_user=approver, submission_id=submission.pk)
    if state == RECHECKED:
        rank = LEVEL_RANK.get(level, 0)
        above = [lvl for lvl, r in LEVEL_RANK.items() if r == rank - 1]
        rechecker = _reviewer_at(unit, above[0]) if above else None
        actions.submission_recheck(acting_user=rechecker, submission_id=submission.pk, passed=True)
    return _reload(submission)
