"""A real Celery beat + worker (Redis broker) send a scheduled reminder through a real SMTP server, and a
delivery another worker holds is never sent twice."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from communication import actions
from communication.models import Delivery, DeliveryState
from reporting.models import Task
from tests.communication.smtp import SmtpSink

needs_redis = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)")


def _wait(predicate, seconds: float = 45.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_it_sends_a_scheduled_reminder_from_beat_through_a_worker(mailable, settings, tmp_path, real_celery):
    from celery.beat import Service
    from celery.contrib.testing.worker import start_worker

    app = real_celery
    cast = mailable
    Task.objects.filter(pk=cast.task.pk).update(window_close=timezone.now() + timedelta(days=1))
    sink = SmtpSink().start()
    sink.use(settings)
    # The schedule entry of settings.CELERY_BEAT_SCHEDULE, run every second instead of daily at 08:00.
    entry = dict(settings.CELERY_BEAT_SCHEDULE["communication-reminders"], schedule=1.0)
    app.conf.beat_schedule = {"communication-reminders": entry}
    beat = Service(app, max_interval=1, schedule_filename=str(tmp_path / "beat-schedule"))
    beat_thread = threading.Thread(target=beat.start, daemon=True)
    try:
        with start_worker(app, perform_ping_check=False, pool="solo", concurrency=1, shutdown_timeout=30):
            beat_thread.start()
            assert _wait(lambda: any(m.recipients == ["3701001@demo.invalid"] for m in sink.messages))
            beat.stop()
            beat_thread.join(10)
            _wait(lambda: not Delivery.objects.filter(state=DeliveryState.PENDING).exists(), 20)
    finally:
        beat.stop()
        sink.stop()
        app.conf.beat_schedule = {}
    mine = [m for m in sink.messages if m.recipients == ["3701001@demo.invalid"]]
    assert len(mine) == 1  # beat ran several times that day: one reminder
    assert "填报提醒" in mine[0].subject and "尚未上报" in mine[0].body
    assert Delivery.objects.get(user=cast.jinan_urban, event="reminder_due").state == DeliveryState.SENT


@pytest.mark.django_db(transaction=True)
def test_it_skips_a_delivery_that_another_worker_is_sending(mailable, settings, monkeypatch):
    cast = mailable
    monkeypatch.setattr(actions, "_enqueue", lambda ids: None)  # the queue message is "in flight"
    sink = SmtpSink().start()
    sink.use(settings)
    try:
        with transaction.atomic():
            ids = actions.notify(event="notice_published", recipients=[cast.jinan_urban], subject="锁",
                                 body="x", key="lock")
        assert len(ids) == 1
        holding, release = threading.Event(), threading.Event()

        def other_worker():
            try:
                with transaction.atomic():
                    Delivery.objects.select_for_update().get(pk=ids[0])
                    holding.set()
                    release.wait(10)
            finally:
                connection.close()

        thread = threading.Thread(target=other_worker)
        thread.start()
        assert holding.wait(10)
        assert actions.delivery_send(delivery_id=ids[0]).state == "busy"
        release.set()
        thread.join(10)
        assert actions.delivery_send(delivery_id=ids[0]).state == "sent"
        assert actions.delivery_send(delivery_id=ids[0]).state == "done"
    finally:
        sink.stop()
    assert len(sink.messages) == 1
