"""Writes on tasks and submissions. Each action: one transaction, one audit row."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from accounts.models import Unit, UnitLevel, User, audit
from reporting.evaluation import catalog_for_task, evaluate_submission, peers_of
from reporting.workflow import transition

from .catalog_loader import content_hash, member_definition, read_catalog
from .models import FormVersion, MemberEntry, Status, Submission, Task, TaskForm, ValueChange
from .normalize import normalize_value
from .policy import EditDecision, can_edit


@transaction.atomic
def task_create(*, acting_user: User | None, code: str, name: str, period_start, period_end, window_open,
                window_close, catalog_slug: str, previous: Task | None = None, is_current: bool = True) -> Task:
    if is_current:
        Task.objects.filter(is_current=True).update(is_current=False)
    task = Task.objects.create(code=code, name=name, period_start=period_start, period_end=period_end,
                               window_open=window_open, window_close=window_close, catalog_slug=catalog_slug,
                               previous=previous, is_current=is_current)
    _, forms = read_catalog(catalog_slug)
    _attach_catalog(task, forms)
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


def _ensure_writable(submission: Submission, acting_user: User) -> EditDecision:
    """The edit policy's decision; SaveRefused when nothing at all may be changed."""
    decision = can_edit(acting_user, submission)
    if not decision.any_field:
        raise SaveRefused(decision.reason)
    return decision


def _ensure_form_writable(submission: Submission, acting_user: User) -> None:
    """Adding or removing a member entry needs the whole form open (an unlocked field is not enough)."""
    decision = can_edit(acting_user, submission)
    if not decision.allowed:
        raise SaveRefused(decision.reason)


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

    with transaction.atomic():
        submission = (Submission.objects.select_for_update().select_related("unit", "task", "form_version")
                      .get(pk=submission_id))
        decision = _ensure_writable(submission, acting_user)
        definition = submission.form_version.definition
        lead_fields = _fields_of(definition)
        member_fields: dict[str, dict] = {}
        if definition.get("subform"):
            member_fields = _fields_of(member_definition(submission) or {})
        members = {m.key: m for m in submission.members.select_for_update()}
        result = SaveResult(submission=submission)
        stale = base_revision is not None and base_revision != submission.revision
        history: History | None = None
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
            if not decision.allows(code, member_key):
                if old == new:
                    continue  # 68 for 68.0 (a template round trip) is no change of a locked field
                raise FieldLocked(f"“{spec.get('label', code)}”未开放修改：报表状态为“{submission.get_status_display()}”，"
                                  "只有整改要求所指的指标可以修改。")
            if stale:
                if history is None:
                    history = _changes_since(submission, base_revision)
                # The client's view of the field: its own `base`, else the value at `base_revision` read from
                # the audit trail here, under the row lock, so check and write cannot be overtaken.
                base = change["base"] if "base" in change else history.values.get((member_key, code), old)
                if base != old:
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
        explained: dict[str, list] = {}  # check key → [old, new], audited
        for check_code, text in (explanations or {}).items():
            check_code, text = str(check_code), (text or "").strip()[:2000]
            before = submission.explanations.get(check_code)
            if (before or "") == text:
                continue
            if stale:
                if history is None:
                    history = _changes_since(submission, base_revision)
                if check_code in history.explanations and history.explanations[check_code] != before:
                    result.conflicts.append(Conflict(field=check_code, member="", label="填写说明", yours=text,
                                                     theirs=before, by="", at=""))
                    continue
            if text:
                submission.explanations[check_code] = text
            else:
                submission.explanations.pop(check_code, None)
            explained[check_code] = [before, text or None]
        if result.conflicts:
            _name_conflict_authors(submission, result.conflicts)
        if dry_run:
            transaction.set_rollback(True)
            return result
        if not value_changes and not explained:
            return result
        if submission.status == Status.NOT_STARTED:
            # The first save starts the form; transition() saves the status on its own copy of the row.
            transition(submission_id=submission.pk, action="start", acting_user=acting_user)
            submission.refresh_from_db(fields=["status", "status_changed_at", "status_changed_by"])
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
              fields=len(value_changes), revision=submission.revision, explanations=explained)
    return result


@dataclass
class History:
    """What changed after a revision: the first old value of each (member, field) and of each explanation."""

    values: dict[tuple[str, str], object]
    explanations: dict[str, object]


