"""Who is reminded of what (pure read side; communication.actions.reminders_send writes the deliveries).

- N days before the deadline (COMM_REMIND_BEFORE_DAYS): the fillers of every unit with a form not yet 上报;
- after the deadline: the unit's fillers every day, and from M days overdue (COMM_ESCALATE_AFTER_DAYS) the
  reviewers of its supervising unit (the unit that approves its form);
- reviewers of a unit with forms waiting for approval more than K days (COMM_REVIEW_WAIT_DAYS).
Keys carry the local date, so running twice on one day sends nothing new.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from reporting.models import Status, Submission, Task

NOT_SUBMITTED = (Status.NOT_STARTED, Status.DRAFT, Status.REJECTED)


def _fmt(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M")


def _users(unit_ids, role) -> dict[int, list[User]]:
    out: dict[int, list[User]] = defaultdict(list)
    for u in User.objects.filter(unit_id__in=set(unit_ids), role=role, is_active=True).select_related("unit"):
        out[u.unit_id].append(u)
    return out


def _title(s: Submission) -> str:
    return s.form_version.definition.get("title") or s.form_version.title or s.form_code


def plan(task: Task, now: datetime | None = None) -> list[dict]:
    """[{event, key, users, unit, subject, body, url, submissions}] — one item per unit (and per supervisor)."""
    from review.actions import approver_unit

    now = now or timezone.now()
    today = timezone.localtime(now).date()
    before = settings.COMM_REMIND_BEFORE_DAYS
    escalate_after = settings.COMM_ESCALATE_AFTER_DAYS
    wait_days = settings.COMM_REVIEW_WAIT_DAYS
    subs = list(Submission.objects.filter(task=task).select_related("unit__parent", "form_version", "task")
                .order_by("unit__path", "form_code"))
    due: dict[int, list[Submission]] = defaultdict(list)
    overdue: dict[int, list[Submission]] = defaultdict(list)
    escalate: dict[int, list[Submission]] = defaultdict(list)  # approver unit id -> overdue subs
    waiting: dict[int, list[Submission]] = defaultdict(list)  # approver unit id -> subs waiting
    approvers = {}
    for s in subs:
        deadline = s.deadline()
        if s.status in NOT_SUBMITTED:
            if now <= deadline:
                if (deadline - now).total_seconds() <= before * 86400 and now >= task.window_open:
                    due[s.unit_id].append(s)
            else:
                overdue[s.unit_id].append(s)
                if (now - deadline).total_seconds() >= escalate_after * 86400:
                    unit = approvers.setdefault(s.pk, approver_unit(s))
                    if unit is not None:
                        escalate[unit.pk].append(s)
        elif s.status == Status.SUBMITTED and s.submitted_at and \
                (now - s.submitted_at).total_seconds() >= wait_days * 86400:
            unit = approvers.setdefault(s.pk, approver_unit(s))
            if unit is not None:
                waiting[unit.pk].append(s)
    fillers = _users([*due, *overdue], Role.FILLER)
    reviewers = _users([*escalate, *waiting], Role.REVIEWER)
    items: list[dict] = []
    home = reverse("home")
    for unit_id, rows in due.items():
        unit = rows[0].unit
        deadline = min(s.deadline() for s in rows)
        lines = "\n".join(f"- 《{_title(s)}》：{s.get_status_display()}" for s in rows)
        items.append({"event": "reminder_due", "key": f"{task.code}:{unit.code}:{today}", "unit": unit,
                      "users": fillers.get(unit_id, []), "url": home, "submissions": rows,
                      "subject": f"【填报提醒】{task.name}将于{_fmt(deadline)}截止上报",
                      "body": f"{unit.name}：\n\n{task.name}的上报截止时间为{_fmt(deadline)}，贵单位以下报表尚未上报：\n"
                              f"{lines}\n\n请及时填报并上报。"})
    for unit_id, rows in overdue.items():
        unit = rows[0].unit
        lines = "\n".join(f"- 《{_title(s)}》：{s.get_status_display()}（截止{_fmt(s.deadline())}）" for s in rows)
        items.append({"event": "reminder_overdue", "key": f"{task.code}:{unit.code}:{today}", "unit": unit,
                      "users": fillers.get(unit_id, []), "url": home, "submissions": rows,
                      "subject": f"【逾期提醒】{task.name}：贵单位报表已逾期未上报",
                      "body": f"{unit.name}：\n\n{task.name}的以下报表已过截止时间仍未上报：\n{lines}\n\n"
                              "报表已锁定，如需补报请联系上级单位延期。"})
    for unit_id, rows in escalate.items():
        unit = approvers[rows[0].pk]
        lines = "\n".join(f"- {s.unit.name}（{s.unit.code}）《{_title(s)}》：{s.get_status_display()}，"
                          f"已逾期{(now - s.deadline()).days}天" for s in rows)
        items.append({"event": "reminder_escalated", "key": f"{task.code}:{unit.code}:{today}", "unit": unit,
                      "users": reviewers.get(unit_id, []), "url": reverse("review:progress"), "submissions": rows,
                      "subject": f"【逾期督办】{task.name}：{len(rows)}份下级报表逾期超过{escalate_after}天未上报",
                      "body": f"{unit.name}：\n\n以下下级单位的报表逾期超过{escalate_after}天仍未上报，请督促：\n{lines}"})
    for unit_id, rows in waiting.items():
        unit = approvers[rows[0].pk]
        lines = "\n".join(f"- {s.unit.name}（{s.unit.code}）《{_title(s)}》：{_fmt(s.submitted_at)}上报" for s in rows)
        items.append({"event": "reminder_review_waiting", "key": f"{task.code}:{unit.code}:{today}", "unit": unit,
                      "users": reviewers.get(unit_id, []), "url": reverse("review:queue"), "submissions": rows,
                      "subject": f"【审核提醒】{task.name}：{len(rows)}份报表待审核超过{wait_days}天",
                      "body": f"{unit.name}：\n\n以下报表上报后已等待审核超过{wait_days}天：\n{lines}\n\n请及时审核。"})
    return items


def as_json(items: list[dict]) -> list[dict]:
    return [{"event": i["event"], "unit": i["unit"].code, "unit_name": i["unit"].name, "subject": i["subject"],
             "recipients": [{"username": u.username, "email": u.email} for u in i["users"]],
             "forms": [f"{s.unit.code}:{s.form_code}" for s in i["submissions"]],
             **({"deliveries": i["deliveries"]} if "deliveries" in i else {})} for i in items]
