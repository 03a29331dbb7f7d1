"""Writes of the review workflow: submit (with the gate), approve, reject, re-check, withdraw, reopen, field
comments, bulk approval and notifications.

Every function is one transaction with its audit row; every status change goes through
`reporting.workflow.transition()` (which writes the Transition and the audit row of the move).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, Unit, User, audit
from reporting.catalog_loader import member_definition
from reporting.evaluation import evaluate_submission
from reporting.models import Status, Submission, SubmissionSnapshot
from reporting.selectors import submissions_for
from reporting.workflow import (
    Actor,
    TransitionError,
    actor_kinds,
    approver_level,
    check_transition,
    transition,
)

from . import hooks
from .models import FieldComment, Notification
from .signals import notifications_created

SUBMITTED_STATES = (Status.SUBMITTED, Status.APPROVED, Status.RECHECKED)


class SubmitRefused(Exception):
    """The gate refused the submission: `blocking` lists what must be fixed (violations / unfilled fields)."""

    def __init__(self, message: str, blocking: list[dict]) -> None:
        super().__init__(message)
        self.message = message
        self.blocking = blocking


class ReviewError(Exception):
    """A review write that cannot be done (bad comment target, wrong person …). The message is for the user."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class SubmitOutcome:
    submission: Submission
    snapshot: SubmissionSnapshot
    created: bool  # False: the submission had already been submitted (double click / retry)


@dataclass
class BulkOutcome:
    approved: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (submission id, reason)


# --- definitions and the gate ----------------------------------------------------------------------------------

def field_labels(definition: dict | None) -> dict[str, str]:
    return {f["code"]: f.get("label", f["code"]) for f in (definition or {}).get("fields", [])}


def blocking_items(result: dict, definition: dict | None = None, member_definition_: dict | None = None,
                   members: list[tuple[str, str]] | None = None) -> list[dict]:
    """What stops a submission: hard violations, soft ones without an explanation, unfilled required fields.

    Each item: {"kind": "hard"|"soft"|"unfilled", "check", "message", "fields", "member" (member key or "")};
    soft items also carry "explanation_key" (where the filler's 填写说明 is stored). `members`: (key, name)
    of the member entries in order, so unfilled member fields can name their entry.
    """
    items: list[dict] = []
    for v in result.get("violations", []) or []:
        if v.get("severity") == "hard":
            items.append({"kind": "hard", "check": v.get("check", ""), "message": v.get("message", ""),
                          "fields": list(v.get("fields") or []), "member": v.get("member") or ""})
        elif not v.get("explained"):
            items.append({"kind": "soft", "check": v.get("check", ""), "message": v.get("message", ""),
                          "fields": list(v.get("fields") or []), "member": v.get("member") or "",
                          "explanation_key": v.get("explanation_key") or v.get("check", "")})
    labels = field_labels(definition)
    unfilled = list(result.get("unfilled") or [])
    if unfilled:
        names = "、".join(labels.get(code, code) for code in unfilled[:10])
        more = f"等{len(unfilled)}项" if len(unfilled) > 10 else ""
        items.append({"kind": "unfilled", "check": "", "message": f"必填项未填写：{names}{more}。",
                      "fields": unfilled, "member": ""})
    member_unfilled = result.get("member_unfilled") or {}
    if member_unfilled:
        mlabels = field_labels(member_definition_)
        entries = members or []
        for index, codes in member_unfilled.items():
            if not codes:
                continue
            i = int(index)
            key, name = entries[i] if i < len(entries) else ("", "")
            who = f"第{i + 1}个成员单位" + (f"（{name}）" if name else "")
            names = "、".join(mlabels.get(code, code) for code in codes[:10])
            more = f"等{len(codes)}项" if len(codes) > 10 else ""
            items.append({"kind": "unfilled", "check": "", "message": f"{who}：必填项未填写：{names}{more}。",
                          "fields": list(codes), "member": key})
    return items


def gate(submission: Submission) -> tuple[dict, list[dict]]:
    """Re-evaluate the submission with the engine; returns (result, blocking items)."""

    result = evaluate_submission(submission)
    return result, blocking_items(result, submission.form_version.definition, member_definition(submission),
                                  member_names(submission)) + hooks.extra_blocking(submission)


