"""Who may open and who may change a form, through the pages and the JSON endpoints."""

from __future__ import annotations

import pytest

from reporting.models import Submission


def all_endpoints(client, submission: Submission) -> dict[str, int]:
    """Status codes of every way the data-entry page reads or changes a submission."""
    return {
        "page": client.page(submission).status_code,
        "state": client.state(submission).status_code,
        "save": client.save(submission, {"outpatient_visits": "1"}).status_code,
        "check": client.check(submission).status_code,
        "member_add": client.add_member(submission, "e" * 32).status_code,
        "member_remove": client.remove_member(submission, "e" * 32).status_code,
    }


@pytest.mark.parametrize("intruder", ["jinan_urban2", "qingdao_urban", "zy_urban", "jinan_county", "jinan_filler",
                                      "sd_filler", "qingdao_reviewer", "sc_reviewer"])
def test_it_hides_an_alliance_form_from_everyone_outside_its_line(cast, as_user, intruder):
    target = cast.submission(cast.jinan_urban, "t3")
    before = Submission.objects.get(pk=target.pk)
    codes = all_endpoints(as_user(getattr(cast, intruder)), target)
    assert set(codes.values()) == {404}, codes
    after = Submission.objects.get(pk=target.pk)
    assert after.values == before.values and after.revision == before.revision
    assert not after.members.exists()


@pytest.mark.parametrize("reader", ["jinan_reviewer", "sd_reviewer", "nation_reviewer", "analyst"])
def test_it_lets_reviewers_and_analysts_above_read_but_not_change(cast, as_user, reader):
    target = cast.submission(cast.jinan_urban, "t3")
    as_user(cast.jinan_urban).save(target, {"outpatient_visits": "42"})
    client = as_user(getattr(cast, reader))
    page = client.page(target)
    assert page.status_code == 200
    html = page.content.decode()
    assert "只读" in html and 'id="save-button"' not in html and 'id="member-add"' not in html
    assert 'value="42"' in html
    state = client.state(target).json()
    assert state["editable"] is False and state["values"]["outpatient_visits"] == 42
    assert client.check(target).status_code == 200

    response = client.save(target, {"outpatient_visits": "1"})
    assert response.status_code == 403 and "填报用户" in response.json()["error"]
    assert client.add_member(target, "f" * 32).status_code == 403
    target.refresh_from_db()
    assert target.values["outpatient_visits"] == 42 and not target.members.exists()


def test_it_sends_anonymous_visitors_to_the_login_page(cast, as_user):
    target = cast.submission(cast.jinan_urban, "t3")
    anonymous = as_user(None)
    page = anonymous.page(target)
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    home = anonymous.client.get("/")
    assert home.status_code == 302 and home["Location"].startswith("/accounts/login/")
    # The page's own calls get a JSON answer the script understands, and nothing changes.
    for code in (anonymous.state(target).status_code, anonymous.save(target, {"outpatient_visits": "1"}).status_code,
                 anonymous.check(target).status_code, anonymous.add_member(target, "a" * 32).status_code):
        assert code == 401
    response = anonymous.save(target, {"outpatient_visits": "1"})
    assert "重新登录" in response.json()["error"]
    target.refresh_from_db()
    assert target.values == {}


def test_it_refuses_a_save_without_the_csrf_token(cast):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.jinan_urban)
    target = cast.submission(cast.jinan_urban, "t3")
    response = client.post(f"/submissions/{target.pk}/api/save", data='{"changes": []}',
                           content_type="application/json")
    assert response.status_code == 403
    page = client.get(f"/submissions/{target.pk}/")
    token = page.cookies["csrftoken"].value
    response = client.post(f"/submissions/{target.pk}/api/save",
                           data='{"changes": [{"field": "outpatient_visits", "value": "3"}]}',
                           content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.json()["saved"] == ["outpatient_visits"]


def test_it_answers_an_outsiders_save_with_404_whatever_it_sends(cast, as_user):
    """The save endpoint reads the scope only when the request or the save is refused: an outsider still learns
    nothing about the form, a malformed request of the filler is a 400, an unknown form a 404."""
    target = cast.submission(cast.jinan_urban, "t3")
    outsider, filler = as_user(cast.qingdao_urban), as_user(cast.jinan_urban)
    for body in ({"changes": "not a list"}, {"base_revision": "x"}, {"changes": [{"field": "outpatient_visits",
                                                                                "value": "5"}]}):
        assert outsider.post("submission_save_api", [target.pk], body).status_code == 404
        assert filler.post("submission_save_api", [target.pk], body).status_code in (400, 200)
    assert filler.post("submission_save_api", [target.pk], {"changes": "x"}).status_code == 400
    assert filler.post("submission_save_api", [10**9], {"changes": []}).status_code == 404
    target.refresh_from_db()
    assert target.values == {"outpatient_visits": 5}
