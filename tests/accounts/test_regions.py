from __future__ import annotations

from django.core.management import call_command

from accounts.models import Unit, UnitLevel
from accounts.regions import province, regions


def test_it_ships_the_32_provincial_units_with_real_names():
    provinces = {p["code"]: p["name"] for p in regions()["provinces"]}
    assert len(provinces) == 32
    assert provinces["660000"] == "新疆生产建设兵团"
    assert provinces["370000"] == "山东省"
    assert provinces["110000"] == "北京市"
    assert provinces["540000"] == "西藏自治区"
    assert "710000" not in provinces  # Taiwan, Hong Kong and Macau are not part of the assessment


def test_it_ships_the_prefecture_level_cities_under_their_provinces():
    cities = {c["code"]: c["name"] for c in province("370000")["cities"]}
    assert cities["370100"] == "济南市"
    assert cities["370200"] == "青岛市"
    assert len(cities) == 16
    assert {c["code"] for c in province("510000")["cities"]} >= {"510100", "512000"}
    assert [c["name"] for c in province("110000")["cities"]] == ["北京市"]
    for p in regions()["provinces"]:
        assert p["cities"], p["name"]
        for c in p["cities"]:
            assert c["code"][:2] == p["code"][:2] or p["code"] == "660000", c


def test_it_imports_the_nation_provinces_and_cities(db):
    call_command("import_regions")
    nation = Unit.objects.get(code="100000")
    assert nation.level == UnitLevel.NATION
    assert Unit.objects.filter(level=UnitLevel.PROVINCE, parent=nation).count() == 32
    expected_cities = sum(len(p["cities"]) for p in regions()["provinces"])
    assert Unit.objects.filter(level=UnitLevel.CITY).count() == expected_cities
    jinan = Unit.objects.get(code="370100")
    assert (jinan.name, jinan.parent.code, jinan.path) == ("济南市", "370000", "/100000/370000/370100/")


def test_it_can_import_the_regions_twice(db):
    call_command("import_regions")
    before = Unit.objects.count()
    call_command("import_regions")
    assert Unit.objects.count() == before
