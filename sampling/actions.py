"""Writes of the sampling app: batches, rectification items and on-site records.

Every function is one transaction with its audit row. Item moves go through sampling.transitions.item_transition;
the submission's own moves (整改开始 / 整改完成) go through the workflow's transition(); corrected values go through
reporting.actions.submission_save (normalisation, checks, ValueChange audit).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, Unit, UnitLevel, User, audit
from reporting.catalog_loader import member_definition
from reporting.models import Status, Submission, SubmissionSnapshot, Task

from .models import Batch, Item, ItemState, ItemStep, OnsiteCheck, Sample, Target
from .selection import Params, Pick, SelectionError, select
from .transitions import ItemError, is_sampler, item_transition

OPEN_STATES = (ItemState.OPEN, ItemState.ANSWERED, ItemState.ESCALATED)


# --- batches ---------------------------------------------------------------------------------------------------

def may_sample_scope(user: User, scope: Unit) -> bool:
    """The nation samples everywhere, a province its own subtree (their analysts and reviewers)."""
    if not user.is_authenticated:
        return False
    if user.role not in (Role.ANALYST, Role.REVIEWER) or user.unit_id is None:
        return False
    if user.unit.level not in (UnitLevel.NATION, UnitLevel.PROVINCE):
        return False
    return scope.path.startswith(user.unit.path)


def batch_preview(*, acting_user: User | None, task: Task, scope: Unit, params: Params) -> list[Pick]:
    """The selection without writing anything (the preview page and `sample` without --commit)."""
    if acting_user is not None and not may_sample_scope(acting_user, scope):
        raise SelectionError("只有国家级或本省的审核、分析用户可以在其管辖范围内抽检。")
    if scope.level not in (UnitLevel.NATION, UnitLevel.PROVINCE):
        raise SelectionError("抽检范围须为全国或一个省。")
    return select(task, scope, params)


def _values_at(submission: Submission) -> dict:
    return {"values": dict(submission.values or {}),
            "members": {key: values for key, values in submission.members.values_list("key", "values")}}


def batch_create(*, acting_user: User | None, task: Task, scope: Unit, params: Params, name: str = "") -> Batch:
    """Commit a batch: the same selection as the preview, stored with its seed, parameters and reasons."""
    with transaction.atomic():
        picks = batch_preview(acting_user=acting_user, task=task, scope=scope, params=params)
        if not picks:
            raise SelectionError("没有符合条件的已审核报表可抽检。")
        name = (name or "").strip() or f"{task.name} {scope.name}抽检（种子{params.seed}）"
        batch = Batch.objects.create(task=task, scope_unit=scope, name=name[:200], seed=params.seed,
                                     params=params.as_dict(), created_by=acting_user)
        subs = {s.pk: s for s in Submission.objects.filter(pk__in=[p.submission_id for p in picks])
                .select_related("unit")}
        Sample.objects.bulk_create([
            Sample(batch=batch, submission_id=p.submission_id, unit=subs[p.submission_id].unit, part=p.part,
                   score=p.score, reasons=p.reasons, values_at_sampling=_values_at(subs[p.submission_id]),
                   position=i)
            for i, p in enumerate(picks, start=1)])
        audit(actor=acting_user, action="sampling_batch_create", unit=scope, obj=batch, task=task.code,
              seed=params.seed, params=params.as_dict(), samples=len(picks))
    return batch


# --- rectification items ---------------------------------------------------------------------------------------

def _labels(definition: dict | None) -> dict[str, dict]:
    return {f["code"]: f for f in (definition or {}).get("fields", [])}


def _fillers(unit_id: int) -> list[User]:
    return list(User.objects.filter(unit_id=unit_id, role=Role.FILLER, is_active=True))


def current_value(submission: Submission, field_code: str, member_key: str = ""):
    if member_key:
        entry = submission.members.filter(key=member_key).values_list("values", flat=True).first()
        return (entry or {}).get(field_code)
    return (submission.values or {}).get(field_code)


def _deadline_passed(deadline: dt.date, at=None) -> bool:
    return timezone.localdate(at) > deadline


def _sample_for(acting_user: User, submission: Submission, batch_id: int | None) -> Sample:
    qs = Sample.objects.filter(submission=submission).select_related("batch", "batch__scope_unit")
    if batch_id is not None:
        qs = qs.filter(batch_id=batch_id)
    for sample in qs.order_by("-batch__created_at", "-id"):
        if sample.batch.scope_unit.path.startswith(acting_user.unit.path):
            return sample
    raise ItemError("该报表不在您的抽检批次中，请先抽检。", code="invalid")


def item_raise(*, acting_user: User, submission_id: int, text: str, deadline: dt.date, field_code: str = "",
               member_key: str = "", target: str = Target.FIELD, section: str = "",
               batch_id: int | None = None) -> Item:
    """整改要求 on one field (lead form or member entry) or a report section of a sampled submission.

    Refused (ItemError, nothing written): a sampler outside the unit's chain, a field that does not exist, a
    deadline in the past, a second open item on the same target. The unit's fillers are notified; the field
    unlocks for them (sampling.unlock)."""
    from reporting.workflow import transition
    from review.actions import notify

    text = (text or "").strip()
    field_code = (field_code or "").strip()
    member_key = (member_key or "").strip()
    section = (section or "").strip()
    with transaction.atomic():
        submission = (Submission.objects.select_for_update().select_related("unit", "task", "form_version")
                      .get(pk=submission_id))
        if not is_sampler(acting_user, submission.unit):
            raise ItemError("您不在该单位的上级抽检链条中，不能提出整改要求。", code="permission")
        sample = _sample_for(acting_user, submission, batch_id)
        if submission.status not in (Status.APPROVED, Status.RECHECKED):
            raise ItemError(f"报表当前状态为“{submission.get_status_display()}”，只能对审核通过的报表提出整改要求。",
                            code="status")
        if not text:
            raise ItemError("请填写整改要求。")
        if deadline is None:
            raise ItemError("请填写整改期限。")
        if deadline < timezone.localdate():
            raise ItemError("整改期限不能早于今天。")
        original = None
        if target == Target.REPORT:
            if not section:
                raise ItemError("请指明自评报告的章节。")
            label = f"自评报告：{section}"
            field_code, member_key = "", ""
            same = Item.objects.filter(submission=submission, target=Target.REPORT, section=section)
        elif target == Target.FIELD:
            if member_key:
                definition = member_definition(submission)
                names = dict(submission.members.values_list("key", "values"))
                if member_key not in names:
                    raise ItemError("所指的成员单位不存在。")
                spec = _labels(definition).get(field_code)
                if spec is None:
                    raise ItemError(f"成员单位子表中没有指标“{field_code}”。")
                who = next((str(v) for k, v in (names[member_key] or {}).items() if k == "hospital_name"), "")
                label = f"{who or '成员单位'}：{spec.get('label', field_code)}"
            else:
                spec = _labels(submission.form_version.definition).get(field_code)
                if spec is None:
                    raise ItemError(f"表中没有指标“{field_code}”。")
                label = spec.get("label", field_code)
            stored = sample.values_at_sampling or {}
            original = ((stored.get("members") or {}).get(member_key, {}) if member_key
                        else stored.get("values") or {}).get(field_code)
            same = Item.objects.filter(submission=submission, target=Target.FIELD, field_code=field_code,
                                       member_key=member_key)
        else:
            raise ItemError("整改对象只能是指标或自评报告。")
        if same.filter(state__in=OPEN_STATES).exists():
            raise ItemError("该项已有未关闭的整改要求，请在原要求上退回或升级。")
        first = not Item.objects.filter(submission=submission, state__in=OPEN_STATES).exists()
        item = Item.objects.create(sample=sample, batch=sample.batch, submission=submission, unit=submission.unit,
                                   target=target, field_code=field_code, member_key=member_key, section=section,
                                   label=label[:300], text=text[:2000], deadline=deadline, original_value=original,
                                   raised_by=acting_user)
        ItemStep.objects.create(item=item, action="raise", from_state="", to_state=item.state, actor=acting_user,
                                note=item.text, data={"deadline": deadline.isoformat()})
        if first:
            transition(submission_id=submission.pk, action="rectify", acting_user=acting_user,
                       reason=f"抽检整改：{item.label}", data={"batch": sample.batch_id, "item": item.pk})
        audit(actor=acting_user, action="rectification_raise", unit=submission.unit, obj=item,
              submission=submission.pk, field=field_code, member=member_key, section=section,
              deadline=deadline.isoformat())
        notify(_fillers(submission.unit_id), submission, "rectification_raised",
               f"{sample.batch.scope_unit.name}抽检对“{item.label}”提出整改要求（期限{deadline:%Y-%m-%d}）：{item.text}")
    return item


def _item(item_id: int) -> Item:
    return Item.objects.select_related("submission", "unit", "batch", "raised_by").get(pk=item_id)


def item_answer(*, acting_user: User, item_id: int, text: str = "", value: object = None,
                set_value: bool = False, evidence=None) -> Item:
    """The unit answers: optionally corrects the value (through submission_save, the same path as typing it),
    and/or keeps it with an explanation, optionally with an evidence file (an upload, stored through the files
    app under the unit). After the deadline the answer is refused."""
    from reporting.actions import SaveRefused, submission_save

    text = (text or "").strip()
    with transaction.atomic():
        item = Item.objects.select_for_update(of=("self",)).select_related("submission", "unit").get(pk=item_id)
        if item.state == ItemState.OPEN and _deadline_passed(item.deadline):
            raise ItemError(f"已超过整改期限（{item.deadline:%Y-%m-%d}），不能再答复；请联系抽检单位。",
                            code="deadline")
        if set_value and item.target == Target.FIELD and item.state == ItemState.OPEN:
            try:
                result = submission_save(acting_user=acting_user, submission_id=item.submission_id,
                                         changes=[{"field": item.field_code, "member": item.member_key,
                                                   "value": value}])
            except SaveRefused as e:
                raise ItemError(str(e), code="status") from None
            if result.errors:
                raise ItemError(next(iter(result.errors.values())))
        now_value = current_value(Submission.objects.get(pk=item.submission_id), item.field_code, item.member_key) \
            if item.target == Target.FIELD else None
        changed = item.target == Target.FIELD and now_value != item.original_value
        if not changed and not text:
            raise ItemError("请修改数值，或填写保留原值的说明。")
        item = item_transition(item_id=item.pk, action="answer", acting_user=acting_user, note=text,
                               data={"value_changed": changed})
        item.answer = text[:2000]
        item.answered_value = now_value
        item.value_changed = changed
        item.answered_by, item.answered_at = acting_user, timezone.now()
        if evidence is not None:
            item.evidence_file_id = _store(acting_user, item.unit, evidence, "rectification_evidence").pk
        item.save(update_fields=["answer", "answered_value", "value_changed", "answered_by", "answered_at",
                                 "evidence_file_id"])
        from review.actions import notify

        if item.raised_by_id:
            notify([item.raised_by], item.submission, "rectification_answered",
                   f"{item.unit.name}已答复整改要求“{item.label}”" + ("（已修改数值）" if changed else "（保留原值）"))
    return item


def _store(acting_user: User, unit: Unit, upload, purpose: str):
    from files.actions import file_store
    from files.sniff import FileRefused

    try:
        return file_store(acting_user=acting_user, unit=unit, upload=upload, purpose=purpose)
    except FileRefused as e:
        raise ItemError(e.message) from None


def _finish_if_settled(acting_user: User, submission_id: int) -> SubmissionSnapshot | None:
    """All items of the submission closed: re-evaluate, store a new snapshot, and record 整改完成 through the
    workflow. Returns the snapshot (None while items remain)."""
    from reporting.evaluation import evaluate_submission
    from reporting.workflow import transition

    if Item.objects.filter(submission_id=submission_id, state__in=OPEN_STATES).exists():
        return None
    if Submission.objects.filter(pk=submission_id).values_list("status", flat=True).first() not in (
            Status.APPROVED, Status.RECHECKED):
        return None  # withdrawn or rejected meanwhile: the review workflow has taken it over
    submission = transition(submission_id=submission_id, action="rectify_done", acting_user=acting_user,
                            reason="整改要求已全部关闭")
    submission = Submission.objects.select_related("task", "form_version", "unit").get(pk=submission_id)
    result = evaluate_submission(submission)
    result["evaluated_at"] = timezone.now().isoformat()
    Submission.objects.filter(pk=submission_id).update(result=result)
    members = [{"key": m.key, "position": m.position, "member_unit": m.member_unit_id, "values": m.values,
                "explanations": m.explanations} for m in submission.members.order_by("position", "id")]
    snapshot = SubmissionSnapshot.objects.create(
        submission=submission, revision=submission.revision, values=submission.values, members=members,
        explanations=submission.explanations, result=result, form_version_id=submission.form_version_id,
        created_by=acting_user)
    audit(actor=acting_user, action="rectification_settled", unit=submission.unit, obj=submission,
          snapshot=snapshot.pk, revision=submission.revision)
    return snapshot


def item_close(*, acting_user: User, item_id: int, note: str = "") -> Item:
    """Accept the answer. When it was the submission's last open item the submission is settled."""
    from review.actions import notify

    with transaction.atomic():
        item = item_transition(item_id=item_id, action="close", acting_user=acting_user, note=note)
        if item.target == Target.FIELD:
            now_value = current_value(item.submission, item.field_code, item.member_key)
            item.value_changed = now_value != item.original_value
            item.save(update_fields=["value_changed"])
        _finish_if_settled(acting_user, item.submission_id)
        item = _item(item.pk)
        notify(_fillers(item.unit_id), item.submission, "rectification_closed",
               f"整改要求“{item.label}”已通过抽检单位确认关闭。")
    return item