def member_names(submission: Submission) -> list[tuple[str, str]]:
    """(key, display name) of the member entries in order; the name is the entry's first text value.

    Reads the rows a caller already holds when it put them on the instance as `_member_rows` ([(key, values)] in
    position order; reporting.panel.prepare does for the entry page and the save answer)."""
    sub = member_definition(submission)
    name_field = next((f["code"] for f in (sub or {}).get("fields", []) if f.get("type") == "text"), None)
    rows = submission.__dict__.get("_member_rows")
    if rows is None:
        rows = submission.members.order_by("position", "id").values_list("key", "values")
    return [(key, str(values.get(name_field) or "") if name_field else "") for key, values in rows]


# --- notifications ---------------------------------------------------------------------------------------------

def _form_title(submission: Submission) -> str:
    return submission.form_version.definition.get("title") or submission.form_version.title or submission.form_code


def approver_unit(submission: Submission) -> Unit | None:
    """The unit whose reviewers approve this submission (the ancestor at the form's approver level)."""
    level = approver_level(submission)
    if level is None:
        return None
    codes = [c for c in submission.unit.path.strip("/").split("/") if c]
    return Unit.objects.filter(code__in=codes, level=level).exclude(pk=submission.unit_id).first()


def _reviewers_of(unit: Unit | None) -> list[User]:
    if unit is None:
        return []
    return list(User.objects.filter(unit=unit, role=Role.REVIEWER, is_active=True))


def _fillers_of(submission: Submission) -> list[User]:
    return list(User.objects.filter(unit_id=submission.unit_id, role=Role.FILLER, is_active=True))


def notify(recipients: Iterable[User], submission: Submission | None, verb: str, text: str,
           exclude: User | None = None) -> int:
    rows = [Notification(recipient=u, submission=submission, verb=verb, text=text[:300])
            for u in {u.pk: u for u in recipients}.values() if exclude is None or u.pk != exclude.pk]
    rows = Notification.objects.bulk_create(rows)
    notifications_created.send(sender=Notification, notifications=rows, submission=submission, verb=verb)
    return len(rows)


def _who(user: User) -> str:
    unit = user.unit.name if user.unit_id else ""
    return f"{unit}（{user.display_name or user.username}）" if unit else (user.display_name or user.username)


# --- the workflow actions --------------------------------------------------------------------------------------

def submission_submit(*, acting_user: User, submission_id: int) -> SubmitOutcome:
    """上报: the gate re-evaluates; refused with the blocking list when a hard violation, an unexplained soft one
    or an unfilled required field remains. Stores a snapshot of values, members, explanations and the engine
    result. Idempotent: a second call on a submitted form returns the same snapshot and changes nothing."""
    with transaction.atomic():
        submission = (Submission.objects.select_for_update()
                      .select_related("unit", "task", "form_version").get(pk=submission_id))
        if submission.status in SUBMITTED_STATES and Actor.FILLER in actor_kinds(acting_user, submission):
            snapshot = submission.snapshots.order_by("-created_at", "-id").first()
            if snapshot is not None:
                return SubmitOutcome(submission, snapshot, created=False)
        check_transition(submission, "submit", acting_user)
        result, blocking = gate(submission)
        if blocking:
            raise SubmitRefused(f"还有{len(blocking)}项问题须处理后才能上报。", blocking)
        submission = transition(submission_id=submission.pk, action="submit", acting_user=acting_user,
                                data={"revision": submission.revision})
        result["evaluated_at"] = timezone.now().isoformat()
        Submission.objects.filter(pk=submission.pk).update(result=result)
        submission.result = result
        members = [{"key": m.key, "position": m.position, "member_unit": m.member_unit_id, "values": m.values,
                    "explanations": m.explanations} for m in submission.members.order_by("position", "id")]
        snapshot = SubmissionSnapshot.objects.create(
            submission=submission, revision=submission.revision, values=submission.values, members=members,
            explanations=submission.explanations, result=result, form_version_id=submission.form_version_id,
            created_by=acting_user)
        for submitted in hooks.on_submitted:
            submitted(submission, snapshot, acting_user)
        # Open comments of an earlier rejection are settled by the resubmission.
        submission.field_comments.filter(resolved=False).update(resolved=True)
        notify(_reviewers_of(approver_unit(submission)), submission, "submitted",
               f"{submission.unit.name}已上报《{_form_title(submission)}》，请审核。")
    return SubmitOutcome(submission, snapshot, created=True)


def submission_approve(*, acting_user: User, submission_id: int, note: str = "") -> Submission:
    """审核通过."""
    with transaction.atomic():
        submission = transition(submission_id=submission_id, action="approve", acting_user=acting_user,
                                data={"note": note.strip()} if note.strip() else None)
        submission.field_comments.filter(resolved=False).update(resolved=True)
        notify(_fillers_of(submission), submission, "approved",
               f"《{_form_title(submission)}》已由{_who(acting_user)}审核通过。")
    return submission