def _changes_since(submission: Submission, base_revision: int) -> History:
    """Reconstruct, from the audit trail, the values the client saw at `base_revision`: the save that produced
    that revision is found among the submission_save audit rows (each records its revision); the first later
    ValueChange of a field (and the first later explanation change) holds, as old, what the client saw. Called
    under the submission's row lock."""
    from accounts.models import AuditEvent

    mine = AuditEvent.objects.filter(action="submission_save", object_type="reporting.submission",
                                     object_id=str(submission.pk))
    since = (mine.filter(data__revision__lte=base_revision).order_by("-at", "-id")
             .values_list("at", flat=True).first())
    saves = list(mine.filter(data__revision__gt=base_revision).order_by("at", "id").values_list("at", "data"))
    later = ValueChange.objects.filter(submission=submission)
    if since is not None:
        later = later.filter(at__gt=since)
    values: dict[tuple[str, str], object] = {}
    for member_key, code, old in later.order_by("at", "id").values_list("member_key", "field_code", "old"):
        values.setdefault((member_key, code), old)
    explanations: dict[str, object] = {}
    for at, data in saves:
        if since is None or at > since:
            for key, (old, _new) in ((data or {}).get("explanations") or {}).items():
                explanations.setdefault(key, old)
    return History(values=values, explanations=explanations)


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

    submission.result = evaluate_submission(submission, member_rows=member_rows)


@transaction.atomic
def member_add(*, acting_user: User, submission_id: int, key: str | None = None,
               member_unit: Unit | None = None) -> MemberEntry:
    submission = Submission.objects.select_for_update().select_related("unit", "task").get(pk=submission_id)
    _ensure_form_writable(submission, acting_user)
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
    _ensure_form_writable(submission, acting_user)
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
    _ensure_form_writable(submission, acting_user)
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
        submission = transition(submission_id=submission.pk, action="start", acting_user=acting_user)
    submission.revision += 1
    submission.updated_by = acting_user
    _refresh_result(submission)
    submission.save(update_fields=["revision", "updated_by", "updated_at", "result"])
    audit(actor=acting_user, action="members_add", unit=submission.unit, obj=submission, keys=wanted)
    return entries


# --- Catalog versions ------------------------------------------------------------------------------------------

def _form_version_for(definition: dict) -> FormVersion:
    """The FormVersion row of this exact definition, created on first sight."""
    digest = content_hash(definition)
    version = FormVersion.objects.filter(content_hash=digest).first()
    if version is None:
        version = FormVersion.objects.create(
            form_code=definition["code"], title=definition.get("title", definition["code"]),
            content_hash=digest, definition=definition,
        )
    return version


def _attach_catalog(task: Task, forms: list[dict]) -> list[str]:
    """Point the task at these definitions; returns the form codes whose version changed."""
    changed: list[str] = []
    for definition in forms:
        version = _form_version_for(definition)
        tf, created = TaskForm.objects.get_or_create(task=task, form_code=definition["code"],
                                                     defaults={"version": version})
        if not created and tf.version_id != version.id:
            tf.version = version
            tf.save(update_fields=["version", "assigned_at"])
            changed.append(definition["code"])
        elif created:
            changed.append(definition["code"])
    return changed


@transaction.atomic
def catalog_attach(*, acting_user: User | None, task: Task, forms: list[dict]) -> list[str]:
    """Point a task at these form definitions (new immutable FormVersion rows where the content is new).

    Returns the codes of the forms whose version changed."""
    changed = _attach_catalog(task, forms)
    if changed:
        audit(actor=acting_user, action="catalog_attach", obj=task, forms=changed)
    return changed


@transaction.atomic
def task_window_set(*, acting_user: User | None, task_id: int, window_open=None, window_close=None,
                    is_current: bool | None = None) -> Task:
    """Move a task's filing window (and optionally make it the current task)."""
    task = Task.objects.select_for_update().get(pk=task_id)
    fields = []
    if window_open is not None:
        task.window_open = window_open
        fields.append("window_open")
    if window_close is not None:
        task.window_close = window_close
        fields.append("window_close")
    if is_current:
        Task.objects.filter(is_current=True).exclude(pk=task.pk).update(is_current=False)
    if is_current is not None:
        task.is_current = is_current
        fields.append("is_current")
    if fields:
        task.save(update_fields=fields)
        audit(actor=acting_user, action="task_window_set", obj=task, window_open=str(task.window_open),
              window_close=str(task.window_close), is_current=task.is_current)
    return task