def item_reopen(*, acting_user: User, item_id: int, note: str, deadline: dt.date | None = None) -> Item:
    """Send the item back to the unit (a reason is required); a new deadline when the old one has passed."""
    from review.actions import notify

    with transaction.atomic():
        current = Item.objects.get(pk=item_id)
        if deadline is not None and deadline < timezone.localdate():
            raise ItemError("整改期限不能早于今天。")
        if deadline is None and _deadline_passed(current.deadline):
            raise ItemError("原整改期限已过，退回时须指定新的整改期限。")
        item = item_transition(item_id=item_id, action="reopen", acting_user=acting_user, note=note,
                               data={"deadline": deadline.isoformat()} if deadline else None)
        if deadline is not None:
            item.deadline = deadline
            item.save(update_fields=["deadline"])
        item = _item(item.pk)
        notify(_fillers(item.unit_id), item.submission, "rectification_raised",
               f"整改要求“{item.label}”被退回，请重新整改（期限{item.deadline:%Y-%m-%d}）：{note.strip()}")
    return item


def item_escalate(*, acting_user: User, item_id: int, note: str) -> Item:
    """Escalate (to on-site verification or the level above): the unit's field locks again; the samplers of
    the level above the batch (the batch's own level for a national batch) are notified."""
    from review.actions import notify

    with transaction.atomic():
        item = item_transition(item_id=item_id, action="escalate", acting_user=acting_user, note=note)
        item = _item(item.pk)
        scope = item.batch.scope_unit
        above = scope.parent or scope
        recipients = User.objects.filter(unit=above, role__in=(Role.ANALYST, Role.REVIEWER), is_active=True)
        notify(recipients, item.submission, "rectification_escalated",
               f"{_who(acting_user)}将{item.unit.name}的整改要求“{item.label}”升级：{note.strip()}",
               exclude=acting_user)
    return item


