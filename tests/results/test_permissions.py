"""Who reads which result card, page and API: role × level × own / sibling / other province, per release state
and audience; national-only management; the public page without login shows only public-published content."""

from __future__ import annotations

import pytest
from django.urls import reverse

from results import actions
from results.models import Objection

CARD_MATRIX = [
    # viewer, may read 3701001's card once published to 省级, during the feedback window
    ("jinan_urban", True, False),  # the alliance itself (a filler): its own card once published
    ("jinan_urban2", False, False),  # a sibling alliance
    ("jinan_filler", False, False),  # the city's filler
    ("jinan_reviewer", True, True),  # the city above
    ("qingdao_reviewer", False, False),  # a sibling city
    ("sd_reviewer", True, True),  # the province above
    ("sc_reviewer", False, False),  # another province
    ("zy_urban", False, False),
    ("nation_reviewer", True, True),
    ("analyst", True, True),
    ("admin", True, True),
]


@pytest.fixture
def release(cast, reported):
    return actions.release_freeze(acting_user=cast.nation_reviewer, task_id=cast.task.pk)


def _card_url(code="3701001"):
    return reverse("results:card", args=["t2019", code])


@pytest.mark.parametrize(("viewer", "published", "feedback"), CARD_MATRIX)
def test_it_shows_a_card_only_to_its_audience(cast, client, api, release, viewer, published, feedback):
    user = getattr(cast, viewer)
    client.force_login(user)
    national = viewer in ("nation_reviewer", "analyst", "admin")
    # frozen: the national level only
    assert client.get(_card_url()).status_code == (200 if national else 404)
    actions.release_open_feedback(acting_user=cast.nation_reviewer, release_id=release.pk)
    assert client.get(_card_url()).status_code == (200 if feedback else 404)
    actions.release_publish(acting_user=cast.nation_reviewer, release_id=release.pk, audience="province")
    assert client.get(_card_url()).status_code == (200 if published else 404)
    assert api(user).get("/api/results/", {"task": "t2019", "unit": "3701001"}).status_code == (
        200 if published else 404)
    assert client.post(reverse("results:card_export", args=["t2019", "3701001"])).status_code == (
        302 if published else 404)
    actions.release_publish(acting_user=cast.nation_reviewer, release_id=release.pk, audience="sector")
    assert client.get(_card_url()).status_code == 200  # 行业内: every logged-in user


@pytest.mark.parametrize(("viewer", "status"), [
    ("sd_reviewer", 302), ("jinan_reviewer", 403), ("nation_reviewer", 403), ("sc_reviewer", 404),
    ("jinan_urban", 404),
])
def test_it_takes_objections_only_from_the_province_of_the_unit(cast, client, release, viewer, status):
    """302 = filed (back to the card); 403 = sees the card but objections come from its province; 404 = does
    not see the card."""
    actions.release_open_feedback(acting_user=cast.nation_reviewer, release_id=release.pk)
    client.force_login(getattr(cast, viewer))
    response = client.post(reverse("results:objection", args=["t2019", "3701001"]),
                           {"indicator": "t3.i09", "text": "请核实"})
    assert response.status_code == status
    assert Objection.objects.exists() == (status == 302)


@pytest.mark.parametrize(("viewer", "manage", "pages"), [
    ("jinan_urban", 403, 403), ("jinan_filler", 403, 403), ("sd_reviewer", 403, 200),
    ("jinan_reviewer", 403, 200), ("nation_reviewer", 200, 200), ("analyst", 200, 200), ("admin", 200, 200),
])
def test_it_keeps_release_management_national_and_targets_and_schemes_for_supervisors(cast, client, viewer,
                                                                                     manage, pages):
    client.force_login(getattr(cast, viewer))
    assert client.get(reverse("results:manage", args=["t2019"])).status_code == manage
    assert client.post(reverse("results:manage", args=["t2019"]), {"op": "freeze"}).status_code == (
        302 if manage == 200 else 403)
    assert client.get(reverse("results:targets")).status_code == pages
    assert client.get(reverse("results:schemes")).status_code == pages
    assert client.get(reverse("results:platform")).status_code == 200


def test_it_sends_anonymous_visitors_to_login_except_on_the_public_page(cast, client, api, release):
    actions.release_publish(acting_user=cast.nation_reviewer, release_id=release.pk, audience="public")
    for url in (reverse("results:platform"), _card_url(), reverse("results:manage", args=["t2019"]),
                reverse("results:targets"), reverse("results:schemes")):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    assert api(None).get("/api/results/", {"task": "t2019", "unit": "3701001"}).status_code in (401, 403)
    assert client.get(reverse("results:public")).status_code == 200


def test_it_hides_another_provinces_scheme_from_a_dry_run(cast, client):
    national = actions.scheme_load(acting_user=cast.nation_reviewer, annex="a2")
    adjusted = actions.scheme_adjust(acting_user=cast.sd_reviewer, base_id=national.pk, weights={"18a": 1},
                                     reason="x")
    client.force_login(cast.sc_reviewer)
    assert client.get(reverse("results:dry_run", args=[adjusted.pk]), {"task": "t2019"}).status_code == 404


def test_it_sets_a_city_target_and_runs_its_provinces_scheme_dry_through_the_pages(cast, client):
    client.force_login(cast.jinan_reviewer)
    response = client.post(reverse("results:targets"), {"indicator": "t2.i23", "op": ">=", "value": "40",
                                                        "source": "资阳市实施意见"})
    assert response.status_code == 302
    assert "资阳市实施意见" in client.get(reverse("results:targets")).content.decode()
    national = actions.scheme_load(acting_user=cast.nation_reviewer, annex="a2")
    client.force_login(cast.sd_reviewer)
    client.post(reverse("results:schemes"), {"op": "adjust", "scheme": national.pk, "weights": '{"18a": 10}',
                                             "reason": "本省重点"})
    from results.models import ScoringScheme

    adjusted = ScoringScheme.objects.get(unit__code="370000")
    page = client.get(reverse("results:dry_run", args=[adjusted.pk]), {"task": "t2019"})
    assert page.status_code == 200 and "试算" in page.content.decode()
