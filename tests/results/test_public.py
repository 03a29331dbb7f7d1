"""公众: /results/ without login shows only releases published to the public, as medians with small cells
suppressed (fewer than RESULTS_MIN_CELL_UNITS units)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from results import actions, services


def _publish(cast, audience):
    release = actions.release_freeze(acting_user=cast.nation_reviewer, task_id=cast.task.pk)
    return actions.release_publish(acting_user=cast.nation_reviewer, release_id=release.pk, audience=audience)


def test_it_shows_nothing_to_the_public_before_a_public_release(cast, client, reported):
    _publish(cast, "sector")
    page = client.get(reverse("results:public")).content.decode()
    assert "暂无向公众发布的评估结果" in page and "t3.i09" not in page


def test_it_shows_public_medians_and_suppresses_cells_of_too_few_units(cast, client, reported, settings):
    settings.RESULTS_MIN_CELL_UNITS = 3
    release = _publish(cast, "public")
    page = client.get(reverse("results:public")).content.decode()
    assert 'data-indicator="t3.i09"' in page
    table = {(r["form"], r["code"]): r for r in services.public_table(release.snapshot)}
    row = table[("t3", "t3.i09")]
    assert row["nation"]["n"] == 3 and not row["nation"]["suppressed"]  # three alliances nationwide
    provinces = {p["code"]: p for p in row["provinces"]}
    assert provinces["370000"]["suppressed"] and provinces["370000"]["median"] is None  # two in 山东
    assert provinces["510000"]["suppressed"]  # one in 四川
    # no unit's own value and no unit name appears on the public page
    for card in release.snapshot["units"].values():
        assert card["name"] not in page
    settings.RESULTS_MIN_CELL_UNITS = 2
    provinces = {p["code"]: p for p in services.public_table(release.snapshot)[0]["provinces"]}
    assert not provinces["370000"]["suppressed"] and provinces["510000"]["suppressed"]


@pytest.mark.parametrize("audience", ["province", "sector"])
def test_it_keeps_province_and_sector_releases_off_the_public_page(cast, client, reported, audience):
    _publish(cast, audience)
    assert "public-table" not in client.get(reverse("results:public")).content.decode()
