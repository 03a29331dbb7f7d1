"""整改要求: raised by the sampler on one field, which alone unlocks for the unit (page, API, template import);
the unit corrects or explains; the sampler sees the diff and closes / sends back / escalates; the settled form
is re-evaluated with a new snapshot."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Unit
from reporting.models import Status, Submission, SubmissionSnapshot, Transition
from review.models import Notification
from sampling.actions import batch_create, item_answer, item_raise
from sampling.models import Item, ItemStep
from sampling.selection import Params
from sampling.transitions import ItemError, item_transition
from tests.exports.test_template import fill, upload

from .conftest import free_field

pytestmark = pytest.mark.django_db


def _deadline(days: int = 7) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


@pytest.fixture
def sampled(cast, approved):
    """3701001's 表3, approved and sampled by the nation; returns (submission, field, neighbour field)."""
    submission = approved("3701001", "t3")
    batch_create(acting_user=cast.analyst, task=cast.task, scope=Unit.objects.get(code="100000"),
                 params=Params(size=1, seed=5, random_share=1, forms=["t3"]))
    field = free_field(submission)
    neighbour = next(c for c in submission.values if c != field and isinstance(submission.values[c], int))
    return submission, field, neighbour


def _raise(api, cast, submission, code, **extra):
    body = {"field": code, "member": "", "text": "该数与医院统计年报不一致，请核实。", "deadline": _deadline(), **extra}
    return api(cast.analyst).post(f"/api/submissions/{submission.pk}/rectifications/", body, format="json")


def test_it_unlocks_only_the_items_field_on_the_page_the_api_and_the_template(cast, sampled, api, client):
    submission, field, neighbour = sampled
    response = _raise(api, cast, submission, field)
    assert response.status_code == 201, response.json()
    old, other = submission.values[field], submission.values[neighbour]

    client.force_login(cast.jinan_urban)
    save_url = reverse("submission_save_api", args=[submission.pk])
    refused = client.post(save_url, json.dumps({"changes": [{"field": neighbour, "value": other + 1}]}),
                          content_type="application/json")
    assert refused.status_code == 409
    assert "未开放修改" in refused.json()["error"]
    refused = api(cast.jinan_urban).patch(f"/api/submissions/{submission.pk}/", {"values": {neighbour: other + 1},
                                          "base_revision": Submission.objects.get(pk=submission.pk).revision},
                                          format="json")
    assert refused.status_code == 409 and "未开放修改" in refused.json()["detail"]
    template = client.get(reverse("exports:template", args=[submission.pk])).content
    refused = upload(client, cast.jinan_urban, submission, fill(template, {neighbour: other + 1}))
    assert refused.status_code == 409 and "未开放修改" in refused.json()["message"]
    assert Submission.objects.get(pk=submission.pk).values[neighbour] == other

    ok = client.post(save_url, json.dumps({"changes": [{"field": field, "value": old + 3}]}),
                     content_type="application/json")
    assert ok.status_code == 200 and ok.json()["saved"] == [field]
    ok = api(cast.jinan_urban).patch(f"/api/submissions/{submission.pk}/", {"values": {field: old + 4}, "base_revision": Submission.objects.get(pk=submission.pk).revision},
                                     format="json")
    assert ok.status_code == 200
    template = client.get(reverse("exports:template", args=[submission.pk])).content
    ok = upload(client, cast.jinan_urban, submission, fill(template, {field: old + 5}))
    assert ok.status_code == 200, ok.json()
    fresh = Submission.objects.get(pk=submission.pk)
    assert fresh.values[field] == old + 5 and fresh.status == Status.APPROVED
    assert AuditEvent.objects.filter(action="submission_save", object_id=str(submission.pk)).count() >= 3


def test_it_notifies_the_filler_and_records_the_start_in_the_workflow(cast, sampled, api):
    from accounts.models import User
    from communication.models import Delivery

    submission, field, _ = sampled
    User.objects.filter(pk=cast.jinan_urban.pk).update(email="tianbao@example.org")
    _raise(api, cast, submission, field)
    note = Notification.objects.get(recipient=cast.jinan_urban, verb="rectification_raised")
    assert "整改要求" in note.text and note.submission_id == submission.pk
    # the e-mail channel (communication) picks the review notification up
    mail = Delivery.objects.get(user=cast.jinan_urban, event="rectification_raised")
    assert mail.address == "tianbao@example.org" and "整改要求" in mail.body
    move = Transition.objects.get(submission=submission, action="rectify")
    assert move.from_status == move.to_status == Status.APPROVED
    assert "rectify" not in api(cast.analyst).get(f"/api/submissions/{submission.pk}/").json()["allowed_actions"]


