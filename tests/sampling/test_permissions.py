"""Who reaches the sampling pages and endpoints: route × role × level × foreign object → 200 / 403 / 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Unit
from sampling.actions import batch_create, item_raise
from sampling.selection import Params

from .conftest import free_field

pytestmark = pytest.mark.django_db

SAMPLERS = {"analyst", "nation_reviewer", "sd_reviewer", "sc_reviewer"}
ALL = ["analyst", "nation_reviewer", "admin", "sd_reviewer", "sc_reviewer", "jinan_reviewer", "qingdao_reviewer",
       "sd_filler", "jinan_filler", "jinan_urban", "jinan_urban2", "zy_urban"]


@pytest.fixture
def world(cast, approved):
    """A national batch and a 山东 batch over 3701001's 表3, an item on it raised by the nation."""
    submission = approved("3701001", "t3")
    national = batch_create(acting_user=cast.analyst, task=cast.task, scope=Unit.objects.get(code="100000"),
                            params=Params(size=1, seed=1, random_share=1))
    provincial = batch_create(acting_user=cast.sd_reviewer, task=cast.task, scope=Unit.objects.get(code="370000"),
                              params=Params(size=1, seed=1, random_share=1))
    item = item_raise(acting_user=cast.analyst, submission_id=submission.pk, field_code=free_field(submission),
                      text="请核实。", deadline=timezone.localdate() + dt.timedelta(days=3), batch_id=national.pk)
    return submission, national, provincial, item


@pytest.mark.parametrize("who", ALL)
def test_it_opens_the_sampling_index_only_to_national_and_provincial_samplers(cast, client, who):
    client.force_login(getattr(cast, who))
    expected = 200 if who in SAMPLERS else 403
    assert client.get(reverse("sampling:index")).status_code == expected
    preview = client.get(reverse("sampling:preview"), {"task": cast.task.code, "scope": "100000", "size": "1",
                                                       "seed": "1"})
    # a province may not sample the nation: the page says so
    assert preview.status_code == (200 if who in {"analyst", "nation_reviewer"} else 400 if who in SAMPLERS
                                   else 403)


# (user, national batch, provincial batch)
BATCH_MATRIX = [
    ("analyst", 200, 200), ("nation_reviewer", 200, 200), ("sd_reviewer", 404, 200), ("sc_reviewer", 404, 404),
    ("jinan_reviewer", 403, 403), ("jinan_urban", 403, 403), ("admin", 403, 403), ("jinan_filler", 403, 403),
]


@pytest.mark.parametrize(("who", "national_status", "provincial_status"), BATCH_MATRIX)
def test_it_shows_a_batch_and_its_samples_only_within_the_samplers_scope(cast, client, world, who,
                                                                        national_status, provincial_status):
    _, national, provincial, _ = world
    client.force_login(getattr(cast, who))
    for batch, expected in ((national, national_status), (provincial, provincial_status)):
        assert client.get(reverse("sampling:batch", args=[batch.pk])).status_code == expected
        sample = batch.samples.get()
        assert client.get(reverse("sampling:sample", args=[sample.pk])).status_code == expected
        raised = client.post(reverse("sampling:raise", args=[sample.pk]), {"target_field": "", "text": ""})
        assert raised.status_code == (302 if expected == 200 else expected)
        onsite = client.post(reverse("sampling:onsite", args=[sample.pk]), {})
        assert onsite.status_code == (302 if expected == 200 else expected)
        exported = client.post(reverse("sampling:export", args=[batch.pk]))
        assert exported.status_code == (302 if expected == 200 else expected)


# (user, may see the item, allowed item actions now)
ITEM_MATRIX = [
    ("jinan_urban", True, ["answer"]), ("jinan_urban2", False, []), ("jinan_filler", False, []),
    ("jinan_reviewer", True, []), ("qingdao_reviewer", False, []), ("sd_reviewer", True, []),
    ("sc_reviewer", False, []), ("nation_reviewer", True, ["escalate"]), ("analyst", True, ["escalate"]),
    ("admin", True, []), ("zy_urban", False, []),
]


@pytest.mark.parametrize(("who", "visible", "allowed"), ITEM_MATRIX)
def test_it_shows_an_item_only_inside_the_viewers_scope_and_offers_only_their_moves(cast, client, api, world, who,
                                                                                   visible, allowed):
    submission, national, _, item = world
    user = getattr(cast, who)
    client.force_login(user)
    expected = 200 if visible else 404
    assert client.get(reverse("sampling:item", args=[item.pk])).status_code == expected
    assert client.post(reverse("sampling:act", args=[item.pk]), {"action": "close"}).status_code == (
        302 if visible else 404)
    detail = api(user).get(f"/api/rectifications/{item.pk}/")
    assert detail.status_code == expected
    if visible:
        assert detail.json()["allowed_actions"] == allowed
    listed = api(user).get("/api/rectifications/", {"batch": national.pk}).json()["results"]
    assert bool(listed) is visible
    for verb in ("close", "reopen", "escalate"):
        moved = api(user).post(f"/api/rectifications/{item.pk}/{verb}/", {"note": "x"}, format="json")
        assert moved.status_code in ((403, 409, 200) if visible else (404,))
        if verb in allowed:
            break
    raised = api(user).post(f"/api/submissions/{submission.pk}/rectifications/",
                            {"field": "alliance_count", "text": "x", "deadline": "2999-01-01"}, format="json")
    can_see_submission = who not in {"jinan_urban2", "jinan_filler", "qingdao_reviewer", "sc_reviewer", "zy_urban"}
    if not can_see_submission:
        assert raised.status_code == 404
    elif who in {"jinan_urban", "jinan_reviewer", "admin"}:
        assert raised.status_code == 403
    else:
        assert raised.status_code in (201, 400)


def test_it_answers_405_to_writes_on_read_only_sampling_pages(cast, client, world):
    _, national, _, item = world
    client.force_login(cast.analyst)
    sample = national.samples.get()
    for url in (reverse("sampling:index"), reverse("sampling:batch", args=[national.pk]),
                reverse("sampling:sample", args=[sample.pk]), reverse("sampling:items"),
                reverse("sampling:item", args=[item.pk])):
        assert client.post(url).status_code == 405
    for url in (reverse("sampling:preview"), reverse("sampling:act", args=[item.pk]),
                reverse("sampling:raise", args=[sample.pk])):
        assert client.put(url).status_code == 405
    assert client.get(reverse("sampling:act", args=[item.pk])).status_code == 405
