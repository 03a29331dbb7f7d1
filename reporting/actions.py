"""Writes on tasks and submissions. Each action: one transaction, one audit row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Unit, UnitLevel, User, audit

from .catalog import attach_catalog, member_definition, read_catalog
from .models import MemberEntry, Status, Submission, Task, TaskForm, ValueChange
from .normalize import normalize_value


@transaction.atomic
def task_create(*, acting_user: User | None, code: str, name: str, period_start, period_end, window_open,
                window_close, catalog_slug: str, previous: Task | None = None, is_current: bool = True) -> Task:
    if is_current:
        Task.objects.filter(is_current=True).update(is_current=False)
    task = Task.objects.create(code=code, name=name, period_start=period_start, period_end=period_end,
                               window_open=window_open, window_close=window_close, catalog_slug=catalog_slug,
                               previous=previous, is_current=is_current)
    _, forms = read_catalog(catalog_slug)
    attach_catalog(task, forms)
    audit(actor=acting_user, action="task_create", obj=task, code=code, catalog=catalog_slug)
    return task


@transaction.atomic
def submissions_ensure(*, acting_user: User | None, task: Task) -> int:
    """Create the (not started) submission row of every unit that must fill a form of this task."""
    created = 0
    task_forms = list(TaskForm.objects.filter(task=task).select_related("version"))
    existing = set(Submission.objects.filter(task=task).values_list("unit_id", "form_code"))
    rows = []
    for tf in task_forms:
        level = tf.version.definition.get("unit_level")
        if not level or level == UnitLevel.MEMBER or tf.version.definition.get("parent"):
            continue  # sub-forms live inside their lead form's submission
        for unit_id in Unit.objects.filter(level=level).values_list("id", flat=True):
            if (unit_id, tf.form_code) not in existing:
                rows.append(Submission(task=task, unit_id=unit_id, form_code=tf.form_code, form_version=tf.version))
    Submission.objects.bulk_create(rows, batch_size=2000)
    created = len(rows)
    if created:
        audit(actor=acting_user, action="submissions_ensure", obj=task, created=created)
    return created


# --- Saving values -------------------------------------------------------------------------------------------

class SaveRefused(Exception):
    """The form cannot be changed now (status or filing window). The message is for the user."""


class FieldLocked(SaveRefused):
    """A locked form of which only some fields are open (整改): the change names another field."""


@dataclass
class Conflict:
    field: str
    member: str  # member key, "" for the lead form
    label: str
    yours: object
    theirs: object
    by: str  # who saved "theirs"
    at: str

    def as_dict(self) -> dict:
        return {"field": self.field, "member": self.member, "label": self.label, "yours": self.yours,
                "theirs": self.theirs, "by": self.by, "at": self.at}


@dataclass
class SaveResult:
    submission: Submission
    saved: list[str] = field(default_factory=list)  # "code" or "memberkey/code"
    errors: dict[str, str] = field(default_factory=dict)  # same keys → Chinese message
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def revision(self) -> int:
        return self.submission.revision


def _fields_of(definition: dict) -> dict[str, dict]:
    return {f["code"]: f for f in definition.get("fields", [])}


def _ensure_writable(submission: Submission, acting_user: User, partial: bool = False) -> set | None:
    """Refuse unless `acting_user` may change the submission now. With `partial` a locked form whose single
    fields an unlocker opened (reporting.unlocks, e.g. 整改要求) passes: the open fields are returned, and the
    caller refuses a change of any other field (FieldLocked). None: the whole form is open."""
    from accounts.models import Role

    from .unlocks import unlocked_fields

    if acting_user.role != Role.FILLER or acting_user.unit_id != submission.unit_id:
        raise SaveRefused("只有本单位的填报用户可以修改该报表。")
    if not submission.is_editable and partial:
        unlocked = unlocked_fields(submission)
        if unlocked:
            return unlocked
    if not submission.is_editable:
        raise SaveRefused(f"报表状态为“{submission.get_status_display()}”，不能修改。")
    if not submission.window_is_open():
        raise SaveRefused("不在填报时间内，报表已锁定；如需补报请联系上级单位延期。")
    return None


def submission_save(*, acting_user: User, submission_id: int, changes: list[dict],
                    explanations: dict[str, str] | None = None, base_revision: int | None = None,
                    dry_run: bool = False) -> SaveResult:
    """The one path by which values are written (typed, autosaved, imported or sent through the API).

    `changes`: [{"field": code, "member": key or "" , "value": raw input, "base": the value the client last
    saw (optional)}]. Each raw value is normalised (reporting.normalize); a bad value is reported in
    `errors` under "code" or "memberkey/code" while every good value still saves. Lost updates are refused
    per field: when the stored value differs from the client's `base` (someone else saved it meanwhile) the
    change is not applied and a Conflict shows both values. With `dry_run` nothing is written (imports
    validate a whole file first and save all or nothing).
    """
    from review.workflow import transition

    with transaction.atomic():
        submission = (Submission.objects.select_for_update().select_related("unit", "task", "form_version")
                      .get(pk=submission_id))
        unlocked = _ensure_writable(submission, acting_user, partial=True)
        definition = submission.form_version.definition
        lead_fields = _fields_of(definition)
        member_fields: dict[str, dict] = {}
        if definition.get("subform"):
            member_fields = _fields_of(member_definition(submission) or {})
        members = {m.key: m for m in submission.members.select_for_update()}
        result = SaveResult(submission=submission)
        stale = base_revision is not None and base_revision != submission.revision
        value_changes: list[ValueChange] = []
        touched_members: set[str] = set()
        for change in changes:
            code = str(change.get("field", ""))
            member_key = str(change.get("member") or "")
            key = f"{member_key}/{code}" if member_key else code
            if member_key:
                entry = members.get(member_key)
                if entry is None:
                    result.errors[key] = "该成员单位已被删除，请刷新页面。"
                    continue
                spec, store = member_fields.get(code), entry.values
            else:
                spec, store = lead_fields.get(code), submission.values
            if spec is None:
                result.errors[key] = "表单中没有该指标。"
                continue
            normalized = normalize_value(spec, change.get("value"))
            if not normalized.ok:
                result.errors[key] = normalized.error
                continue
            old = store.get(code)
            new = normalized.value
            if old == new and type(old) is type(new):
                continue
            if unlocked is not None and (member_key, code) not in unlocked:
                if old == new:
                    continue  # 68 for 68.0 (a template round trip) is no change of a locked field
                raise FieldLocked(f"“{spec.get('label', code)}”未开放修改：报表状态为“{submission.get_status_display()}”，"
                                  "只有整改要求所指的指标可以修改。")
            if stale and "base" in change and change["base"] != old:
                result.conflicts.append(Conflict(field=code, member=member_key, label=spec.get("label", code),
                                                 yours=new, theirs=old, by="", at=""))
                continue
            if new is None:
                store.pop(code, None)
            else:
                store[code] = new
            if member_key:
                touched_members.add(member_key)
            value_changes.append(ValueChange(submission=submission, member_key=member_key, field_code=code,
                                             old=old, new=new, actor=acting_user))
            result.saved.append(key)
        if result.conflicts:
            _name_conflict_authors(submission, result.conflicts)
        if explanations:
            for check_code, text in explanations.items():
                text = (text or "").strip()
                if text:
                    submission.explanations[str(check_code)] = text[:2000]
                else:
                    submission.explanations.pop(str(check_code), None)
        if dry_run:
            transaction.set_rollback(True)
            return result
        if not value_changes and not explanations:
            return result
        if submission.status == Status.NOT_STARTED:
            # The first save starts the form; transition() saves the status on its own copy of the row.
            started = transition(submission_id=submission.pk, action="start", acting_user=acting_user)
            submission.status = started.status
            submission.status_changed_at, submission.status_changed_by = started.status_changed_at, acting_user
        for key in touched_members:
            members[key].save(update_fields=["values"])
        ValueChange.objects.bulk_create(value_changes)
        submission.revision += 1
        submission.updated_by = acting_user
        # The member rows are already in memory (locked, in position order): evaluate with them.
        _refresh_result(submission, member_rows=([m.key for m in members.values()],
                                                 [m.values for m in members.values()]))
        submission.save(update_fields=["values", "explanations", "revision", "updated_by", "updated_at", "result"])
        audit(actor=acting_user, action="submission_save", unit=submission.unit, obj=submission,
              fields=len(value_changes), revision=submission.revision)
    return result


def _name_conflict_authors(submission: Submission, conflicts: list[Conflict]) -> None:
    """Who saved "theirs", and when: the last audit row of each conflicting field (read only on a conflict,
    so an autosave from a page loaded long ago does not read the whole history)."""
    last: dict[tuple[str, str], ValueChange] = {}
    for vc in (ValueChange.objects.filter(submission=submission, field_code__in={c.field for c in conflicts},
                                          member_key__in={c.member for c in conflicts})
               .select_related("actor").order_by("at", "id")):
        last[(vc.member_key, vc.field_code)] = vc
    for conflict in conflicts:
        vc = last.get((conflict.member, conflict.field))
        if vc is not None:
            conflict.by = (vc.actor.display_name or vc.actor.username) if vc.actor else ""
            conflict.at = timezone.localtime(vc.at).strftime("%Y-%m-%d %H:%M:%S")


def _refresh_result(submission: Submission, member_rows: tuple[list[str], list[dict]] | None = None) -> None:
    """Cache the engine's verdict on the submission (indicators, violations) for lists and exports."""
    from indicators.services import evaluate_submission

    submission.result = evaluate_submission(submission, member_rows=member_rows)


