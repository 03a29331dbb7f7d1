"""The review workflow: every status change of a submission goes through `transition()`.

The table says, for each action, which statuses it leaves from, where it goes, and who may take it. One
function checks that, locks the row (select_for_update), writes the Transition row and the audit row, all in
the caller's transaction. Nothing else in the code base assigns `Submission.status`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, UnitLevel, User, audit

from .models import FormVersion, Status, Submission, Transition

LEVEL_RANK = {UnitLevel.NATION: 0, UnitLevel.PROVINCE: 1, UnitLevel.CITY: 2, UnitLevel.URBAN_ALLIANCE: 3,
              UnitLevel.COUNTY_ALLIANCE: 3, UnitLevel.MEMBER: 4}


class Actor:
    FILLER = "filler"  # a filler of the submission's own unit
    APPROVER = "approver"  # a reviewer of the unit at the form's approver level above the submission
    RECHECKER = "rechecker"  # a reviewer above the approver level, in the same subtree
    SUPERVISOR = "supervisor"  # approver or rechecker
    SAMPLER = "sampler"  # an analyst/reviewer of the nation or a province above the unit (抽检)


@dataclass(frozen=True)
class Rule:
    sources: tuple[str, ...]
    target: str | None  # None: the status stays (e.g. reopen)
    actor: str
    label: str
    needs_reason: bool = False
    offered: bool = True  # False: taken only by another app's action (never a button or an API verb here)


TRANSITIONS: dict[str, Rule] = {
    "start": Rule((Status.NOT_STARTED,), Status.DRAFT, Actor.FILLER, "开始填报"),
    "submit": Rule((Status.DRAFT, Status.REJECTED), Status.SUBMITTED, Actor.FILLER, "上报"),
    "approve": Rule((Status.SUBMITTED,), Status.APPROVED, Actor.APPROVER, "审核通过"),
    "reject": Rule((Status.SUBMITTED,), Status.REJECTED, Actor.APPROVER, "驳回", needs_reason=True),
    "recheck": Rule((Status.APPROVED,), Status.RECHECKED, Actor.RECHECKER, "复核通过"),
    "recheck_reject": Rule((Status.APPROVED, Status.RECHECKED), Status.REJECTED, Actor.RECHECKER, "复核驳回",
                           needs_reason=True),
    "withdraw": Rule((Status.APPROVED, Status.RECHECKED), Status.SUBMITTED, Actor.SUPERVISOR, "撤销审核",
                     needs_reason=True),
    "reopen": Rule((Status.NOT_STARTED, Status.DRAFT, Status.REJECTED, Status.SUBMITTED), None,
                   Actor.SUPERVISOR, "延期填报", needs_reason=True),
    # 抽检整改 (sampling app): the form stays approved while rectification items are open; these record the start
    # (first item raised) and the end (all items closed, re-evaluated, new snapshot) in the trail.
    "rectify": Rule((Status.APPROVED, Status.RECHECKED), None, Actor.SAMPLER, "抽检整改", needs_reason=True,
                    offered=False),
    "rectify_done": Rule((Status.APPROVED, Status.RECHECKED), None, Actor.SAMPLER, "整改完成", needs_reason=True,
                         offered=False),
}


class TransitionError(Exception):
    """An illegal move: wrong status, wrong person, a missing reason or a closed filing window.

    The message is for the user; `code` says which (status | permission | reason | deadline | unknown), so the
    API can answer 409 / 403 / 400.
    """

    def __init__(self, message: str, code: str = "status") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# Who approves a form is catalog data: the form's "approver_level" (nation | province | city); a form without
# it is approved by the level directly above the filling unit. Every level above the approver may re-check.
PARENT_LEVEL = {UnitLevel.PROVINCE: UnitLevel.NATION, UnitLevel.CITY: UnitLevel.PROVINCE,
                UnitLevel.URBAN_ALLIANCE: UnitLevel.CITY, UnitLevel.COUNTY_ALLIANCE: UnitLevel.CITY,
                UnitLevel.MEMBER: UnitLevel.CITY}


APPROVER_RANKS = (UnitLevel.NATION, UnitLevel.PROVINCE, UnitLevel.CITY)


def _level_rank(level: str) -> int:
    return LEVEL_RANK.get(level, 99)


@lru_cache(maxsize=1024)
def _declared_approver(form_version_id: int) -> str | None:
    """The catalog's approver_level of a form version (versions are immutable: cached per process)."""
    return (FormVersion.objects.filter(pk=form_version_id)
            .values_list("definition__approver_level", flat=True).first())


def approver_level(submission: Submission) -> str | None:
    """The level of the units whose reviewers approve this submission's form (catalog "approver_level")."""
    version = submission._state.fields_cache.get("form_version")
    if version is not None and "definition" not in version.get_deferred_fields():
        declared = version.definition.get("approver_level")
    else:
        declared = _declared_approver(submission.form_version_id)
    return declared or PARENT_LEVEL.get(submission.unit.level)


def _approved_by(levels: list[str]) -> Q:
    """Submissions whose form is approved at one of `levels` (declared, or by default the parent level)."""
    fillers = [child for child, parent in PARENT_LEVEL.items() if parent in levels]
    return (Q(form_version__definition__approver_level__in=levels)
            | Q(form_version__definition__approver_level__isnull=True, unit__level__in=fillers))


