"""Result card comparisons: a province against the national median, a city against its province (the
province's own value and the median of its cities), an alliance against its city and province."""

from __future__ import annotations

from statistics import median

import pytest

from results import services
from tests import filling as demo


def test_it_compares_a_city_with_its_province_and_a_province_with_the_nation(cast, fill):
    fill("370000", "t1", demo.SUBMITTED)
    fill("510000", "t1", demo.SUBMITTED)
    cities = [fill(code, "t2", demo.SUBMITTED) for code in ("370100", "370200")]
    snapshot = services.build_snapshot(cast.task)
    jinan = snapshot["units"]["370100"]
    rows = {r["code"]: r for r in services.comparisons(snapshot, jinan)}
    shandong = {i["label"]: i["value"] for i in snapshot["units"]["370000"]["indicators"]}
    row = rows["t2.i17"]  # 城乡基层医疗卫生机构诊疗量占比
    assert row["province_value"] == shandong["城乡基层医疗卫生机构诊疗量占比"]
    values = [c.result["indicators"]["t2.i17"] for c in cities]
    assert row["province"]["median"] == pytest.approx(median(values), abs=1e-4) and row["province"]["n"] == 2
    province_rows = {r["code"]: r for r in services.comparisons(snapshot, snapshot["units"]["370000"])}
    t1_values = [snapshot["units"][c]["indicators"][16]["value"] for c in ("370000", "510000")]
    assert province_rows["t1.i17"]["nation"] == {"median": pytest.approx(median(t1_values), abs=1e-4), "n": 2}
    assert "province" not in province_rows["t1.i17"]


def test_it_compares_an_alliance_with_its_city_and_province(cast, reported):
    snapshot = services.build_snapshot(cast.task)
    rows = {r["code"]: r for r in services.comparisons(snapshot, snapshot["units"]["3701001"])}
    row = rows["t3.i09"]
    assert row["city"]["n"] == 1 and row["province"]["n"] == 2 and row["nation"]["n"] == 3