@transaction.atomic
def member_add(*, acting_user: User, submission_id: int, key: str | None = None,
               member_unit: Unit | None = None) -> MemberEntry:
    submission = Submission.objects.select_for_update().select_related("unit", "task").get(pk=submission_id)
    _ensure_writable(submission, acting_user)
    if not submission.form_version.definition.get("subform"):
        raise SaveRefused("该表没有成员单位子表。")
    if member_unit is not None and not member_unit.path.startswith(submission.unit.path):
        raise SaveRefused("只能添加本医联体的成员单位。")
    key = key or uuid.uuid4().hex
    existing = submission.members.filter(key=key).first()
    if existing is not None:  # a retried request (autosave after a network drop) creates nothing new
        return existing
    position = (submission.members.aggregate(m=Max("position"))["m"] or 0) + 1
    values: dict = {}
    if member_unit is not None:
        values = {"hospital_name": member_unit.name}
        if member_unit.org_code:
            values["org_code"] = member_unit.org_code
    entry = MemberEntry.objects.create(submission=submission, key=key, position=position, member_unit=member_unit,
                                       values=values)
    if submission.status == Status.NOT_STARTED:
        from review.workflow import transition

        submission = transition(submission_id=submission.pk, action="start", acting_user=acting_user)
    # The new (empty) entry changes what is unfilled: keep the stored verdict in step, as every save does.
    submission.revision += 1
    submission.updated_by = acting_user
    _refresh_result(submission)
    submission.save(update_fields=["revision", "updated_by", "updated_at", "result"])
    audit(actor=acting_user, action="member_add", unit=submission.unit, obj=submission, key=key,
          member_unit=member_unit.code if member_unit else "")
    return entry


