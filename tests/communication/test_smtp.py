"""Through a real SMTP server on 127.0.0.1 (aiosmtpd): recipients, subject and the Chinese body; an outage
delays and retries without losing or duplicating a mail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from communication import actions
from communication.models import Delivery, DeliveryState
from review import actions as review_actions
from tests import filling as demo
from tests.communication.smtp import SmtpSink

pytestmark = pytest.mark.django_db


@pytest.fixture
def sink(settings):
    server = SmtpSink().start()
    server.use(settings)
    yield server
    server.stop()


def test_it_delivers_a_rejection_through_a_real_smtp_server(mailable, fill, sink, django_capture_on_commit_callbacks):
    cast = mailable
    with django_capture_on_commit_callbacks(execute=True):
        submission = fill(cast.jinan_urban, "t3", state=demo.SUBMITTED)
    assert [m.recipients for m in sink.messages] == [["370100-sh@demo.invalid"]]  # the submit reached the city
    with django_capture_on_commit_callbacks(execute=True):
        review_actions.submission_reject(acting_user=cast.jinan_reviewer, submission_id=submission.pk,
                                         reason="出院患者人次数填写有误",
                                         comments=[{"field": "outpatient_visits", "text": "门诊人次偏低，请核实"}])
    message = sink.messages[-1]
    assert message.recipients == ["3701001@demo.invalid"]
    assert message.subject == f"【分级诊疗平台】已驳回：《{submission.form_version.definition['title']}》"
    assert "出院患者人次数填写有误" in message.body
    assert "门诊总诊疗人次数：门诊人次偏低，请核实" in message.body
    assert "不再接收此类邮件" in message.body
    assert message.message_id.startswith("<delivery-")


def test_it_retries_after_an_outage_without_losing_or_duplicating(mailable, settings,
                                                                 django_capture_on_commit_callbacks):
    cast = mailable
    sink = SmtpSink()
    sink.use(settings)  # configured, but the server is down
    with django_capture_on_commit_callbacks(execute=True):
        actions.notice_publish(acting_user=cast.jinan_reviewer, title="关于按时上报的通知", body="请各医联体按时上报。",
                               levels=["urban_alliance"])
    deliveries = list(Delivery.objects.filter(event="notice_published"))
    assert len(deliveries) == 2
    assert all(d.state == DeliveryState.PENDING and d.attempts == 1 and d.last_error for d in deliveries)
    assert actions.deliveries_flush() == {}  # backing off
    later = timezone.now() + timedelta(minutes=5)
    assert actions.deliveries_flush(now=later) == {"retry": 2}  # still down: another attempt each
    sink.start()  # the server is back
    try:
        assert actions.deliveries_flush(now=later + timedelta(hours=1)) == {"sent": 2}
        assert actions.deliveries_flush(now=later + timedelta(days=2)) == {}
    finally:
        sink.stop()
    assert sorted(m.recipients[0] for m in sink.messages) == ["3701001-2@demo.invalid", "3701001@demo.invalid"]
    assert all(m.subject == "【通知公告】关于按时上报的通知" for m in sink.messages)
    assert all("请各医联体按时上报。" in m.body for m in sink.messages)
    assert [d.attempts for d in Delivery.objects.filter(event="notice_published")] == [3, 3]
