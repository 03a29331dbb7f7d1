"""The submissions API: token login, scoped lists with filters, saving through the one save path (400 per field,
409 with both values on a concurrent edit), the workflow actions and their refusals, OpenAPI, throttling."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from reporting.models import Status, Submission, SubmissionSnapshot, Transition, ValueChange
from review.models import FieldComment
from tests.cast import PASSWORD

pytestmark = pytest.mark.django_db


def _fields(submission: Submission, field_type: str, n: int = 1) -> list[str]:
    """Codes of unconditional fields of a type in the form (whatever the catalog holds)."""
    codes = [f["code"] for f in submission.form_version.definition["fields"]
             if f["type"] == field_type and not f.get("condition")]
    assert len(codes) >= n
    return codes[:n]


def test_it_gives_a_token_that_opens_the_api(cast):
    client = APIClient()
    token = client.post("/api/auth/token/", {"username": "3701001", "password": PASSWORD}).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    rows = client.get("/api/submissions/").json()["results"]
    assert {r["unit"]["code"] for r in rows} == {"3701001"}
    assert APIClient().get("/api/submissions/").status_code in (401, 403)


def test_it_filters_and_paginates_the_list(cast, api, fill, settings):
    fill(cast.jinan_urban, "t3", state="submitted")
    client = api(cast.sd_reviewer)
    body = client.get("/api/submissions/", {"task": cast.task.code, "form": "t3", "status": "submitted"}).json()
    assert [r["unit"]["code"] for r in body["results"]] == ["3701001"]
    assert body["results"][0]["status_display"] == "已上报"
    everything = client.get("/api/submissions/", {"unit": "370100"}).json()
    assert {r["unit"]["code"] for r in everything["results"]} == {"370100", "3701001", "3701001-2", "3701002"}
    assert client.get("/api/submissions/", {"unit": "510000"}).json()["count"] == 0
    paged = client.get("/api/submissions/", {"page_size": 2}).json()
    assert "next" in paged and "count" in paged


def test_it_lists_with_a_constant_number_of_queries(cast, api, django_assert_max_num_queries):
    client = api(cast.admin)
    with django_assert_max_num_queries(8):
        body = client.get("/api/submissions/").json()
    assert body["count"] >= 15


def test_it_saves_values_keyed_by_field_code_through_the_save_path(cast, api):
    submission = cast.submission(cast.jinan_urban, "t3")
    [visits] = _fields(submission, "count")
    client = api(cast.jinan_urban)
    response = client.patch(f"/api/submissions/{submission.pk}/",
                            {"values": {visits: "１２,３４５"}, "base_revision": 0}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["values"][visits] == 12345
    assert body["status"] == Status.DRAFT and body["revision"] == 1
    assert ValueChange.objects.get(submission=submission).new == 12345


def test_it_answers_400_per_field_and_saves_nothing(cast, api):
    submission = cast.submission(cast.jinan_urban, "t3")
    bad, good = _fields(submission, "count", 2)
    response = api(cast.jinan_urban).patch(
        f"/api/submissions/{submission.pk}/", {"values": {bad: "很多", good: "12", "nope": "1"}, "base_revision": 0}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {bad, "nope"}
    assert "数字" in errors[bad]
    submission.refresh_from_db()
    assert submission.values == {} and submission.revision == 0


def test_it_answers_409_with_both_values_on_a_concurrent_edit(cast, api):
    submission = cast.submission(cast.jinan_urban, "t3")
    surgeries, cmi = _fields(submission, "count", 2)
    client = api(cast.jinan_urban)
    client.patch(f"/api/submissions/{submission.pk}/", {"values": {surgeries: "100", cmi: "11"}, "base_revision": 0},
                 format="json")
    seen = client.get(f"/api/submissions/{submission.pk}/").json()["revision"]
    # Someone else (another clerk of the same hospital, in another window) saves first …
    other = APIClient()
    other.force_authenticate(cast.jinan_urban)
    assert other.patch(f"/api/submissions/{submission.pk}/",
                       {"values": {surgeries: "120"}, "base_revision": seen}, format="json").status_code == 200
    # … then the first client saves its edit of the same field, and of another field, from the old revision.
    response = client.patch(f"/api/submissions/{submission.pk}/",
                            {"values": {surgeries: "130", cmi: "12"}, "base_revision": seen}, format="json")
    assert response.status_code == 409
    conflict = response.json()["conflicts"]
    assert len(conflict) == 1
    assert conflict[0]["field"] == surgeries
    assert conflict[0]["yours"] == 130 and conflict[0]["theirs"] == 120
    submission.refresh_from_db()
    assert submission.values[surgeries] == 120 and submission.values[cmi] == 11
    # Saving a field nobody else touched from the old revision goes through.
    ok = client.patch(f"/api/submissions/{submission.pk}/", {"values": {cmi: "12"}, "base_revision": seen},
                      format="json")
    assert ok.status_code == 200 and ok.json()["values"][cmi] == 12


def test_it_adds_member_entries_sent_under_a_new_key(cast, api):
    submission = cast.submission(cast.jinan_urban, "t3")
    sub = cast.task.task_forms.get(form_code=submission.form_version.definition["subform"]).version.definition
    code = next(f["code"] for f in sub["fields"] if f["type"] == "count")
    response = api(cast.jinan_urban).patch(
        f"/api/submissions/{submission.pk}/", {"members": {"m-1": {code: "5000"}}, "base_revision": 0}, format="json")
    assert response.status_code == 200, response.json()
    members = response.json()["members"]
    assert members[0]["key"] == "m-1" and members[0]["values"][code] == 5000


def test_it_refuses_edits_from_reviewers_and_on_locked_forms(cast, api, fill):
    submission = fill(cast.jinan_urban, "t3", state="submitted")
    assert api(cast.jinan_reviewer).patch(f"/api/submissions/{submission.pk}/", {"values": {"x": "1"}, "base_revision": submission.revision},
                                          format="json").status_code == 403
    response = api(cast.jinan_urban).patch(f"/api/submissions/{submission.pk}/", {"values": {"x": "1"}, "base_revision": submission.revision},
                                           format="json")
    assert response.status_code == 409 and "不能修改" in response.json()["detail"]


def test_it_runs_the_workflow_through_the_api(cast, api, fill):
    submission = fill(cast.jinan_urban, "t3")
    filler, city, province = api(cast.jinan_urban), api(cast.jinan_reviewer), api(cast.sd_reviewer)
    url = f"/api/submissions/{submission.pk}"
    first = filler.post(f"{url}/submit/").json()
    again = filler.post(f"{url}/submit/").json()
    assert first["created"] and not again["created"] and first["snapshot"] == again["snapshot"]
    code = next(f["code"] for f in submission.form_version.definition["fields"] if f["type"] == "count")
    rejected = city.post(f"{url}/reject/", {"reason": "请核实", "comments": [{"field": code, "text": "偏高"}]},
                         format="json")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert FieldComment.objects.get(submission=submission).field_code == code
    assert filler.get(f"{url}/").json()["field_comments"][0]["text"] == "偏高"
    assert filler.post(f"{url}/submit/").json()["created"]
    assert city.post(f"{url}/approve/").json()["status"] == "approved"
    assert province.post(f"{url}/recheck/", {"passed": True}, format="json").json()["status"] == "rechecked"
    assert province.post(f"{url}/withdraw/", {"reason": "口径有误"}, format="json").json()["status"] == "submitted"
    assert SubmissionSnapshot.objects.filter(submission=submission).count() == 2
    assert Transition.objects.filter(submission=submission).count() == 7


def test_it_answers_illegal_moves_with_the_chinese_message(cast, api, fill):
    submission = fill(cast.jinan_urban, "t3")
    url = f"/api/submissions/{submission.pk}"
    wrong_status = api(cast.jinan_reviewer).post(f"{url}/approve/")
    assert wrong_status.status_code == 409
    assert wrong_status.json()["detail"] == "当前状态为“填报中”，不能审核通过。"
    api(cast.jinan_urban).post(f"{url}/submit/")
    no_reason = api(cast.jinan_reviewer).post(f"{url}/reject/", {"reason": ""}, format="json")
    assert no_reason.status_code == 400 and "原因" in no_reason.json()["detail"]
    assert Submission.objects.get(pk=submission.pk).status == Status.SUBMITTED


def test_it_answers_a_blocked_submit_with_the_list(cast, api, fill):
    submission = fill(cast.jinan_urban, "t3", state="hard_error")
    response = api(cast.jinan_urban).post(f"/api/submissions/{submission.pk}/submit/")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "blocked" and body["blocking"][0]["kind"] == "hard"


def test_it_answers_404_for_a_form_outside_the_scope(cast, api, fill):
    submission = fill(cast.jinan_urban, "t3", state="submitted")
    for action in ("submit", "approve", "reject", "recheck", "withdraw"):
        assert api(cast.qingdao_reviewer).post(f"/api/submissions/{submission.pk}/{action}/").status_code == 404
    assert api(cast.jinan_urban2).patch(f"/api/submissions/{submission.pk}/", {"values": {}, "base_revision": 0},
                                        format="json").status_code == 404


def test_it_documents_the_api_in_openapi(cast, client):
    client.force_login(cast.admin)
    schema = client.get("/api/schema/").content.decode()
    for path in ("/api/submissions/", "/api/submissions/{id}/", "/api/submissions/{id}/submit/",
                 "/api/submissions/{id}/reject/", "/api/submissions/{id}/recheck/"):
        assert path in schema


def test_it_throttles_a_client_that_calls_too_often(cast, api, settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import UserRateThrottle

    cache.clear()
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "3/minute"}
    original = UserRateThrottle.THROTTLE_RATES
    UserRateThrottle.THROTTLE_RATES = rates
    try:
        client = api(cast.jinan_urban)
        codes = [client.get("/api/submissions/").status_code for _ in range(5)]
    finally:
        UserRateThrottle.THROTTLE_RATES = original
        cache.clear()
    assert codes[:3] == [200, 200, 200] and codes[-1] == 429
    assert api_settings.DEFAULT_THROTTLE_CLASSES