def test_it_shows_the_diff_closes_and_settles_the_form_with_a_new_snapshot(cast, sampled, api):
    submission, field, _ = sampled
    old = submission.values[field]
    item_id = _raise(api, cast, submission, field).json()["id"]
    snapshots = SubmissionSnapshot.objects.filter(submission=submission).count()
    answered = api(cast.jinan_urban).post(f"/api/rectifications/{item_id}/answer/",
                                          {"text": "已按统计年报更正。", "value": old + 10}, format="json")
    assert answered.status_code == 200, answered.json()
    body = api(cast.analyst).get(f"/api/rectifications/{item_id}/").json()
    assert (body["value_at_sampling"], body["value_now"], body["value_changed"]) == (old, old + 10, True)
    assert body["state"] == "answered" and set(body["allowed_actions"]) == {"close", "reopen", "escalate"}
    closed = api(cast.analyst).post(f"/api/rectifications/{item_id}/close/", {"note": "已核实。"}, format="json")
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    fresh = Submission.objects.get(pk=submission.pk)
    assert fresh.status == Status.APPROVED and fresh.values[field] == old + 10
    assert SubmissionSnapshot.objects.filter(submission=submission).count() == snapshots + 1
    snapshot = SubmissionSnapshot.objects.filter(submission=submission).order_by("-id").first()
    assert snapshot.values[field] == old + 10 and snapshot.result["evaluated_at"] == fresh.result["evaluated_at"]
    assert Transition.objects.filter(submission=submission, action="rectify_done").count() == 1
    # settled: the field is locked again
    client_resp = api(cast.jinan_urban).patch(f"/api/submissions/{submission.pk}/", {"values": {field: old}, "base_revision": Submission.objects.get(pk=submission.pk).revision},
                                              format="json")
    assert client_resp.status_code == 409
    steps = list(ItemStep.objects.filter(item_id=item_id).values_list("action", flat=True))
    assert steps == ["raise", "answer", "close"]
    assert AuditEvent.objects.filter(action__startswith="rectification_", object_id=str(item_id)).count() == 3


def test_it_sends_an_item_back_and_escalates_it(cast, sampled, api):
    submission, field, neighbour = sampled
    item_id = _raise(api, cast, submission, field).json()["id"]
    keep = api(cast.jinan_urban).post(f"/api/rectifications/{item_id}/answer/",
                                      {"text": "经核对原始台账，数值无误，保留原值。"}, format="json")
    assert keep.status_code == 200 and keep.json()["value_changed"] is False
    refused = api(cast.analyst).post(f"/api/rectifications/{item_id}/reopen/", {}, format="json")
    assert refused.status_code == 400 and "说明" in refused.json()["detail"]
    back = api(cast.analyst).post(f"/api/rectifications/{item_id}/reopen/", {"note": "请附上台账依据。"},
                                  format="json")
    assert back.status_code == 200 and back.json()["state"] == "open" and back.json()["rounds"] == 2
    assert Notification.objects.filter(recipient=cast.jinan_urban, verb="rectification_raised", text__contains="被退回").exists()
    up = api(cast.analyst).post(f"/api/rectifications/{item_id}/escalate/", {"note": "转现场抽查。"}, format="json")
    assert up.status_code == 200 and up.json()["state"] == "escalated"
    # escalated: the field is locked again until it is sent back
    locked = api(cast.jinan_urban).patch(f"/api/submissions/{submission.pk}/", {"values": {field: 1}, "base_revision": Submission.objects.get(pk=submission.pk).revision}, format="json")
    assert locked.status_code == 409
    again = api(cast.analyst).post(f"/api/rectifications/{item_id}/escalate/", {"note": "x"}, format="json")
    assert again.status_code == 409 and "不能升级" in again.json()["detail"]
    assert api(cast.jinan_urban).post(f"/api/rectifications/{item_id}/close/", {}, format="json").status_code == 403
    assert api(cast.analyst).post(f"/api/rectifications/{item_id}/close/", {}, format="json").status_code == 200


def test_it_refuses_bad_items_with_chinese_messages_and_changes_nothing(cast, sampled, api):
    submission, field, _ = sampled
    cases = [
        ({"field": "no_such_field"}, 400, "没有指标"),
        ({"deadline": (timezone.localdate() - dt.timedelta(days=1)).isoformat()}, 400, "不能早于今天"),
        ({"text": ""}, 400, "请填写整改要求"),
        ({"member": "nope"}, 400, "成员单位不存在"),
    ]
    for extra, code, words in cases:
        response = _raise(api, cast, submission, field, **extra)
        assert response.status_code == code, (extra, response.json())
        assert words in response.json()["detail"]
    assert not Item.objects.exists() and not Transition.objects.filter(action="rectify").exists()
    assert _raise(api, cast, submission, field).status_code == 201
    second = _raise(api, cast, submission, field)
    assert second.status_code == 400 and "未关闭的整改要求" in second.json()["detail"]
    # outside the chain: a reviewer of the city above is no sampler; another province cannot even see it
    body = {"field": field, "text": "请核实。", "deadline": _deadline()}
    city = api(cast.jinan_reviewer).post(f"/api/submissions/{submission.pk}/rectifications/", body, format="json")
    assert city.status_code == 403 and "抽检链条" in city.json()["detail"]
    other = api(cast.sc_reviewer).post(f"/api/submissions/{submission.pk}/rectifications/", body, format="json")
    assert other.status_code == 404
    assert Item.objects.count() == 1