# --- Stored results ------------------------------------------------------------------------------------------

def submissions_reevaluate(*, acting_user: User | None, submissions: QuerySet[Submission],
                           chunk_size: int = 500) -> int:
    """Re-evaluate and store results for many submissions, with peers/previous/children fetched in bulk."""
    count = 0
    peers_by_key: dict[tuple[int, str], list[dict]] = {}
    # The old result is about to be replaced: do not read and decode it.
    qs = submissions.select_related("task").defer("result").order_by("pk")
    batch: list[Submission] = []
    for submission in qs.iterator(chunk_size=chunk_size):
        key = (submission.task_id, submission.form_code)
        if key not in peers_by_key:
            # The process-wide peer cache lets consecutive chunks on one worker read the peers once.
            peers_by_key[key] = peers_of(*key)
        batch.append(submission)
        if len(batch) >= chunk_size:
            count += _evaluate_batch(batch, peers_by_key, acting_user)
            batch = []
    if batch:
        count += _evaluate_batch(batch, peers_by_key, acting_user)
    return count


def _evaluate_batch(batch: list[Submission], peers_by_key: dict, acting_user: User | None) -> int:
    ids = [s.pk for s in batch]
    members: dict[int, tuple[list[str], list[dict]]] = defaultdict(lambda: ([], []))
    for sid, key, values in (MemberEntry.objects.filter(submission_id__in=ids).order_by("submission_id", "position",
                                                                                         "id")
                             .values_list("submission_id", "key", "values")):
        members[sid][0].append(key)
        members[sid][1].append(values)
    previous: dict[tuple[int, str], dict] = {}
    prev_tasks = {s.task.previous_id for s in batch if s.task.previous_id}
    for unit_id, form_code, values in (Submission.objects.filter(task_id__in=prev_tasks,
                                                                 unit_id__in=[s.unit_id for s in batch])
                                       .exclude(status=Status.NOT_STARTED)
                                       .values_list("unit_id", "form_code", "values")):
        previous[(unit_id, form_code)] = values
    children: dict[int, list[dict]] = defaultdict(list)
    for parent_id, values in (Submission.objects.filter(task_id__in={s.task_id for s in batch},
                                                        unit__parent_id__in=[s.unit_id for s in batch])
                              .exclude(status=Status.NOT_STARTED).values_list("unit__parent_id", "values")):
        children[parent_id].append(values)
    catalogs = {task_id: catalog_for_task(Task(pk=task_id)) for task_id in {s.task_id for s in batch}}
    for s in batch:
        s.result = evaluate_submission(
            s, peers=peers_by_key[(s.task_id, s.form_code)], previous=(previous.get((s.unit_id, s.form_code)), None),
            children=children.get(s.unit_id, []), member_rows=members[s.pk], catalog=catalogs[s.task_id],
        )
    submission_results_store(acting_user=acting_user, batch=batch)
    return len(batch)


def submission_results_store(*, acting_user: User | None, batch: list[Submission]) -> None:
    """Store the freshly computed `result` of many submissions, with one audit row, in one transaction.

    One statement per batch on PostgreSQL (UPDATE … FROM VALUES): bulk_update's CASE WHEN statement and
    psycopg2's executemany (a round trip per row) cost more than the engine."""
    if not batch:
        return
    table = Submission._meta.db_table
    with transaction.atomic():
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            rows = [(s.pk, json.dumps(s.result, ensure_ascii=False)) for s in batch]
            with connection.cursor() as cursor:
                execute_values(cursor.cursor, f"UPDATE {table} AS t SET result = v.result::jsonb "
                               "FROM (VALUES %s) AS v(id, result) WHERE t.id = v.id", rows, page_size=len(rows))
        else:
            field = Submission._meta.get_field("result")
            rows = [(field.get_db_prep_value(s.result, connection), s.pk) for s in batch]
            with connection.cursor() as cursor:
                cursor.executemany(f"UPDATE {table} SET result = %s WHERE id = %s", rows)
        audit(actor=acting_user, action="submission_results_store", count=len(batch), first_id=batch[0].pk,
              last_id=batch[-1].pk)
