from __future__ import annotations

import json
from collections import defaultdict
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from accounts.models import Unit, User
from tests.accounts.conftest import web_login

MANIFEST = Path(settings.BASE_DIR) / "reporting" / "catalogs" / "fjzl2019" / "manifest.json"
pytestmark = pytest.mark.skipif(not MANIFEST.exists(), reason="catalog fjzl2019 not written yet")

ROLES = {"filler", "reviewer", "analyst", "admin"}
LEVELS = {"nation", "province", "city", "urban_alliance", "county_alliance"}
KEYS = {"username", "role", "unit_code", "unit_name", "unit_level", "parent_code", "email"}
DEMO_PASSWORD = "Demo#2019-fjzl"


def seed(*args: str) -> list[dict]:
    out = StringIO()
    call_command("seed_demo", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def _seeded(django_db_setup, django_db_blocker):
    """Seeding takes a while, so it runs once for this module inside a transaction rolled back at the end.

    Each test still runs in its own savepoint (the `db` fixture), so what a test writes is undone after it.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield seed()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def accounts(_seeded, db) -> list[dict]:
    return _seeded


def test_it_lists_every_demo_account_with_its_unit(accounts):
    assert accounts
    for a in accounts:
        assert set(a) == KEYS
        assert a["role"] in ROLES
        assert a["unit_level"] in LEVELS
        unit = Unit.objects.get(code=a["unit_code"])
        assert (unit.name, unit.level) == (a["unit_name"], a["unit_level"])
        assert a["parent_code"] == (unit.parent.code if unit.parent_id else None)
        assert User.objects.get(username=a["username"]).unit == unit
        assert a["email"] == f"{a['username']}@demo.invalid" == User.objects.get(username=a["username"]).email
    assert len({a["username"] for a in accounts}) == len(accounts)


def test_it_covers_two_provinces_with_two_cities_each_and_both_alliance_kinds(accounts):
    cities_of: dict[str, set[str]] = defaultdict(set)
    alliances_of: dict[str, set[str]] = defaultdict(set)
    for a in accounts:
        if a["unit_level"] == "city":
            cities_of[a["parent_code"]].add(a["unit_code"])
        if a["unit_level"] in ("urban_alliance", "county_alliance"):
            alliances_of[a["parent_code"]].add(a["unit_level"])
    assert len(cities_of) >= 2
    for cities in cities_of.values():
        assert len(cities) >= 2
        for city in cities:
            assert alliances_of[city] >= {"urban_alliance", "county_alliance"}, city
    for a in accounts:
        if a["unit_level"] in ("urban_alliance", "county_alliance"):
            assert Unit.objects.filter(parent__code=a["unit_code"], level="member").exists(), a["unit_code"]


def test_it_uses_real_division_names(accounts):
    names = {a["unit_code"]: a["unit_name"] for a in accounts}
    assert names["370100"] == "济南市"
    assert names["370000"] == "山东省"
    from accounts.regions import regions

    official = {p["code"]: p["name"] for p in regions()["provinces"]}
    official |= {c["code"]: c["name"] for p in regions()["provinces"] for c in p["cities"]}
    for a in accounts:
        if a["unit_level"] in ("province", "city"):
            assert official[a["unit_code"]] == a["unit_name"]


def test_it_has_a_reviewer_for_every_province_and_city_and_the_national_roles(accounts):
    by_role = {(a["unit_code"], a["role"]) for a in accounts}
    for a in accounts:
        if a["unit_level"] in ("province", "city"):
            assert (a["unit_code"], "reviewer") in by_role
            assert (a["unit_code"], "filler") in by_role
    roles = {a["role"] for a in accounts}
    assert roles == ROLES


def test_it_prints_a_password_that_logs_in_without_a_forced_change(accounts, client):
    units, users = Unit.objects.count(), User.objects.count()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert DEMO_PASSWORD in out.getvalue()
    assert (Unit.objects.count(), User.objects.count()) == (units, users)  # a second run adds nothing
    usernames = {a["username"] for a in accounts}
    for username in ("370100", "370100-sh", "3701001", "100000-fx"):
        assert username in usernames
        assert web_login(client, username, DEMO_PASSWORD).status_code == 302
        assert client.get("/").status_code == 200  # no detour through the password change
        client.logout()


def test_it_can_be_run_twice_without_duplicates(accounts):
    units, users = Unit.objects.count(), User.objects.count()
    again = seed()
    assert again == accounts
    assert (Unit.objects.count(), User.objects.count()) == (units, users)


def test_it_fills_the_download_area_with_the_seed_documents_and_sends_no_mail(accounts):
    from communication.models import Delivery, Notice, NoticeKind

    downloads = Notice.objects.filter(kind=NoticeKind.DOWNLOAD)
    assert {"填报工作具体要求", "部分评估考核指标说明（指标说明）", "分级诊疗制度建设信息平台操作手册",
            "考核指标框架（表1—表4）"} <= set(downloads.values_list("title", flat=True))
    assert all(n.attachments.count() == 1 for n in downloads)
    assert not Delivery.objects.exists()  # the demo's laid-out history mails nobody