def approvable_q(level: str) -> Q:
    """Submissions a reviewer at `level` approves."""
    return _approved_by([level])


def recheckable_q(level: str) -> Q:
    """Submissions a reviewer at `level` re-checks (approved at a level below it)."""
    rank = _level_rank(level)
    return _approved_by([lvl for lvl, r in LEVEL_RANK.items() if r > rank and lvl in APPROVER_RANKS])


def actor_kinds(user: User, submission: Submission) -> set[str]:
    """Which workflow roles `user` holds for this submission."""
    kinds: set[str] = set()
    if not user.is_authenticated or user.unit_id is None:
        return kinds
    unit = submission.unit
    if user.role == Role.FILLER and user.unit_id == submission.unit_id:
        kinds.add(Actor.FILLER)
    if (user.role in (Role.REVIEWER, Role.ANALYST) and user.unit.level in (UnitLevel.NATION, UnitLevel.PROVINCE)
            and unit.path.startswith(user.unit.path) and user.unit_id != unit.id):
        kinds.add(Actor.SAMPLER)
    if user.role == Role.REVIEWER and unit.path.startswith(user.unit.path) and user.unit_id != unit.id:
        level = approver_level(submission)
        if level is None:
            return kinds
        rank, approver_rank = _level_rank(user.unit.level), _level_rank(level)
        if rank == approver_rank:
            kinds |= {Actor.APPROVER, Actor.SUPERVISOR}
        elif rank < approver_rank:
            kinds |= {Actor.RECHECKER, Actor.SUPERVISOR}
    return kinds


def allowed_actions(user: User, submission: Submission) -> list[str]:
    """The actions `user` may take on the submission now (by status and role; the deadline is checked on use)."""
    kinds = actor_kinds(user, submission)
    out = [name for name, rule in TRANSITIONS.items()
           if rule.offered and submission.status in rule.sources and rule.actor in kinds]
    if submission.status == Status.RECHECKED and Actor.RECHECKER not in kinds and "withdraw" in out:
        out.remove("withdraw")
    return out


def check_transition(submission: Submission, action: str, acting_user: User, reason: str = "") -> Rule:
    """Raise TransitionError unless `acting_user` may take `action` on `submission` now. Writes nothing."""
    rule = TRANSITIONS.get(action)
    if rule is None:
        raise TransitionError(f"未知操作：{action}", code="unknown")
    # Who first, then when: a user with no part in the action is refused as such (403) whatever the status.
    kinds = actor_kinds(acting_user, submission)
    if rule.actor not in kinds or (action == "withdraw" and submission.status == Status.RECHECKED
                                   and Actor.RECHECKER not in kinds):
        # a re-checked result is withdrawn only by the level that re-checked, not by the approver below it
        raise TransitionError(f"您无权对该单位的报表执行“{rule.label}”。", code="permission")
    if submission.status not in rule.sources:
        raise TransitionError(f"当前状态为“{submission.get_status_display()}”，不能{rule.label}。")
    if rule.needs_reason and not (reason or "").strip():
        raise TransitionError(f"{rule.label}须填写原因。", code="reason")
    if action == "submit":
        now = timezone.now()
        if now < submission.task.window_open:
            raise TransitionError("填报尚未开始，不能上报。", code="deadline")
        if now > submission.deadline():
            deadline = timezone.localtime(submission.deadline()).strftime("%Y-%m-%d %H:%M")
            raise TransitionError(f"已过填报截止时间（{deadline}），报表已锁定，不能上报；如需补报请联系上级单位延期。",
                                  code="deadline")
    return rule


def transition(*, submission_id: int, action: str, acting_user: User, reason: str = "",
               data: dict | None = None, deadline: datetime | None = None) -> Submission:
    """Apply one workflow action. Locks the submission row; raises TransitionError for an illegal move."""
    if action not in TRANSITIONS:
        raise TransitionError(f"未知操作：{action}", code="unknown")
    with transaction.atomic():
        submission = (Submission.objects.select_for_update().select_related("unit", "task")
                      .get(pk=submission_id))
        rule = check_transition(submission, action, acting_user, reason)
        reason = (reason or "").strip()
        now = timezone.now()
        source = submission.status
        fields = ["status_changed_at", "status_changed_by"]
        if rule.target is not None:
            submission.status = rule.target
            fields.append("status")
        if action == "submit":
            submission.submitted_at = now
            fields.append("submitted_at")
        elif action in ("approve", "recheck"):
            submission.approved_at = now
            fields.append("approved_at")
        elif action == "withdraw":
            submission.approved_at = None
            fields.append("approved_at")
        if action == "reopen":
            if deadline is None or deadline <= now:
                raise TransitionError("延期填报须指定晚于当前时间的新截止时间。", code="reason")
            submission.deadline_override = deadline
            fields.append("deadline_override")
        if rule.needs_reason:
            submission.last_reason = reason
            fields.append("last_reason")
        submission.status_changed_at = now
        submission.status_changed_by = acting_user
        submission.save(update_fields=fields)
        payload = dict(data or {})
        if deadline is not None:
            payload["deadline"] = deadline.isoformat()
        Transition.objects.create(submission=submission, from_status=source, to_status=submission.status,
                                  action=action, actor=acting_user, reason=reason, data=payload)
        audit(actor=acting_user, action=f"submission_{action}", unit=submission.unit, obj=submission,
              from_status=source, to_status=submission.status, reason=reason)
    return submission
