"""Writes on tasks and submissions. Each action: one transaction, one audit row."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F, Max, QuerySet
from django.utils import timezone

from accounts.models import Unit, UnitLevel, User, audit
from reporting.evaluation import catalog_for_task, catalog_key, evaluate_batch, evaluate_submission
from reporting.workflow import transition

from .catalog_loader import content_hash, read_catalog
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
    # The member entries as the save left them (locked, in position order; each with `unit_code`, the code of
    # its member unit or None), so the caller answers without reading them again; None for forms without members.
    members: list[MemberEntry] | None = None

    @property
    def revision(self) -> int:
        return self.submission.revision


_specs: dict[str, dict[str, dict]] = {}


def _field_specs(form) -> dict[str, dict]:
    """field code -> the catalog's field dict (what normalize_value reads), per compiled form version."""
    specs = _specs.get(form.content_hash)
    if specs is None:
        specs = _specs[form.content_hash] = {f["code"]: f for f in form.data.get("fields", [])}
    return specs


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
        # Lock only the submission row (not its task or unit: every save of a task would queue on them); the
        # result is about to be replaced and the form comes from the compiled catalog: neither is read.
        submission = (Submission.objects.select_for_update(of=("self",)).select_related("unit", "task")
                      .defer("result").get(pk=submission_id))
        decision = _ensure_writable(submission, acting_user)
        form = catalog_for_task(submission.task)[submission.form_code]
        lead_fields = _field_specs(form)
        member_fields = _field_specs(form.subform) if form.subform is not None else {}
        # Locked too (of="self": not the member units joined for their codes), read after the submission's lock.
        members = {m.key: m for m in MemberEntry.objects.select_for_update(of=("self",))
                   .filter(submission_id=submission.pk).order_by("position", "id")
                   .only("id", "key", "position", "values", "member_unit_id")
                   .annotate(unit_code=F("member_unit__code"))} if form.subform is not None else {}
        result = SaveResult(submission=submission,
                            members=list(members.values()) if form.subform is not None else None)
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
                # The client's view of the field: its own `base` (the page sends one per field), else the value at
                # `base_revision` read from the audit trail here, under the row lock, so check and write cannot be
                # overtaken. Only a change without `base` pays for reading the trail.
                if "base" in change:
                    base = change["base"]
                else:
                    if history is None:
                        history = _changes_since(submission, base_revision)
                    base = history.values.get((member_key, code), old)
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
        if touched_members:
            _write_member_values([members[key] for key in touched_members])
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


def _write_member_values(entries: list[MemberEntry]) -> None:
    """Store the values of these member entries in one statement (on PostgreSQL UPDATE … FROM VALUES: bulk_update's
    CASE WHEN cost more to build than the rest of the save's writes)."""
    if connection.vendor != "postgresql":
        MemberEntry.objects.bulk_update(entries, ["values"])
        return
    rows = ", ".join(["(%s, %s::jsonb)"] * len(entries))
    params = [p for m in entries for p in (m.pk, json.dumps(m.values))]
    with connection.cursor() as cursor:
        cursor.execute(f'UPDATE {MemberEntry._meta.db_table} AS t SET "values" = v.doc '
                       f"FROM (VALUES {rows}) AS v(id, doc) WHERE t.id = v.id", params)


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
    key = catalog_key(TaskForm.objects.filter(task=task).values_list("version__content_hash", flat=True))
    if key != task.catalog_key:
        task.catalog_key = key
        task.save(update_fields=["catalog_key"])
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
                           chunk_size: int = 500) -> tuple[int, int]:
    """Re-evaluate and store the results of many submissions through the one evaluation path
    (reporting.evaluation.evaluate_batch, a save being a batch of one). Returns (evaluated, changed)."""
    count = changed = 0
    qs = submissions.select_related("task").only(
        "id", "task_id", "unit_id", "form_code", "values", "explanations", "task__previous_id",
        "task__catalog_key").order_by("pk")  # the old result is not read: the UPDATE compares it
    batch: list[Submission] = []
    for submission in qs.iterator(chunk_size=chunk_size):
        batch.append(submission)
        if len(batch) >= chunk_size:
            changed += _reevaluate_batch(batch, acting_user)
            count += len(batch)
            batch = []
    if batch:
        changed += _reevaluate_batch(batch, acting_user)
        count += len(batch)
    return count, changed


def _reevaluate_batch(batch: list[Submission], acting_user: User | None) -> int:
    """Evaluate a batch and store the results; returns how many stored results changed."""
    results = evaluate_batch(batch)
    for s in batch:
        s.result = results[s.pk]
    return submission_results_store(acting_user=acting_user, batch=batch)


def submission_results_store(*, acting_user: User | None, batch: list[Submission]) -> int:
    """Store the freshly computed `result` of many submissions, with one audit row, in one transaction.

    Returns how many stored results changed. One statement per batch on PostgreSQL (UPDATE … FROM VALUES, only
    rows whose result differs): bulk_update's CASE WHEN and psycopg2's executemany (a round trip per row)
    cost more than the engine."""
    if not batch:
        return 0
    table = Submission._meta.db_table
    with transaction.atomic():
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            rows = [(s.pk, json.dumps(s.result, ensure_ascii=False)) for s in batch]
            with connection.cursor() as cursor:
                execute_values(cursor.cursor, f"UPDATE {table} AS t SET result = v.result::jsonb "
                               "FROM (VALUES %s) AS v(id, result) WHERE t.id = v.id "
                               "AND t.result IS DISTINCT FROM v.result::jsonb", rows, page_size=len(rows))
                changed = cursor.cursor.rowcount
        else:
            field = Submission._meta.get_field("result")
            rows = [(field.get_db_prep_value(s.result, connection), s.pk) for s in batch]
            with connection.cursor() as cursor:
                cursor.executemany(f"UPDATE {table} SET result = %s WHERE id = %s", rows)
            changed = len(rows)
        audit(actor=acting_user, action="submission_results_store", count=len(batch), changed=changed,
              first_id=batch[0].pk, last_id=batch[-1].pk)
    return changed
