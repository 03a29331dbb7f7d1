"""Authorization of the communication pages: route × role × level × foreign object → 200 / 302 / 403 / 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from communication import actions
from communication.models import FaqEntry, QuestionCategory

pytestmark = pytest.mark.django_db

ROLES = ["jinan_urban", "jinan_filler", "sd_filler", "jinan_reviewer", "sd_reviewer", "nation_reviewer",
         "analyst", "admin"]
OPEN_PAGES = ["communication:notices", "communication:downloads", "communication:questions",
              "communication:question_new", "communication:faq", "communication:settings",
              "communication:question_similar"]


@pytest.mark.parametrize("route", OPEN_PAGES + ["communication:notice_new", "communication:stats"])
def test_it_sends_anonymous_visitors_to_the_login(client, db, route):
    response = client.get(reverse(route))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("viewer", ROLES)
def test_it_opens_the_shared_pages_to_every_role(cast, client, viewer):
    client.force_login(getattr(cast, viewer))
    for route in OPEN_PAGES:
        assert client.get(reverse(route)).status_code == 200, route


@pytest.mark.parametrize(("viewer", "publish", "stats"), [
    ("jinan_urban", 403, 403), ("jinan_filler", 403, 403), ("sd_filler", 403, 403),
    ("jinan_reviewer", 200, 403), ("sd_reviewer", 200, 403), ("nation_reviewer", 200, 403),
    ("analyst", 403, 200), ("admin", 200, 200),
])
def test_it_opens_publishing_to_reviewers_and_statistics_to_analysts(cast, client, viewer, publish, stats):
    client.force_login(getattr(cast, viewer))
    assert client.get(reverse("communication:notice_new")).status_code == publish
    assert client.get(reverse("communication:stats")).status_code == stats
    if publish == 403:
        client.post(reverse("communication:notice_new"), {"title": "越权", "body": "x"})
        from communication.models import Notice

        assert not Notice.objects.filter(title="越权").exists()


@pytest.mark.parametrize(("viewer", "see", "withdraw"), [
    ("jinan_urban", 200, 403), ("qingdao_urban", 200, 403), ("sd_filler", 200, 403),
    ("sd_reviewer", 200, 302),  # the publishing unit
    ("jinan_reviewer", 200, 403),
    ("zy_urban", 404, 404), ("sc_reviewer", 404, 404), ("nation_reviewer", 404, 404),
    ("admin", 200, 302),
])
def test_it_shows_and_withdraws_a_province_notice_only_inside_its_rights(cast, client, viewer, see, withdraw):
    notice = actions.notice_publish(acting_user=cast.sd_reviewer, title="山东省通知", body="", send_mail=False)
    client.force_login(getattr(cast, viewer))
    assert client.get(reverse("communication:notice", args=[notice.pk])).status_code == see
    assert client.post(reverse("communication:notice_withdraw", args=[notice.pk])).status_code == withdraw


@pytest.mark.parametrize(("viewer", "see", "answer"), [
    ("jinan_urban", 200, 403),  # the asker cannot answer
    ("jinan_reviewer", 200, 302),  # the supervising city
    ("sd_reviewer", 200, 302),  # the level above may step in
    ("qingdao_reviewer", 404, 404), ("jinan_urban2", 404, 404), ("sc_reviewer", 404, 404),
    ("jinan_filler", 404, 404),  # the city's filler does not see its alliances' threads
    ("analyst", 200, 403),
])
def test_it_lets_only_the_responsible_levels_answer(cast, client, viewer, see, answer):
    q = actions.question_ask(acting_user=cast.jinan_urban, category=QuestionCategory.SYSTEM, title="怎么上报",
                             body="找不到上报按钮")
    client.force_login(getattr(cast, viewer))
    assert client.get(reverse("communication:question", args=[q.pk])).status_code == see
    response = client.post(reverse("communication:question_act", args=[q.pk]), {"action": "answer", "text": "答"})
    assert response.status_code == answer
    q.refresh_from_db()
    assert (q.status == "answered") == (answer == 302)


@pytest.mark.parametrize(("viewer", "status"), [
    ("jinan_reviewer", 403), ("sd_reviewer", 403), ("jinan_urban", 403), ("nation_reviewer", 302),
    ("analyst", 302), ("admin", 302),
])
def test_it_lets_only_the_national_level_promote_and_withdraw_faq(cast, client, viewer, status):
    q = actions.question_ask(acting_user=cast.jinan_urban, category=QuestionCategory.SYSTEM, title="怎么上报",
                             body="找不到上报按钮")
    actions.question_transition(acting_user=cast.jinan_reviewer, question_id=q.pk, action="answer", text="点上报")
    entry = actions.faq_promote(acting_user=cast.admin, question_id=q.pk)
    client.force_login(getattr(cast, viewer))
    assert client.post(reverse("communication:faq_withdraw", args=[entry.pk])).status_code == status
    assert FaqEntry.objects.get(pk=entry.pk).active == (status != 302)
    assert client.post(reverse("communication:faq_promote", args=[q.pk])).status_code == status


def test_it_suggests_only_questions_the_user_may_read(cast, client):
    q = actions.question_ask(acting_user=cast.jinan_urban, category=QuestionCategory.SYSTEM,
                             title="门诊人次是否包含体检", body="体检人次算不算门诊人次")
    actions.question_transition(acting_user=cast.jinan_reviewer, question_id=q.pk, action="answer", text="不算")
    client.force_login(cast.zy_urban)
    assert client.get(reverse("communication:question_similar"), {"q": "体检人次算不算门诊人次"}).json() == {
        "results": []}
    client.force_login(cast.jinan_reviewer)
    assert client.get(reverse("communication:question_similar"), {"q": "体检人次算不算门诊人次"}).json()["results"]


def test_it_unsubscribes_without_login_but_refuses_a_forged_link(client, cast):
    token = actions.unsubscribe_token(cast.jinan_urban.pk, "reminder")
    assert client.get(reverse("communication:unsubscribe", args=[token])).status_code == 200
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert client.post(reverse("communication:unsubscribe", args=[forged])).status_code == 400
    assert client.post(reverse("communication:unsubscribe", args=[token])).status_code == 200


@pytest.fixture
def api():
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def _client(user):
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return _client


@pytest.mark.parametrize(("viewer", "see", "answer"), [
    ("jinan_urban", 200, 403), ("jinan_reviewer", 200, 200), ("qingdao_reviewer", 404, 404),
    ("zy_urban", 404, 404), ("nation_reviewer", 200, 200),
])
def test_it_scopes_the_api_like_the_pages(cast, api, viewer, see, answer):
    notice = actions.notice_publish(acting_user=cast.sd_reviewer, title="山东省通知", body="", send_mail=False)
    q = actions.question_ask(acting_user=cast.jinan_urban, category=QuestionCategory.SYSTEM, title="怎么上报",
                             body="找不到上报按钮")
    client = api(getattr(cast, viewer))
    in_province = viewer not in ("zy_urban", "nation_reviewer")  # a province notice goes down, not up
    assert client.get(f"/api/notices/{notice.pk}/").status_code == (200 if in_province else 404)
    listed = {n["id"] for n in client.get("/api/notices/").json()["results"]}
    assert (notice.pk in listed) == in_province
    assert client.get(f"/api/questions/{q.pk}/").status_code == see
    response = client.post(f"/api/questions/{q.pk}/act/", {"action": "answer", "text": "答"}, format="json")
    assert response.status_code == answer
    assert anonymous_status(f"/api/questions/{q.pk}/") == 401


def anonymous_status(url: str) -> int:
    from rest_framework.test import APIClient

    return APIClient().get(url).status_code


def test_it_asks_reads_and_closes_through_the_api(cast, api):
    client = api(cast.jinan_urban)
    created = client.post("/api/questions/", {"category": "indicator", "title": "口径", "body": "门诊人次口径",
                                              "form_code": "t3", "field_code": "outpatient_visits"}, format="json")
    assert created.status_code == 201 and created.json()["responsible_unit"] == "100000"
    pk = created.json()["id"]
    assert api(cast.jinan_reviewer).post(f"/api/questions/{pk}/act/", {"action": "answer", "text": "x"},
                                          format="json").status_code == 403  # 口径: the nation answers
    assert api(cast.nation_reviewer).post(f"/api/questions/{pk}/act/", {"action": "answer", "text": "按统计口径"},
                                           format="json").json()["status"] == "answered"
    assert client.post(f"/api/questions/{pk}/act/", {"action": "close"}, format="json").json()["status"] == "closed"
    assert client.post(f"/api/questions/{pk}/act/", {"action": "close"}, format="json").status_code == 409
    actions.notice_publish(acting_user=cast.nation_reviewer, title="全国通知", body="", send_mail=False)
    assert client.get("/api/notices/unread/").json() == {"unread": 1}
    assert client.post("/api/notices/read-all/").json() == {"marked": 1}
    assert client.get("/api/notices/", {"unread": "1"}).json()["results"] == []
