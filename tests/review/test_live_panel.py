"""The data-entry page's 上报 card and results panel are one live view of the latest evaluation, rendered on the
server for the page and returned by every save and 审核; reviewers' comments show at their fields."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from review import actions

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _save(client: Client, submission, values: dict, explanations: dict | None = None) -> dict:
    body = {"changes": [{"field": k, "value": v} for k, v in values.items()]}
    if explanations:
        body["explanations"] = explanations
    response = client.post(reverse("submission_save_api", args=[submission.pk]), json.dumps(body),
                           content_type="application/json")
    assert response.status_code == 200
    return response.json()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_it_never_calls_a_form_ready_while_soft_problems_are_open(cast, fill):
    submission = fill(cast.jinan_urban, "t3")
    client = _client(cast.jinan_urban)
    page = client.get(reverse("submission_entry", args=[submission.pk])).content.decode()
    assert "未发现审核问题，可以上报" in _text(page) and 'data-state="ready"' in page

    answer = _save(client, submission, {"occupied_bed_days": "500", "open_bed_days": "400"})
    soft = [v for v in answer["result"]["violations"] if v["severity"] == "soft"]
    assert soft and not [v for v in answer["result"]["violations"] if v["severity"] == "hard"]
    verdict, details = _text(answer["panel"]["verdict"]), _text(answer["panel"]["details"])
    assert f"合理性审核{len(soft)}项须填写说明" in verdict and "可以上报" not in verdict
    assert details.count("（须填写说明）") == len(soft) and f"合理性审核 {len(soft)} 项" in details

    panel = _save(client, submission, {}, {v["explanation_key"]: "加床收治" for v in soft})["panel"]
    verdict = _text(panel["verdict"])
    assert f"可以上报：{len(soft)}项合理性审核提示已填写说明" in verdict and "未发现审核问题" not in verdict
    assert _text(panel["details"]).count("（已说明）") == len(soft)

    checked = client.post(reverse("submission_check_api", args=[submission.pk]), "{}",
                          content_type="application/json").json()
    assert _text(checked["panel"]["verdict"]) == verdict  # 审核 gives the same verdict as the save
    assert "审核时间" in checked["panel"]["details"]

    panel = _save(client, submission, {"outpatient_visits": "2000", "outpatient_emergency_visits": "1000"})["panel"]
    assert "审核1项须修改" in _text(panel["verdict"]) and 'id="submit-button"' in panel["verdict"]
    entry_url = reverse("submission_entry", args=[submission.pk])
    assert f'name="next" value="{entry_url}"' in panel["verdict"]  # 上报 comes back to the page
    page = client.get(reverse("submission_entry", args=[submission.pk])).content.decode()
    assert "审核1项须修改" in _text(page)  # the page shows what the last save answered


def test_it_renders_the_live_panel_for_a_reviewer_with_the_review_actions(cast, fill):
    submission = fill(cast.jinan_urban, "t3", state="submitted")
    client = _client(cast.jinan_reviewer)
    checked = client.post(reverse("submission_check_api", args=[submission.pk]), "{}",
                          content_type="application/json").json()
    assert 'id="approve-button"' in checked["panel"]["details"]
    assert 'id="submit-button"' not in checked["panel"]["verdict"] and "等待上级审核" in checked["panel"]["verdict"]


def test_it_gives_the_page_the_reviewers_comments_for_their_fields(cast, fill):
    submission = fill(cast.jinan_urban, "t3", state="submitted")
    member_key = submission.members.order_by("position").values_list("key", flat=True).first()
    actions.submission_reject(acting_user=cast.jinan_reviewer, submission_id=submission.pk, reason="数据有误",
                              comments=[{"field": "outpatient_visits", "text": "门诊人次与年报不一致"},
                                        {"field": "outpatient_visits", "member": member_key or "",
                                         "text": "成员医院门诊量请核对"}][: 2 if member_key else 1])
    page = _client(cast.jinan_urban).get(reverse("submission_entry", args=[submission.pk])).content.decode()
    data = json.loads(re.search(r'<script id="entry-data" type="application/json">(.*?)</script>', page, re.S)[1])
    keys = {c["key"]: c["text"] for c in data["comments"]}
    assert keys["outpatient_visits"] == "门诊人次与年报不一致"
    if member_key:
        assert keys[f"{member_key}/outpatient_visits"] == "成员医院门诊量请核对"
    assert 'id="field-comments"' in page and "门诊人次与年报不一致" in page  # and in the list


def test_it_tells_the_rejection_reason_as_such_in_the_notification(cast, fill):
    from review.models import Notification

    submission = fill(cast.jinan_urban, "t3", state="submitted")
    actions.submission_reject(acting_user=cast.jinan_reviewer, submission_id=submission.pk, reason="床位数有误",
                              comments=[{"field": "outpatient_visits", "text": "请核对"}])
    text = Notification.objects.filter(recipient=cast.jinan_urban, verb="rejected").latest("id").text
    assert "驳回原因：床位数有误" in text and "提出批注：床位数有误" not in text
    assert text.index("驳回原因") < text.index("批注")
