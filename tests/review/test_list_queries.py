"""The notification list and a submission's audit trail cost the same few queries for 3 rows as for 30."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reporting.actions import submission_save
from review.actions import notify

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_it_lists_notifications_with_a_constant_number_of_queries(cast, fill, client):
    submissions = [fill(cast.jinan_urban, "t3"), fill(cast.jinan_county, "t4")]
    client.force_login(cast.jinan_reviewer)
    url = reverse("review:notifications")
    for i in range(3):
        notify([cast.jinan_reviewer], submissions[i % 2], "submitted", f"通知{i}")
    few = _queries(client, url)
    for i in range(27):
        notify([cast.jinan_reviewer], submissions[i % 2], "submitted", f"通知{i}")
    page = client.get(url).content.decode()
    assert "通知26" in page
    assert _queries(client, url) == few
    assert few <= 10


def test_it_shows_an_audit_trail_with_a_constant_number_of_queries(cast, fill, client):
    submission = fill(cast.jinan_urban, "t3")
    field = next(code for code, value in submission.values.items() if isinstance(value, int))
    url = reverse("review:audit", args=[submission.pk])
    client.force_login(cast.jinan_reviewer)

    def edit(times: int, start: int) -> None:
        for n in range(start, start + times):
            submission_save(acting_user=cast.jinan_urban, submission_id=submission.pk,
                            changes=[{"field": field, "value": 1000 + n}])

    edit(3, 0)
    few = _queries(client, url)
    edit(27, 3)
    assert "1,029" in client.get(url).content.decode()  # the newest change is on the first page
    assert _queries(client, url) == few
    assert few <= 12
