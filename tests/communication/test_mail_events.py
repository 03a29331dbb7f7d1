"""Each event sends one mail to the right people (Django's locmem backend), idempotently, with digest, quiet
hours, unsubscribe and a mail server that refuses."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from communication import actions, channels
from communication.models import Category, Delivery, DeliveryState, QuestionCategory
from review import actions as review_actions
from tests import filling as demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """Run `fn` and return the mails its transaction sent after commit."""

    def _sent(fn, *args, **kwargs):
        before = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            fn(*args, **kwargs)
        return mail.outbox[before:]

    return _sent


def test_it_mails_the_approving_reviewers_when_a_form_is_submitted(mailable, fill, sent):
    cast = mailable
    mails = sent(fill, cast.jinan_urban, "t3", state=demo.SUBMITTED)
    assert [m.to for m in mails] == [["370100-sh@demo.invalid"]]
    assert "待审核" in mails[0].subject and "山东第一医科大学第一附属医院医疗集团" in mails[0].subject
    assert "已上报" in mails[0].body and "/review/submissions/" in mails[0].body


def test_it_mails_the_filler_the_rejection_reason_and_the_field_comments(mailable, fill, sent):
    cast = mailable
    submission = fill(cast.jinan_urban, "t3", state=demo.SUBMITTED)
    mails = sent(review_actions.submission_reject, acting_user=cast.jinan_reviewer, submission_id=submission.pk,
                 reason="门诊人次与上年差异过大", comments=[{"field": "outpatient_visits", "text": "请核实门诊人次"}])
    assert [m.to for m in mails] == [["3701001@demo.invalid"]]
    body = mails[0].body
    assert "驳回" in mails[0].subject
    assert "门诊人次与上年差异过大" in body and "门诊总诊疗人次数：请核实门诊人次" in body


def test_it_mails_the_filler_when_approved(mailable, fill, sent):
    cast = mailable
    submission = fill(cast.jinan_urban, "t3", state=demo.SUBMITTED)
    mails = sent(review_actions.submission_approve, acting_user=cast.jinan_reviewer, submission_id=submission.pk)
    assert [m.to for m in mails] == [["3701001@demo.invalid"]]
    assert "审核通过" in mails[0].subject


def test_it_mails_the_asker_when_a_question_is_answered(mailable, sent):
    cast = mailable
    mails = sent(actions.question_ask, acting_user=cast.jinan_urban, category=QuestionCategory.SYSTEM,
                 title="如何导出报表", body="找不到导出按钮")
    assert [m.to for m in mails] == [["370100-sh@demo.invalid"]]  # the responsible unit is told
    q = Delivery.objects.get(event="question_asked").key.split(":")[-1]
    mails = sent(actions.question_transition, acting_user=cast.jinan_reviewer, question_id=int(q),
                 action="answer", text="在“数据导出”页面。")
    assert [m.to for m in mails] == [["3701001@demo.invalid"]]
    assert "已答复" in mails[0].subject and "在“数据导出”页面。" in mails[0].body


def test_it_mails_a_published_notice_to_its_audience_only(mailable, sent):
    cast = mailable
    mails = sent(actions.notice_publish, acting_user=cast.jinan_reviewer, title="济南市填报通知", body="请按时上报",
                 levels=["urban_alliance"])
    assert sorted(m.to[0] for m in mails) == ["3701001-2@demo.invalid", "3701001@demo.invalid"]
    assert all("济南市填报通知" in m.subject for m in mails)


def test_it_sends_another_apps_event_once_per_key(mailable, sent):
    cast = mailable
    send = dict(event="rectification_raised", recipients=[cast.jinan_urban], subject="整改事项：门诊人次",
                body="请于10日内整改。", key="item:7")
    assert len(sent(actions.notify, **send)) == 1
    assert sent(actions.notify, **send) == []  # the same event again: nothing new
    assert Delivery.objects.filter(event="rectification_raised").count() == 1
    with pytest.raises(ValueError):
        actions.notify(**{**send, "event": "no_such_event"})


def test_it_holds_mail_for_the_daily_digest(mailable, sent):
    cast = mailable
    actions.contact_update(acting_user=cast.jinan_urban, daily_digest=True)
    assert sent(actions.notify, event="rectification_raised", recipients=[cast.jinan_urban], subject="整改一",
                body="甲", key="1") == []
    assert sent(actions.notify, event="notice_published", recipients=[cast.jinan_urban], subject="通知二",
                body="乙", key="2") == []
    mails = sent(actions.digests_send)
    assert len(mails) == 1 and mails[0].to == ["3701001@demo.invalid"]
    assert "整改一" in mails[0].body and "通知二" in mails[0].body and "共2条" in mails[0].body
    assert sent(actions.digests_send) == []
    assert set(Delivery.objects.exclude(event="digest").values_list("state", flat=True)) == {DeliveryState.DIGESTED}


def test_it_waits_for_the_end_of_quiet_hours(mailable, sent):
    cast = mailable
    now = timezone.localtime()
    start = (now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    actions.contact_update(acting_user=cast.jinan_urban, quiet_start=start, quiet_end=end)
    assert sent(actions.notify, event="notice_published", recipients=[cast.jinan_urban], subject="夜间通知",
                body="x", key="q") == []
    assert actions.deliveries_flush() == {}
    assert sent(actions.deliveries_flush, now=timezone.now() + timedelta(hours=2)) != []
    assert mail.outbox[-1].subject == "夜间通知"


def test_it_unsubscribes_one_category_by_the_link_without_login(mailable, sent, client):
    cast = mailable
    mails = sent(actions.notify, event="reminder_due", recipients=[cast.jinan_urban], subject="催报", body="x",
                 key="a")
    link = next(line for line in mails[0].body.splitlines() if "/comm/unsubscribe/" in line).split("：", 1)[1]
    path = link.split("127.0.0.1:8000", 1)[1]
    assert "催报与逾期提醒" in client.get(path).content.decode()  # GET only asks
    assert sent(actions.notify, event="reminder_due", recipients=[cast.jinan_urban], subject="催报2", body="x",
                key="b") != []
    assert "已退订" in client.post(path).content.decode()
    assert sent(actions.notify, event="reminder_due", recipients=[cast.jinan_urban], subject="催报3", body="x",
                key="c") == []
    assert sent(actions.notify, event="notice_published", recipients=[cast.jinan_urban], subject="通知",
                body="x", key="d") != []
    assert client.post(path[:-5] + "xxxx/").status_code == 400
    assert mails[0].extra_headers["List-Unsubscribe"].startswith("<http")


def test_it_never_blocks_a_submit_when_the_mail_server_refuses_and_sends_later(mailable, fill, sent, monkeypatch):
    cast = mailable
    real_send = channels.EmailChannel.send

    def refuse(self, message):
        raise channels.ChannelError("ConnectionRefusedError: [Errno 111] Connection refused")

    monkeypatch.setattr(channels.EmailChannel, "send", refuse)
    submission = None

    def submit():
        nonlocal submission
        submission = fill(cast.jinan_urban, "t3", state=demo.SUBMITTED)

    assert sent(submit) == []
    assert submission.status == "submitted"
    delivery = Delivery.objects.get(event="submitted")
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 1 and "refused" in delivery.last_error
    assert delivery.not_before > timezone.now()
    assert actions.deliveries_flush() == {}  # not due yet: backoff
    monkeypatch.setattr(channels.EmailChannel, "send", real_send)
    mails = sent(actions.deliveries_flush, now=timezone.now() + timedelta(hours=1))
    assert [m.to for m in mails] == [["370100-sh@demo.invalid"]]
    assert sent(actions.deliveries_flush, now=timezone.now() + timedelta(days=1)) == []
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENT and delivery.attempts == 2


def test_it_leaves_a_delivery_pending_when_the_worker_dies_mid_send(mailable, sent, monkeypatch):
    cast = mailable

    class WorkerLost(BaseException):
        pass

    def die(self, message):
        raise WorkerLost

    monkeypatch.setattr(channels.EmailChannel, "send", die)
    with pytest.raises(WorkerLost):
        sent(actions.notify, event="notice_published", recipients=[cast.jinan_urban], subject="一次", body="x",
             key="once")
    delivery = Delivery.objects.get(key="notice_published:once")
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 0  # rolled back with the worker
    monkeypatch.undo()
    assert len(sent(actions.deliveries_flush)) == 1
    assert sent(actions.deliveries_flush) == []
    assert actions.delivery_send(delivery_id=delivery.pk).state == "done"


def test_it_gives_up_after_the_last_attempt(mailable, settings, monkeypatch, sent):
    cast = mailable
    settings.COMM_MAX_ATTEMPTS = 2
    monkeypatch.setattr(channels.EmailChannel, "send",
                        lambda self, m: (_ for _ in ()).throw(channels.ChannelError("down")))
    sent(actions.notify, event="notice_published", recipients=[cast.jinan_urban], subject="s", body="x", key="k")
    actions.deliveries_flush(now=timezone.now() + timedelta(days=1))
    assert Delivery.objects.get().state == DeliveryState.FAILED


def test_it_sends_nothing_to_people_without_an_address(cast, sent):
    assert sent(actions.notify, event="notice_published", recipients=[cast.jinan_urban], subject="s", body="x",
                key="k") == []
    assert not Delivery.objects.exists()


def test_it_keeps_contact_details_and_preferences_on_the_settings_page(cast, client):
    client.force_login(cast.jinan_urban)
    response = client.post(reverse("communication:settings"), {
        "email": "lead@hospital.invalid", "mobile": "13800000000", "daily_digest": "1",
        "quiet_start": "22:00", "quiet_end": "07:30", "cat_notice": "1", "cat_review_result": "1"})
    assert response.status_code == 302
    cast.jinan_urban.refresh_from_db()
    pref = cast.jinan_urban.contact
    assert cast.jinan_urban.email == "lead@hospital.invalid" and pref.mobile == "13800000000"
    assert pref.daily_digest and pref.quiet_start == time(22, 0) and pref.quiet_end == time(7, 30)
    assert pref.is_unsubscribed(Category.REMINDER) and not pref.is_unsubscribed(Category.NOTICE)
    bad = client.post(reverse("communication:settings"), {"email": "not-an-address"})
    assert "电子邮箱格式不正确" in bad.content.decode()


def test_it_sends_through_a_plugged_in_channel_beside_e_mail(mailable, sent, settings):
    cast = mailable
    handed: list[channels.Outgoing] = []

    class SmsChannel(channels.Channel):
        name = "sms"

        def address_for(self, user) -> str:
            return user.contact.mobile if hasattr(user, "contact") else ""

        def send(self, message: channels.Outgoing) -> None:
            handed.append(message)

    channels.register(SmsChannel())
    settings.COMM_CHANNELS = ["email", "sms"]
    actions.contact_update(acting_user=cast.jinan_urban, mobile="13900000000")
    cast.jinan_urban.refresh_from_db()
    mails = sent(actions.notify, event="rectification_due", recipients=[cast.jinan_urban, cast.jinan_county],
                 subject="整改到期", body="整改事项将于明日到期。", key="due:1")
    assert sorted(m.to[0] for m in mails) == ["3701001@demo.invalid", "3701002@demo.invalid"]
    assert [(m.address, m.subject) for m in handed] == [("13900000000", "整改到期")]
    assert set(Delivery.objects.filter(channel="sms").values_list("state", flat=True)) == {DeliveryState.SENT}


def test_it_mails_a_large_audience_through_one_flush(mailable, sent):
    cast = mailable
    mails = sent(actions.notice_publish, acting_user=cast.nation_reviewer, title="全国通知", body="请按时上报。")
    recipients = {m.to[0] for m in mails}
    assert len(recipients) == len(mails) > actions.ENQUEUE_ONE_BY_ONE
    assert "370000@demo.invalid" in recipients and "100000-sh@demo.invalid" not in recipients  # not the publisher


def test_it_mails_the_unit_when_sampling_raises_a_rectification_item(mailable, fill, sent):
    from accounts.models import Unit
    from sampling.actions import batch_create, item_raise
    from sampling.selection import Params

    cast = mailable
    submission = fill(cast.jinan_urban, "t3", state=demo.APPROVED)
    batch_create(acting_user=cast.analyst, task=cast.task, scope=Unit.objects.get(code="100000"),
                 params=Params(size=1, seed=5, random_share=1, forms=["t3"]))
    mails = sent(item_raise, acting_user=cast.analyst, submission_id=submission.pk, field_code="outpatient_visits",
                 text="门诊人次与医院统计年报不一致，请核实。", deadline=timezone.localdate() + timedelta(days=7))
    assert [m.to for m in mails] == [["3701001@demo.invalid"]]
    assert "整改要求" in mails[0].subject and "门诊人次与医院统计年报不一致" in mails[0].body