def items_remind_due(*, today: dt.date | None = None, days_ahead: int | None = None) -> list[int]:
    """The daily 整改事项到期 reminder (beat: sampling.remind_due_items): the fillers of every unit with an item
    still awaiting its answer (待整改) whose deadline is within `days_ahead` days, or passed yesterday, get one
    in-app notification per item (and the mail the communication app makes of it). At most one reminder per item
    and day, however often it runs; returns the ids of the items reminded."""
    from review.actions import notify

    today = today or timezone.localdate()
    days_ahead = settings.FJZL_RECTIFICATION_REMIND_DAYS if days_ahead is None else days_ahead
    window = (today - dt.timedelta(days=1), today + dt.timedelta(days=days_ahead))
    reminded: list[int] = []
    with transaction.atomic():
        due = (Item.objects.select_for_update(skip_locked=True, of=("self",))
               .filter(state=ItemState.OPEN, deadline__range=window)
               .exclude(reminded_on=today).select_related("submission", "unit").order_by("deadline", "id"))
        for item in due:
            left = (item.deadline - today).days
            when = (f"已于{item.deadline:%Y-%m-%d}到期，请立即答复" if left < 0 else
                    "今天到期，请今天内答复" if left == 0 else f"将于{item.deadline:%Y-%m-%d}到期（还有{left}天），请按期答复")
            notify(_fillers(item.unit_id), item.submission, "rectification_due",
                   f"整改要求“{item.label}”{when}：{item.text}")
            item.reminded_on = today
            item.save(update_fields=["reminded_on"])
            audit(actor=None, action="rectification.remind", unit=item.unit, obj=item,
                  deadline=item.deadline.isoformat(), day=today.isoformat())
            reminded.append(item.pk)
    return reminded


