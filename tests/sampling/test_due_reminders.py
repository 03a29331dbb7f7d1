"""整改事项到期: the unit's fillers are reminded, in the platform and by mail, of an unanswered item whose deadline
is near or passed yesterday; at most once per item and day, however often beat runs the job."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from accounts.actions import user_email_set
from accounts.models import AuditEvent, Unit
from communication.models import Delivery
from review.models import Notification
from sampling.actions import batch_create, item_answer, item_raise, items_remind_due
from sampling.selection import Params
from sampling.tasks import remind_due_items

from .conftest import free_field

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(cast, approved):
    """Two items on 3701001's sampled 表3: one due in 2 days, one due in 10 days."""
    user_email_set(acting_user=None, user=cast.jinan_urban, email="3701001@demo.invalid")
    submission = approved("3701001", "t3")
    batch_create(acting_user=cast.analyst, task=cast.task, scope=Unit.objects.get(code="100000"),
                 params=Params(size=1, seed=5, random_share=1, forms=["t3"]))
    field = free_field(submission)
    other = next(c for c in submission.values if c != field and isinstance(submission.values[c], int))
    today = timezone.localdate()
    soon = item_raise(acting_user=cast.analyst, submission_id=submission.pk, field_code=field,
                      text="该数与医院统计年报不一致，请核实。", deadline=today + dt.timedelta(days=2))
    later = item_raise(acting_user=cast.analyst, submission_id=submission.pk, field_code=other,
                       text="请提供佐证材料。", deadline=today + dt.timedelta(days=10))
    return soon, later


def _reminders(user):
    return list(Notification.objects.filter(recipient=user, verb="rectification_due").order_by("id"))


def test_it_reminds_the_unit_of_an_item_due_soon_once_a_day(cast, items, django_capture_on_commit_callbacks):
    soon, later = items
    today = timezone.localdate()
    before = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        assert items_remind_due(today=today) == [soon.pk]
        assert items_remind_due(today=today) == []  # beat ran twice that day: one reminder
    [note] = _reminders(cast.jinan_urban)
    assert "将于" in note.text and "还有2天" in note.text and soon.label in note.text
    [message] = [m for m in mail.outbox[before:] if m.to == ["3701001@demo.invalid"]]
    assert "整改事项到期提醒" in message.subject and "还有2天" in message.body
    assert Delivery.objects.filter(user=cast.jinan_urban, event="rectification_due").count() == 1
    assert AuditEvent.objects.filter(action="rectification.remind", object_id=str(soon.pk)).count() == 1
    # The next day it is reminded again; the item due in ten days is not yet.
    assert items_remind_due(today=today + dt.timedelta(days=1)) == [soon.pk]
    assert "还有1天" in _reminders(cast.jinan_urban)[-1].text
    assert later.pk not in items_remind_due(today=today + dt.timedelta(days=2))


def test_it_reminds_once_the_day_after_the_deadline_and_then_stops(cast, items):
    soon, _ = items
    overdue = soon.deadline + dt.timedelta(days=1)
    assert items_remind_due(today=overdue) == [soon.pk]
    assert "已于" in _reminders(cast.jinan_urban)[-1].text
    assert items_remind_due(today=overdue + dt.timedelta(days=1)) == []  # escalation is the sampler's call


def test_it_does_not_remind_of_an_answered_item(cast, items):
    soon, _ = items
    item_answer(acting_user=cast.jinan_urban, item_id=soon.pk, text="已核实，原数据无误，附统计年报。")
    assert items_remind_due(today=timezone.localdate()) == []
    assert _reminders(cast.jinan_urban) == []


def test_it_runs_daily_from_beat_through_the_task(cast, items):
    entry = settings.CELERY_BEAT_SCHEDULE["sampling-remind-due-items"]
    assert entry["task"] == remind_due_items.name
    assert remind_due_items.delay().get() == 1
    assert remind_due_items.delay().get() == 0