def test_it_refuses_an_answer_after_the_deadline(cast, sampled, api):
    submission, field, _ = sampled
    item = item_raise(acting_user=cast.analyst, submission_id=submission.pk, field_code=field, text="请核实。",
                      deadline=timezone.localdate())
    Item.objects.filter(pk=item.pk).update(deadline=timezone.localdate() - dt.timedelta(days=1))  # time passes
    late = api(cast.jinan_urban).post(f"/api/rectifications/{item.pk}/answer/", {"text": "数据无误，保留原值。"},
                                      format="json")
    assert late.status_code == 409 and "已超过整改期限" in late.json()["detail"]
    assert Item.objects.get(pk=item.pk).state == "open"
    # and the field is locked again once overdue
    locked = api(cast.jinan_urban).patch(f"/api/submissions/{submission.pk}/", {"values": {field: 1}, "base_revision": Submission.objects.get(pk=submission.pk).revision}, format="json")
    assert locked.status_code == 409
    with pytest.raises(ItemError):
        item_answer(acting_user=cast.jinan_urban, item_id=item.pk, text="x")


def test_it_refuses_an_illegal_move_in_the_item_table(cast, sampled):
    submission, field, _ = sampled
    item = item_raise(acting_user=cast.analyst, submission_id=submission.pk, field_code=field, text="请核实。",
                      deadline=timezone.localdate())
    with pytest.raises(ItemError) as e:
        item_transition(item_id=item.pk, action="close", acting_user=cast.analyst)
    assert "不能关闭" in e.value.message
    with pytest.raises(ItemError):
        item_transition(item_id=item.pk, action="jump", acting_user=cast.analyst)


def test_it_lists_items_by_batch_within_the_callers_scope(cast, sampled, api):
    submission, field, _ = sampled
    item_id = _raise(api, cast, submission, field).json()["id"]
    batch = Item.objects.get(pk=item_id).batch_id
    for user, seen in ((cast.analyst, True), (cast.jinan_urban, True), (cast.sd_reviewer, True),
                       (cast.sc_reviewer, False), (cast.jinan_urban2, False)):
        rows = api(user).get("/api/rectifications/", {"batch": batch}).json()["results"]
        assert ([r["id"] for r in rows] == [item_id]) is seen, user
        assert api(user).get(f"/api/rectifications/{item_id}/").status_code == (200 if seen else 404)


def test_it_needs_a_new_deadline_to_send_back_an_overdue_item_and_notifies_on_escalation(cast, sampled, api):
    submission, field, _ = sampled
    item = item_raise(acting_user=cast.analyst, submission_id=submission.pk, field_code=field, text="请核实。",
                      deadline=timezone.localdate())
    item_answer(acting_user=cast.jinan_urban, item_id=item.pk, text="经核对台账，数据无误。")
    Item.objects.filter(pk=item.pk).update(deadline=timezone.localdate() - dt.timedelta(days=2))  # time passes
    refused = api(cast.analyst).post(f"/api/rectifications/{item.pk}/reopen/", {"note": "请附依据。"}, format="json")
    assert refused.status_code == 400 and "新的整改期限" in refused.json()["detail"]
    assert Item.objects.get(pk=item.pk).state == "answered"
    back = api(cast.analyst).post(f"/api/rectifications/{item.pk}/reopen/",
                                  {"note": "请附依据。", "deadline": _deadline(3)}, format="json")
    assert back.status_code == 200 and back.json()["deadline"] == _deadline(3)
    ok = api(cast.jinan_urban).patch(f"/api/submissions/{submission.pk}/",
                                     {"values": {field: submission.values[field] + 1},
                                      "base_revision": Submission.objects.get(pk=submission.pk).revision},
                                     format="json")
    assert ok.status_code == 200
    api(cast.analyst).post(f"/api/rectifications/{item.pk}/escalate/", {"note": "转现场核查。"}, format="json")
    assert Notification.objects.filter(recipient=cast.nation_reviewer, verb="rectification_escalated").exists()


def test_it_refuses_an_item_on_a_form_withdrawn_after_sampling(cast, sampled, api):
    from review import actions as review_actions

    submission, field, _ = sampled
    review_actions.submission_withdraw(acting_user=cast.jinan_reviewer, submission_id=submission.pk,
                                       reason="需重新审核。")
    refused = _raise(api, cast, submission, field)
    assert refused.status_code == 409 and "只能对审核通过的报表" in refused.json()["detail"]
    assert not Item.objects.exists()
