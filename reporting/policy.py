"""The one edit policy: may this user change this submission (or one field of it) now, and if not, why.

Used by the data-entry page and its JSON API, the save/member actions, the offline template import and the
templates (`{% load edit_policy %}{% can_edit submission as decision %}`). Nothing else decides it.

The rules, in order:
1. role — only a filler of the submission's own unit edits;
2. status — 未填报 / 填报中 / 已驳回 are editable;
3. window — between the task's window_open and the submission's deadline (the task's window_close or a
   supervisor's 延期 deadline_override).
A submission locked by 2 or 3 can still have single fields opened by a *field unlocker*: a function a later app
registers (e.g. sampling: on an approved, sampled submission only the fields with an open rectification item).
Unlockers are asked only when the role allows and the rules above lock the form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from accounts.models import Role, User

from .models import EDITABLE_STATUSES, Status, Submission

# An unlocker gets (user, submission, now) and returns the (member key or "", field code) pairs it opens.
FieldUnlocker = Callable[[User, Submission, datetime], Iterable[tuple[str, str]]]
_unlockers: list[FieldUnlocker] = []


def register_field_unlocker(unlocker: FieldUnlocker) -> FieldUnlocker:
    """Register a field unlocker (call from your app's AppConfig.ready(); usable as a decorator; idempotent)."""
    if unlocker not in _unlockers:
        _unlockers.append(unlocker)
    return unlocker


def unregister_field_unlocker(unlocker: FieldUnlocker) -> None:
    if unlocker in _unlockers:
        _unlockers.remove(unlocker)


@dataclass(frozen=True)
class EditDecision:
    allowed: bool  # the whole form may be changed (or, when asked about one field: that field)
    reason: str = ""  # Chinese, for the page / API / import report; "" when allowed
    code: str = ""  # role | status | not_open | deadline | unlocked | field_locked ("" when allowed)
    unlocked: frozenset[tuple[str, str]] = field(default_factory=frozenset)  # fields an unlocker opened

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def any_field(self) -> bool:
        """Something may be changed: the whole form, or at least one unlocked field."""
        return self.allowed or bool(self.unlocked)

    def allows(self, field_code: str, member: str = "") -> bool:
        return self.allowed or (member or "", field_code) in self.unlocked or ("*", field_code) in self.unlocked


def _fmt(dt: datetime | None) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def _locked(submission: Submission, now: datetime) -> tuple[str, str]:
    """(code, reason) when status or window lock the form, ("", "") when it is open."""
    if submission.status not in EDITABLE_STATUSES:
        hint = "如需修改，请联系上级审核单位驳回。" if submission.status == Status.SUBMITTED else ""
        return "status", f"报表状态为“{submission.get_status_display()}”，不能修改。{hint}"
    if now < submission.task.window_open:
        return "not_open", f"填报尚未开始（{_fmt(submission.task.window_open)} 开始）。"
    if now > submission.deadline():
        return "deadline", f"填报已于 {_fmt(submission.deadline())} 截止，报表已锁定；如需补报请联系上级单位延期。"
    return "", ""


def can_edit(user: User, submission: Submission, *, field: str | None = None, member: str | None = None,
             now: datetime | None = None) -> EditDecision:
    """May `user` change `submission` now — or, with `field` (and `member` key for a member entry), that field?"""
    if not getattr(user, "is_authenticated", False) or user.role != Role.FILLER or user.unit_id != submission.unit_id:
        role = user.get_role_display() if getattr(user, "is_authenticated", False) else "未登录"
        return EditDecision(False, f"只有本单位的填报用户可以修改该报表（您是{role}用户，只能查看）。", "role")
    now = now or timezone.now()
    code, reason = _locked(submission, now)
    if not code:
        return EditDecision(True)
    unlocked: set[tuple[str, str]] = set()
    for unlocker in _unlockers:
        unlocked.update((m or "", f) for m, f in (unlocker(user, submission, now) or ()))
    if field is not None:
        key = (member or "", field)
        if key in unlocked or ("*", field) in unlocked:
            return EditDecision(True, "", "unlocked", frozenset(unlocked))
        if unlocked:
            return EditDecision(False, "该指标未开放修改（只有整改项可以修改）。", "field_locked", frozenset(unlocked))
    return EditDecision(False, reason, code, frozenset(unlocked))
