"""List pages are paged and filtered, and their query count does not grow with the number of rows."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from review.actions import notify
from review.paging import PER_PAGE

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_it_pages_notifications_with_the_same_queries_for_one_or_many(cast, client):
    client.force_login(cast.jinan_urban)
    notify([cast.jinan_urban], None, "notice", "第1条")
    one, _ = _queries(client, reverse("review:notifications"))
    for i in range(2, PER_PAGE + 12):
        notify([cast.jinan_urban], None, "notice", f"第{i}条")
    many, html = _queries(client, reverse("review:notifications"))
    assert many == one
    assert html.count('class="list-group-item d-flex') == PER_PAGE and "第 1/2 页" in html
    _, second = _queries(client, reverse("review:notifications") + "?page=2")
    assert second.count('class="list-group-item d-flex') == 11 and "第1条" in second
    client.post(reverse("review:notifications_read"), {"ids": []})
    notify([cast.jinan_urban], None, "notice", "新的一条")
    _, unread = _queries(client, reverse("review:notifications") + "?unread=1")
    assert unread.count('class="list-group-item d-flex') == 1 and "新的一条" in unread


def test_it_filters_and_pages_the_queue_with_a_constant_number_of_queries(cast, fill, client):
    fill(cast.jinan_urban, "t3", state="submitted")
    client.force_login(cast.jinan_reviewer)
    one, _ = _queries(client, reverse("review:queue"))
    fill(cast.jinan_urban2, "t3", state="submitted")
    fill(cast.jinan_county, "t4", state="submitted")
    many, html = _queries(client, reverse("review:queue"))
    assert many == one and len(re.findall(r'class="queue-row"', html)) == 3
    _, only_t4 = _queries(client, reverse("review:queue") + "?form=t4")
    assert len(re.findall(r'class="queue-row"', only_t4)) == 1
    _, by_code = _queries(client, reverse("review:queue") + "?q=3701001")
    assert len(re.findall(r'class="queue-row"', by_code)) == 2  # 3701001 and 3701001-2


def test_it_pages_the_national_recheck_list(cast, fill, client, settings):
    fill(cast.jinan_filler, "t2", state="approved")
    client.force_login(cast.nation_reviewer)
    one, html = _queries(client, reverse("review:queue"))
    assert len(re.findall(r'class="recheck-row"', html)) == 1
    fill(cast.jinan_urban, "t3", state="approved")
    many, html = _queries(client, reverse("review:queue"))
    assert many == one
    rows = len(re.findall(r'class="recheck-row"', html))
    assert rows >= 1 and f"待复核（下级已审核通过，{rows}）" in html


def test_it_pages_the_audit_trail_with_a_constant_number_of_queries(cast, fill, client):
    submission = fill(cast.jinan_urban, "t3")
    client.force_login(cast.jinan_reviewer)
    url = reverse("review:audit", args=[submission.pk])
    one, html = _queries(client, url)
    from reporting.actions import submission_save

    for i in range(PER_PAGE + 5):
        submission_save(acting_user=cast.jinan_urban, submission_id=submission.pk,
                        changes=[{"field": "outpatient_visits", "value": str(1000 + i)}])
    many, html = _queries(client, url)
    assert many == one and html.count('class="audit-value"') == PER_PAGE and "下一页" in html
    _, status_only = _queries(client, url + "?kind=status")
    assert 'class="audit-value"' not in status_only


def test_it_pages_the_progress_board_with_a_constant_number_of_queries(cast, client, monkeypatch):
    from review import paging

    client.force_login(cast.nation_reviewer)
    monkeypatch.setattr(paging, "PER_PAGE", 1)  # the two demo provinces on two pages
    first, html = _queries(client, reverse("review:progress"))
    assert "第 1/2 页" in html and "山东省" in html and "四川省" not in html
    second, html = _queries(client, reverse("review:progress") + "?page=2")
    assert second == first and "四川省" in html and "山东省" not in html.split("<tbody", 1)[-1]
