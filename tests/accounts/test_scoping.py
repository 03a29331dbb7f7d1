from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts import actions
from accounts.models import Role
from accounts.scoping import can_see_unit, visible_units

ALL = {"100000", "370000", "370100", "370200", "3701001", "3701002", "3701001-M01", "3702001", "510000", "510100"}

EXPECTED = {
    # platform admin and national reviewers/analysts: everything
    "admin": ALL,
    "100000-sh": ALL,
    "100000-fx": ALL,
    # province reviewer: the province and everything under it, nothing of another province
    "370000-sh": {"370000", "370100", "370200", "3701001", "3701002", "3701001-M01", "3702001"},
    "510000-sh": {"510000", "510100"},
    # city reviewer: the city, its alliances and their members; never the sibling city
    "370100-sh": {"370100", "3701001", "3701002", "3701001-M01"},
    "370200-sh": {"370200", "3702001"},
    # fillers: their own unit only, plus the member units an alliance fills sub-forms for
    "370000": {"370000"},
    "370100": {"370100"},
    "3701001": {"3701001", "3701001-M01"},
    "3701002": {"3701002"},
    "3702001": {"3702001"},
    "510100": {"510100"},
    # an account without a unit sees nothing
    "nobody": set(),
}


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_it_shows_each_role_and_level_exactly_its_units(tree, username):
    user = tree.user(username)
    assert set(visible_units(user).values_list("code", flat=True)) == EXPECTED[username]


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_it_answers_single_unit_checks_the_same_way(tree, username):
    from accounts.models import Unit

    user = tree.user(username)
    for unit in Unit.objects.all():
        assert can_see_unit(user, unit) == (unit.code in EXPECTED[username]), unit.code


def test_it_shows_nothing_to_anonymous_visitors(tree):
    assert not visible_units(AnonymousUser()).exists()
    assert not can_see_unit(AnonymousUser(), tree.jinan)


def test_it_shows_everything_to_a_superuser_without_a_unit(tree):
    su = actions.user_create(acting_user=None, username="root", unit=None, role=Role.FILLER, password="x")
    su.is_superuser = True
    assert visible_units(su).count() == len(ALL)
    assert can_see_unit(su, tree.chengdu)


def test_it_does_not_confuse_codes_that_share_a_prefix(tree):
    """3701001-2 starts with 3701001 as text; the materialised path keeps them apart."""
    from accounts.models import UnitLevel

    sibling = actions.unit_create(acting_user=None, code="3701001-2", name="济南市第五人民医院医疗集团",
                                  level=UnitLevel.URBAN_ALLIANCE, parent=tree.jinan)
    user = tree.user("3701001")
    assert not can_see_unit(user, sibling)
    assert "3701001-2" not in set(visible_units(user).values_list("code", flat=True))
