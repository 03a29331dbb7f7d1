"""List pages cost a constant number of queries, however many notices and questions there are."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communication import actions
from communication.models import QuestionCategory

pytestmark = pytest.mark.django_db

PAGES = ["communication:notices", "communication:downloads", "communication:questions", "communication:faq", "home"]


def _counts(client) -> dict[str, int]:
    out = {}
    for route in PAGES:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(route)).status_code == 200
        out[route] = len(ctx.captured_queries)
    return out


def _add(cast, n: int, start: int) -> None:
    for i in range(start, start + n):
        actions.notice_publish(acting_user=cast.nation_reviewer, title=f"通知{i}", body="", send_mail=False,
                               kind="download" if i % 2 else "notice", pinned=i % 3 == 0)
        q = actions.question_ask(acting_user=cast.jinan_urban, category=QuestionCategory.SYSTEM, title=f"问题{i}",
                                 body="内容")
        actions.question_transition(acting_user=cast.jinan_reviewer, question_id=q.pk, action="answer", text="答")
        actions.faq_promote(acting_user=cast.admin, question_id=q.pk)


def test_it_lists_with_a_constant_number_of_queries(cast, client, django_assert_max_num_queries):
    client.force_login(cast.jinan_reviewer)
    _add(cast, 2, 0)
    few = _counts(client)
    _add(cast, 25, 2)
    many = _counts(client)
    assert many == few
    with django_assert_max_num_queries(20):
        client.get(reverse("communication:questions"))
