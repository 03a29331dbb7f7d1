"""催报: reminders pick exactly the units not yet 上报; overdue escalates to the supervisor after M days;
reviewers hear of forms waiting more than K days. The command prints who gets what."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from communication.actions import reminders_send
from communication.reminders import plan
from reporting.models import Status, Submission, Task
from tests import filling as demo

pytestmark = pytest.mark.django_db


def _close_in(task: Task, delta: timedelta) -> Task:
    Task.objects.filter(pk=task.pk).update(window_close=timezone.now() + delta)
    task.refresh_from_db()
    return task


def _units(items, event) -> set[str]:
    return {i["unit"].code for i in items if i["event"] == event}


def test_it_reminds_exactly_the_units_not_yet_submitted(mailable, fill, settings):
    cast = mailable
    settings.COMM_REMIND_BEFORE_DAYS = 3
    task = cast.task
    assert plan(task) == []  # 20 days before the deadline: nobody yet
    fill(cast.jinan_urban, "t3", state=demo.SUBMITTED)
    fill(cast.jinan_county, "t4", state=demo.APPROVED)
    task = _close_in(task, timedelta(days=2))
    items = plan(task)
    not_submitted = set(Submission.objects.filter(task=task, status__in=[Status.NOT_STARTED, Status.DRAFT,
                                                                           Status.REJECTED])
                        .values_list("unit__code", flat=True))
    assert _units(items, "reminder_due") == not_submitted
    assert "3701001" not in not_submitted and "3701002" not in not_submitted and "3701001-2" in not_submitted
    item = next(i for i in items if i["unit"].code == "3701001-2")
    assert [u.username for u in item["users"]] == ["3701001-2"]
    assert "尚未上报" in item["body"]


def test_it_escalates_to_the_supervisor_only_after_m_days_overdue(mailable, settings, django_capture_on_commit_callbacks):
    cast = mailable
    settings.COMM_ESCALATE_AFTER_DAYS = 3
    task = _close_in(cast.task, timedelta(days=-1))
    items = plan(task)
    assert "3701001" in _units(items, "reminder_overdue")
    assert _units(items, "reminder_escalated") == set()
    items = plan(task, now=timezone.now() + timedelta(days=3))
    escalated = {i["unit"].code: i for i in items if i["event"] == "reminder_escalated"}
    assert "370100" in escalated  # the city approves its alliances' 表3/表4
    assert [u.username for u in escalated["370100"]["users"]] == ["370100-sh"]
    assert "3701001" in escalated["370100"]["body"] and "3702001" not in escalated["370100"]["body"]
    assert "370000" in escalated  # the province approves its cities' 表2
    assert "100000" in escalated  # the nation approves the provinces' 表1
    with django_capture_on_commit_callbacks(execute=True):
        reminders_send(acting_user=None, task=task, now=timezone.now() + timedelta(days=3))
    to_city = [m for m in mail.outbox if m.to == ["370100-sh@demo.invalid"]]
    assert len(to_city) == 1 and "逾期" in to_city[0].subject
    before = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        reminders_send(acting_user=None, task=task, now=timezone.now() + timedelta(days=3))
    assert len(mail.outbox) == before  # the same day again: nothing new


def test_it_reminds_reviewers_of_forms_waiting_more_than_k_days(mailable, fill, settings):
    cast = mailable
    settings.COMM_REVIEW_WAIT_DAYS = 5
    fill(cast.jinan_urban, "t3", state=demo.SUBMITTED)
    assert _units(plan(cast.task, now=timezone.now() + timedelta(days=4)), "reminder_review_waiting") == set()
    items = plan(cast.task, now=timezone.now() + timedelta(days=6))
    waiting = [i for i in items if i["event"] == "reminder_review_waiting"]
    assert [(i["unit"].code, [u.username for u in i["users"]]) for i in waiting] == [("370100", ["370100-sh"])]


def test_it_prints_who_gets_what_and_sends_nothing_on_a_dry_run(mailable, settings):
    cast = mailable
    _close_in(cast.task, timedelta(days=1))
    out = StringIO()
    call_command("send_reminders", "--task", cast.task.code, "--dry-run", "--json", stdout=out)
    data = json.loads(out.getvalue())
    row = next(r for r in data["reminders"] if r["unit"] == "3701001")
    assert row["event"] == "reminder_due"
    assert row["recipients"] == [{"username": "3701001", "email": "3701001@demo.invalid"}]
    assert mail.outbox == [] and data["dry_run"] is True
    from communication.models import Delivery

    assert not Delivery.objects.exists()
    out = StringIO()
    call_command("send_reminders", "--task", cast.task.code, stdout=out)
    assert "已安排发送" in out.getvalue() and "3701001@demo.invalid" in out.getvalue()
    assert Delivery.objects.filter(event="reminder_due").exists()