def _comment_rows(submission: Submission, comments: Iterable[dict], author: User) -> list[FieldComment]:
    lead = field_labels(submission.form_version.definition)
    member = field_labels(member_definition(submission))
    keys = set(submission.members.values_list("key", flat=True))
    extra = hooks.extra_targets(submission)
    rows = []
    for c in comments:
        text = str(c.get("text") or "").strip()
        code = str(c.get("field") or "").strip()
        member_key = str(c.get("member") or "").strip()
        if not text:
            continue
        if member_key:
            if member_key not in keys:
                raise ReviewError("批注所指的成员单位不存在。")
            if code not in member:
                raise ReviewError(f"成员单位子表中没有指标“{code}”。")
        elif code not in lead and code not in extra:
            raise ReviewError(f"表中没有指标“{code}”。")
        rows.append(FieldComment(submission=submission, member_key=member_key, field_code=code, text=text[:2000],
                                 author=author))
    return rows


def submission_reject(*, acting_user: User, submission_id: int, reason: str,
                      comments: Iterable[dict] = ()) -> Submission:
    """驳回 with a reason; `comments` [{field, member, text}] become FieldComment rows shown on those fields."""
    with transaction.atomic():
        current = Submission.objects.select_related("unit", "task", "form_version").get(pk=submission_id)
        check_transition(current, "reject", acting_user, reason)
        rows = _comment_rows(current, comments, acting_user)
        submission = transition(submission_id=submission_id, action="reject", acting_user=acting_user,
                                reason=reason, data={"comments": len(rows)})
        FieldComment.objects.bulk_create(rows)
        note = f"（另对{len(rows)}项指标提出批注，见报表中各指标旁）" if rows else ""
        notify(_fillers_of(submission), submission, "rejected",
               f"《{_form_title(submission)}》被{_who(acting_user)}驳回。驳回原因：{reason.strip()}{note}")
    return submission


def submission_recheck(*, acting_user: User, submission_id: int, passed: bool = True, reason: str = "",
                       comments: Iterable[dict] = ()) -> Submission:
    """复核 by the level above the approver: 复核通过 (passed) or 复核驳回 (back to the filler, reason required)."""
    action = "recheck" if passed else "recheck_reject"
    with transaction.atomic():
        current = Submission.objects.select_related("unit", "task", "form_version").get(pk=submission_id)
        check_transition(current, action, acting_user, reason)
        rows = [] if passed else _comment_rows(current, comments, acting_user)
        submission = transition(submission_id=submission_id, action=action, acting_user=acting_user,
                                reason=reason, data={"comments": len(rows)} if rows else None)
        FieldComment.objects.bulk_create(rows)
        title = _form_title(submission)
        if passed:
            text = f"《{title}》已由{_who(acting_user)}复核通过。"
        else:
            note = f"（另对{len(rows)}项指标提出批注，见报表中各指标旁）" if rows else ""
            text = f"《{title}》被{_who(acting_user)}复核驳回。驳回原因：{reason.strip()}{note}"
        recipients = _fillers_of(submission) + _reviewers_of(approver_unit(submission))
        notify(recipients, submission, "rechecked" if passed else "recheck_rejected", text, exclude=acting_user)
    return submission


def submission_withdraw(*, acting_user: User, submission_id: int, reason: str) -> Submission:
    """撤销审核: an approved / re-checked form goes back to 已上报 (reason required)."""
    with transaction.atomic():
        submission = transition(submission_id=submission_id, action="withdraw", acting_user=acting_user,
                                reason=reason)
        recipients = _fillers_of(submission) + _reviewers_of(approver_unit(submission))
        notify(recipients, submission, "withdrawn",
               f"《{_form_title(submission)}》的审核结果已被{_who(acting_user)}撤销：{reason.strip()}",
               exclude=acting_user)
    return submission


def submission_reopen(*, acting_user: User, submission_id: int, deadline: datetime, reason: str) -> Submission:
    """延期填报: the supervisor gives one unit a new deadline (after the window closed); recorded as a Transition."""
    with transaction.atomic():
        submission = transition(submission_id=submission_id, action="reopen", acting_user=acting_user,
                                reason=reason, deadline=deadline)
        when = timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")
        notify(_fillers_of(submission), submission, "reopened",
               f"《{_form_title(submission)}》的填报截止时间已由{_who(acting_user)}延至{when}：{reason.strip()}")
    return submission