def _who(user: User) -> str:
    return f"{user.unit.name}（{user.display_name or user.username}）" if user.unit_id else user.username


# --- on-site verification --------------------------------------------------------------------------------------

def onsite_record(*, acting_user: User, sample_id: int, field_code: str, verified: float, inspector: str,
                  checked_on: dt.date, member_key: str = "", conclusion: str = "",
                  attachments: list | None = None) -> OnsiteCheck:
    """现场抽查 of one sampled field: the value verified from source documents against the reported value at
    sampling time; `attachments` (photos, scans) are stored through the files app under the inspector's unit.
    Recording the same field again replaces the record (audited; earlier attachments are kept)."""
    with transaction.atomic():
        sample = Sample.objects.select_related("submission__form_version", "unit", "batch").get(pk=sample_id)
        if not is_sampler(acting_user, sample.unit):
            raise ItemError("您不在该单位的上级抽检链条中，不能录入现场抽查结果。", code="permission")
        inspector = (inspector or "").strip()
        if not inspector:
            raise ItemError("请填写核查人。")
        if checked_on is None or checked_on > timezone.localdate():
            raise ItemError("核查日期不能晚于今天。")
        stored = sample.values_at_sampling or {}
        if member_key:
            spec = _labels(member_definition(sample.submission)).get(field_code)
            reported = ((stored.get("members") or {}).get(member_key) or {}).get(field_code)
        else:
            spec = _labels(sample.submission.form_version.definition).get(field_code)
            reported = (stored.get("values") or {}).get(field_code)
        if spec is None:
            raise ItemError(f"表中没有指标“{field_code}”。")
        if type(reported) not in (int, float):
            raise ItemError(f"“{spec.get('label', field_code)}”没有可核查的上报数值。")
        try:
            verified = float(verified)
        except (TypeError, ValueError):
            raise ItemError("核实值须为数字。") from None
        previous = OnsiteCheck.objects.filter(sample=sample, field_code=field_code, member_key=member_key).first()
        attachment_ids = list(previous.attachment_ids) if previous else []
        attachment_ids += [_store(acting_user, acting_user.unit, f, "onsite_evidence").pk for f in attachments or []]
        check, created = OnsiteCheck.objects.update_or_create(
            sample=sample, field_code=field_code, member_key=member_key,
            defaults={"label": spec.get("label", field_code)[:300], "reported": float(reported),
                      "verified": verified, "inspector": inspector[:100], "checked_on": checked_on,
                      "conclusion": (conclusion or "").strip()[:4000], "attachment_ids": attachment_ids,
                      "recorded_by": acting_user})
        audit(actor=acting_user, action="onsite_record", unit=sample.unit, obj=check, sample=sample.pk,
              field=field_code, member=member_key, reported=float(reported), verified=verified, created=created)
    return check
