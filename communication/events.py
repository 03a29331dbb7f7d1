"""The event registry: every kind of message the platform sends, with its unsubscribe category.

Other apps (e.g. "sampling") send through `communication.actions.notify(event=..., ...)`; a new event is
added with `register_event(...)` (from the app's AppConfig.ready()) or here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Category


@dataclass(frozen=True)
class EventKind:
    name: str
    category: str
    label: str


EVENTS: dict[str, EventKind] = {}


def register_event(name: str, category: str, label: str) -> EventKind:
    if category not in Category.values:
        raise ValueError(f"unknown category {category!r}")
    kind = EventKind(name, category, label)
    EVENTS[name] = kind
    return kind


def event(name: str) -> EventKind:
    try:
        return EVENTS[name]
    except KeyError:
        raise ValueError(f"unknown event {name!r}; register it with communication.events.register_event") from None


for _name, _category, _label in [
    ("submitted", Category.REVIEW_PENDING, "报表已上报，待审核"),
    ("approved", Category.REVIEW_RESULT, "报表审核通过"),
    ("rejected", Category.REVIEW_RESULT, "报表被驳回"),
    ("rechecked", Category.REVIEW_RESULT, "报表复核通过"),
    ("recheck_rejected", Category.REVIEW_RESULT, "报表复核驳回"),
    ("withdrawn", Category.REVIEW_RESULT, "审核结果被撤销"),
    ("reopened", Category.REVIEW_RESULT, "填报截止时间延期"),
    ("commented", Category.REVIEW_RESULT, "审核批注"),
    ("answered", Category.REVIEW_RESULT, "批注已回复"),
    ("question_asked", Category.QA, "留言板新问题"),
    ("question_answered", Category.QA, "留言已答复"),
    ("notice_published", Category.NOTICE, "通知公告"),
    ("reminder_due", Category.REMINDER, "填报截止提醒"),
    ("reminder_overdue", Category.REMINDER, "逾期未上报提醒"),
    ("reminder_escalated", Category.REMINDER, "下级单位逾期未上报"),
    ("reminder_review_waiting", Category.REMINDER, "报表待审核超期"),
    ("rectification_raised", Category.RECTIFICATION, "整改事项"),
    # the verbs sampling's in-app notifications use (they reach mail through review.signals)
    ("rectification", Category.RECTIFICATION, "整改要求"),
    ("rectification_answered", Category.RECTIFICATION, "整改已回复"),
    ("rectification_closed", Category.RECTIFICATION, "整改事项已关闭"),
    ("rectification_reopened", Category.RECTIFICATION, "整改事项重新打开"),
    ("rectification_escalated", Category.RECTIFICATION, "整改事项逾期上报"),
    ("rectification_due", Category.RECTIFICATION, "整改事项到期"),
    ("digest", Category.DIGEST, "每日汇总"),
]:
    register_event(_name, _category, _label)