@transaction.atomic
def member_remove(*, acting_user: User, submission_id: int, key: str) -> None:
    submission = Submission.objects.select_for_update().select_related("unit", "task").get(pk=submission_id)
    _ensure_writable(submission, acting_user)
    entry = submission.members.filter(key=key).first()
    if entry is None:
        return  # already removed: a retry is harmless
    ValueChange.objects.bulk_create([
        ValueChange(submission=submission, member_key=key, field_code=code, old=value, new=None, actor=acting_user)
        for code, value in entry.values.items()
    ])
    entry.delete()
    submission.revision += 1
    submission.updated_by = acting_user
    _refresh_result(submission)
    submission.save(update_fields=["revision", "updated_by", "updated_at", "result"])
    audit(actor=acting_user, action="member_remove", unit=submission.unit, obj=submission, key=key,
          values=entry.values)


@transaction.atomic
def members_add(*, acting_user: User, submission_id: int, keys: list[str]) -> list[MemberEntry]:
    """Add several (empty) member entries at once under one lock, evaluated once: the work of a request that
    brings many new members stays linear. Keys that already exist are left as they are (a retried request)."""
    submission = Submission.objects.select_for_update().select_related("unit", "task").get(pk=submission_id)
    _ensure_writable(submission, acting_user)
    if not submission.form_version.definition.get("subform"):
        raise SaveRefused("该表没有成员单位子表。")
    existing = set(submission.members.values_list("key", flat=True))
    wanted = [k for k in dict.fromkeys(str(k) for k in keys) if k and k not in existing]
    if not wanted:
        return []
    position = submission.members.aggregate(m=Max("position"))["m"] or 0
    entries = MemberEntry.objects.bulk_create([
        MemberEntry(submission=submission, key=key, position=position + i, values={})
        for i, key in enumerate(wanted, start=1)])
    if submission.status == Status.NOT_STARTED:
        from review.workflow import transition

        submission = transition(submission_id=submission.pk, action="start", acting_user=acting_user)
    submission.revision += 1
    submission.updated_by = acting_user
    _refresh_result(submission)
    submission.save(update_fields=["revision", "updated_by", "updated_at", "result"])
    audit(actor=acting_user, action="members_add", unit=submission.unit, obj=submission, keys=wanted)
    return entries
