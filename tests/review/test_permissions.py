"""Who sees and who acts: each role × level × own / sibling / subordinate / superior unit, pages and API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reporting.models import Status

pytestmark = pytest.mark.django_db

# (viewer, target unit code, form, may see)
VIEW_MATRIX = [
    ("jinan_urban", "3701001", "t3", True),  # own unit
    ("jinan_urban2", "3701001", "t3", False),  # sibling alliance
    ("jinan_filler", "3701001", "t3", False),  # filler of the superior city
    ("sd_filler", "3701001", "t3", False),  # filler of the superior province
    ("jinan_reviewer", "3701001", "t3", True),  # reviewer of the superior city
    ("qingdao_reviewer", "3701001", "t3", False),  # reviewer of a sibling city
    ("sd_reviewer", "3701001", "t3", True),  # reviewer of the province above
    ("sc_reviewer", "3701001", "t3", False),  # reviewer of another province
    ("nation_reviewer", "3701001", "t3", True),
    ("analyst", "3701001", "t3", True),
    ("admin", "3701001", "t3", True),
    ("zy_urban", "3701001", "t3", False),  # an alliance in another province
    ("jinan_filler", "370100", "t2", True),  # own unit (city)
    ("jinan_urban", "370100", "t2", False),  # filler of a subordinate unit
    ("jinan_reviewer", "370100", "t2", True),  # reviewer of the own unit
    ("qingdao_reviewer", "370100", "t2", False),
    ("sd_reviewer", "370100", "t2", True),
    ("sc_reviewer", "370100", "t2", False),
    ("sd_filler", "370000", "t1", True),  # own unit (province)
    ("jinan_reviewer", "370000", "t1", False),  # reviewer of a subordinate unit
    ("sd_reviewer", "370000", "t1", True),
    ("sc_reviewer", "370000", "t1", False),
    ("nation_reviewer", "370000", "t1", True),
]


@pytest.mark.parametrize(("viewer", "code", "form", "visible"), VIEW_MATRIX)
def test_it_shows_a_form_only_inside_the_viewers_scope(cast, client, api, viewer, code, form, visible):
    submission = cast.submission(code, form)
    user = getattr(cast, viewer)
    client.force_login(user)
    expected = 200 if visible else 404
    assert client.get(reverse("review:submission", args=[submission.pk])).status_code == expected
    assert client.get(reverse("review:audit", args=[submission.pk])).status_code == expected
    assert api(user).get(f"/api/submissions/{submission.pk}/").status_code == expected
    listed = {row["id"] for row in api(user).get("/api/submissions/", {"task": cast.task.code, "unit": code,
                                                                        "form": form}).json()["results"]}
    assert (submission.pk in listed) == visible


@pytest.mark.parametrize(("viewer", "status"), [
    ("jinan_urban", 403), ("jinan_filler", 403), ("sd_filler", 403),
    ("jinan_reviewer", 200), ("sd_reviewer", 200), ("nation_reviewer", 200), ("analyst", 200), ("admin", 200),
])
def test_it_opens_queue_and_board_to_supervisors_only(cast, client, viewer, status):
    client.force_login(getattr(cast, viewer))
    assert client.get(reverse("review:queue")).status_code == status
    assert client.get(reverse("review:progress")).status_code == status


@pytest.mark.parametrize(("actor", "status"), [
    ("jinan_reviewer", 200),  # the approving city
    ("sd_reviewer", 403),  # the province re-checks, it does not approve
    ("nation_reviewer", 403),
    ("analyst", 403),
    ("jinan_urban", 403),  # the filler itself
    ("qingdao_reviewer", 404),  # another city: not even visible
    ("jinan_urban2", 404),
    ("sc_reviewer", 404),
])
def test_it_lets_only_the_approving_level_approve_an_alliance_form(cast, fill, api, client, actor, status):
    submission = fill(cast.jinan_urban, "t3", state="submitted")
    user = getattr(cast, actor)
    response = api(user).post(f"/api/submissions/{submission.pk}/approve/")
    assert response.status_code == status
    if status == 403:
        assert "无权" in response.json()["detail"]
    submission.refresh_from_db()
    assert submission.status == (Status.APPROVED if status == 200 else Status.SUBMITTED)


@pytest.mark.parametrize(("actor", "allowed"), [
    ("sd_reviewer", True), ("jinan_reviewer", False), ("nation_reviewer", False), ("jinan_filler", False),
])
def test_it_lets_only_the_province_approve_a_city_form_on_the_page(cast, fill, client, actor, allowed):
    submission = fill(cast.jinan_filler, "t2", state="submitted")
    client.force_login(getattr(cast, actor))
    client.post(reverse("review:act", args=[submission.pk]), {"action": "approve"})
    submission.refresh_from_db()
    assert (submission.status == Status.APPROVED) == allowed


@pytest.mark.parametrize(("actor", "allowed"), [
    ("sd_reviewer", True), ("nation_reviewer", True), ("jinan_reviewer", False), ("qingdao_reviewer", False),
])
def test_it_lets_the_levels_above_the_approver_recheck(cast, fill, api, actor, allowed):
    submission = fill(cast.jinan_urban, "t3", state="approved")
    response = api(getattr(cast, actor)).post(f"/api/submissions/{submission.pk}/recheck/", {"passed": True},
                                              format="json")
    assert (response.status_code == 200) == allowed
    submission.refresh_from_db()
    assert (submission.status == Status.RECHECKED) == allowed