def approve_bulk(*, acting_user: User, submission_ids: Iterable[int]) -> BulkOutcome:
    """Approve many at once, but only clean ones (no violation at all, not even an explained soft one);
    every other is skipped with the reason."""

    outcome = BulkOutcome()
    ids = sorted({int(i) for i in submission_ids})
    with transaction.atomic():
        found = {s.pk: s for s in submissions_for(acting_user).filter(pk__in=ids)}
        for pk in ids:
            submission = found.get(pk)
            if submission is None:
                outcome.skipped.append((pk, "报表不存在或不在您的管辖范围内。"))
                continue
            try:
                check_transition(submission, "approve", acting_user)
            except TransitionError as e:
                outcome.skipped.append((pk, e.message))
                continue
            violations = (submission.result or {}).get("violations")
            if violations is None:

                violations = evaluate_submission(submission).get("violations", [])
            if violations:
                outcome.skipped.append((pk, f"有{len(violations)}条审核提示，请逐份审核。"))
                continue
            submission_approve(acting_user=acting_user, submission_id=pk)
            outcome.approved.append(pk)
        audit(actor=acting_user, action="approve_bulk", unit=acting_user.unit, approved=outcome.approved,
              skipped=[pk for pk, _ in outcome.skipped])
    return outcome


# --- field comments --------------------------------------------------------------------------------------------

def field_comment_add(*, acting_user: User, submission_id: int, field_code: str, text: str,
                      member_key: str = "") -> FieldComment:
    """A reviewer (approver or re-checker) asks about one field; the unit's fillers are notified."""
    with transaction.atomic():
        submission = Submission.objects.select_related("unit", "task", "form_version").get(pk=submission_id)
        if Actor.SUPERVISOR not in actor_kinds(acting_user, submission):
            raise ReviewError("只有上级审核用户可以批注。", code="permission")
        if submission.status == Status.NOT_STARTED:
            raise ReviewError("该报表尚未填报，不能批注。")
        if not (text or "").strip():
            raise ReviewError("批注内容不能为空。")
        rows = _comment_rows(submission, [{"field": field_code, "member": member_key, "text": text}], acting_user)
        comment = rows[0]
        comment.save()
        audit(actor=acting_user, action="field_comment_add", unit=submission.unit, obj=submission,
              field=field_code, member=member_key, comment=comment.pk)
        label = (field_labels(member_definition(submission)) if member_key
                 else {**field_labels(submission.form_version.definition), **hooks.extra_targets(submission)}
                 ).get(field_code, field_code)
        notify(_fillers_of(submission), submission, "commented",
               f"{_who(acting_user)}对《{_form_title(submission)}》的“{label}”提出批注：{comment.text}")
    return comment


def field_comment_answer(*, acting_user: User, comment_id: int, text: str) -> FieldComment:
    """The unit's filler answers a reviewer's field comment; the comment's author is notified."""
    with transaction.atomic():
        comment = (FieldComment.objects.select_for_update(of=("self",))
                   .select_related("submission__unit", "author").get(pk=comment_id))
        submission = comment.submission
        if acting_user.role != Role.FILLER or acting_user.unit_id != submission.unit_id:
            raise ReviewError("只有本单位的填报用户可以回复批注。", code="permission")
        text = (text or "").strip()
        if not text:
            raise ReviewError("回复内容不能为空。")
        comment.answer = text[:2000]
        comment.answered_by = acting_user
        comment.answered_at = timezone.now()
        comment.save(update_fields=["answer", "answered_by", "answered_at"])
        audit(actor=acting_user, action="field_comment_answer", unit=submission.unit, obj=submission,
              comment=comment.pk)
        if comment.author_id:
            notify([comment.author], submission, "answered",
                   f"{submission.unit.name}回复了您对“{comment.field_code}”的批注：{comment.answer}")
    return comment


# --- notifications ---------------------------------------------------------------------------------------------

def notifications_mark_read(*, acting_user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all unread ones when `ids` is None)."""
    with transaction.atomic():
        qs = Notification.objects.filter(recipient=acting_user, read_at__isnull=True)
        if ids is not None:
            qs = qs.filter(pk__in=list(ids))
        count = qs.update(read_at=timezone.now())
        if count:
            audit(actor=acting_user, action="notifications_mark_read", count=count)
    return count
