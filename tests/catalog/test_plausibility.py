"""Plausibility checks (合理性审核) of 表1/表2 and the unit-scale check (issue 11, item 7 of the findings).

Values that are possible but improbable must ask the clerk for a look (a soft check) and say what probably went
wrong: a population typed in 万人 into a field in 人, beds in 千张, a rate jumping between two years, a province far
from the others, a coverage above 100%.
"""

from __future__ import annotations

import pytest

from engine import evaluate, load_catalog_dir
from reporting.catalog_loader import CATALOG_ROOT


@pytest.fixture(scope="module")
def catalog():
    return load_catalog_dir(CATALOG_ROOT / "fjzl2019")


# A province of about 95 million residents, with values of the order of the 2018 national figures.
PROVINCE = {
    "registered_population": 95_000_000, "urban_registered_population": 45_000_000, "poor_population": 1_500_000,
    "grassroots_total": 70_000, "total_visits": 620_000_000, "grassroots_visits": 330_000_000,
    "gp_total": 22_000, "family_doctor_signed_population": 33_000_000, "key_population_total": 30_000_000,
    "key_population_signed": 19_000_000, "registered_poor_population": 1_200_000, "registered_poor_signed": 1_200_000,
    "outpatient_avg_cost": 260, "inpatient_avg_cost": 8900, "private_rehab_beds": 5200, "private_rehab_total": 60,
    "up_referral_total": 900_000, "down_referral_inpatients": 300_000, "public_hospital_inpatients": 12_000_000,
    "county_inpatient_outflow": 900_000, "county_inpatient_total": 9_000_000,
}


def soft(result, prefix=""):
    return {v.check: v.message for v in result.violations if v.severity == "soft" and v.check.startswith(prefix)}


def codes_matching(result, words):
    return [v for v in result.violations if words in v.message]


def test_a_plausible_province_raises_no_question(catalog):
    result = evaluate(catalog["t1"], PROVINCE, previous={k: v * 0.97 for k, v in PROVINCE.items()})
    assert [v.message for v in result.violations] == []


def test_it_tells_a_population_entered_in_ten_thousands_against_last_year(catalog):
    current = {**PROVINCE, "registered_population": 9500}  # 9 500 万人 typed as 9500
    result = evaluate(catalog["t1"], current, previous=PROVINCE)
    [scale] = [v for v in result.violations if v.check == "t1.scale.registered_population"]
    assert scale.severity == "soft"
    assert scale.message == ("户籍总人数（9500人）约为上期（95000000人）的万分之一，疑似以万人为单位填写，请按“人”填报")


def test_it_tells_a_population_entered_in_ten_thousands_without_a_previous_period(catalog):
    result = evaluate(catalog["t1"], {**PROVINCE, "registered_population": 9500, "urban_registered_population": 4500})
    messages = [v.message for v in result.violations if v.severity == "soft"]
    assert any("不足100万人，疑似以万人或千人为单位填写" in m for m in messages)
    assert any(m.startswith("人均诊疗人次") and "疑似户籍总人数或诊疗人次数以万、千为单位填写" in m for m in messages)
    # the indicator the province saw as "127,915.89 — 达标" is still computed, but no longer passes unremarked
    assert result.indicators["t1.i03"] > 10_000
    assert any(m.startswith("每万名城市居民拥有全科医生数") for m in messages)


def test_it_tells_beds_entered_in_thousands(catalog):
    result = evaluate(catalog["t1"], {**PROVINCE, "private_rehab_beds": 5}, previous=PROVINCE)
    [scale] = [v for v in result.violations if v.check == "t1.scale.private_rehab_beds"]
    assert "约为上期（5200张）的千分之一，疑似以千张为单位填写，请按“张”填报" in scale.message


def test_it_tells_when_last_years_value_was_the_one_entered_in_ten_thousands(catalog):
    result = evaluate(catalog["t2"], {"registered_population": 4_200_000}, previous={"registered_population": 420})
    [scale] = [v for v in result.violations if v.check == "t2.scale.registered_population"]
    assert "上期疑似以万人为单位填写" in scale.message


def test_it_leaves_an_ordinary_change_to_the_change_checks(catalog):
    result = evaluate(catalog["t1"], {**PROVINCE, "registered_population": 80_000_000}, previous=PROVINCE)
    assert not [v for v in result.violations if ".scale." in v.check]


def test_it_catches_a_telemedicine_coverage_of_150_percent(catalog):
    values = {"telemedicine_hospitals": 20, "telemedicine_lower_hospitals": 18, "telemedicine_township_hc": 15,
              "covered_township_hc": 10, "telemedicine_community_hc": 2, "covered_community_hc": 4}
    result = evaluate(catalog["t3"], values)
    assert result.indicators["t3.i11"] == 150.0
    [v] = codes_matching(result, "远程医疗服务覆盖的乡镇卫生院比例将超过100%")
    assert v.severity == "soft" and v.fields == ["covered_township_hc", "telemedicine_township_hc"]


def test_it_asks_about_the_primary_care_share_moving_more_than_five_points(catalog):
    previous = {**PROVINCE, "grassroots_visits": 310_000_000}  # 50.0 %
    moved = evaluate(catalog["t1"], {**PROVINCE, "grassroots_visits": 353_400_000}, previous=previous)  # 57.0 %
    assert "城乡基层医疗卫生机构诊疗量占比较上期变化超过5个百分点，请核实并填写说明" in soft(moved).values()
    steady = evaluate(catalog["t1"], {**PROVINCE, "grassroots_visits": 322_400_000}, previous=previous)  # 52.0 %
    assert not [m for m in soft(steady).values() if "个百分点" in m]


def test_it_asks_about_a_province_far_from_the_others(catalog):
    shares = [0.50, 0.52, 0.54, 0.55, 0.53, 0.51, 0.56, 0.49]
    peers = [{**PROVINCE, "grassroots_visits": int(PROVINCE["total_visits"] * s)} for s in shares]
    odd = {**PROVINCE, "grassroots_visits": int(PROVINCE["total_visits"] * 0.95)}
    result = evaluate(catalog["t1"], odd, peers=peers + [odd])
    assert "城乡基层医疗卫生机构诊疗量占比与其他省份差异较大（稳健Z值绝对值超过3.5），请核实并填写说明" in soft(result).values()
    usual = evaluate(catalog["t1"], peers[0], peers=peers + [odd])
    assert not [m for m in soft(usual).values() if "稳健Z值" in m]


def test_it_compares_a_city_with_the_other_cities_of_its_province_in_words(catalog):
    assert catalog["t2"].peer_scope == "parent" and catalog["t1"].peer_scope == "all"
    robust = [c for c in catalog["t2"].checks if c.expr is not None and "robust_z" in c.expr.source]
    assert len(robust) >= 6 and all("本省其他地市" in "".join(t for _, t in c.message) for c in robust)


def test_it_asks_about_upward_and_downward_referrals_out_of_proportion(catalog):
    result = evaluate(catalog["t1"], {**PROVINCE, "up_referral_total": 9_000_000, "down_referral_inpatients": 3000})
    assert any("之比超出合理范围（下转人数的1/5～20倍）" in m for m in soft(result).values())


@pytest.mark.parametrize("form", ["t1", "t2"])
def test_it_refuses_more_signed_key_or_poor_residents_than_signed_residents(catalog, form):
    values = {"family_doctor_signed_population": 1000, "key_population_signed": 1200, "registered_poor_signed": 1100}
    hard = [v for v in evaluate(catalog[form], values).violations if v.severity == "hard"]
    assert any("重点人群签约服务人数（1200）不能大于家庭医生签约服务人数（1000）" in v.message for v in hard)
    assert any("获得家庭医生签约服务的建档立卡贫困人口数（1100）不能大于家庭医生签约服务人数（1000）" in v.message
               for v in hard)


@pytest.mark.parametrize(("form", "field", "value"), [
    ("t1", "outpatient_avg_cost", 2740),  # 274 元 typed with a digit too many
    ("t1", "inpatient_avg_cost", 929),
    ("t2", "tertiary_inpatient_avg_cost", 130_000),
    ("t2", "infant_mortality", 61),
    ("t1", "life_expectancy", 97),
])
def test_it_sets_ranges_a_statistician_would_set(catalog, form, field, value):
    checks = [c for c in catalog[form].checks if c.severity == "soft" and c.expr is not None
              and c.expr.names == {field} and "robust_z" not in c.expr.source]
    # the reason for the range is in the check's source, in words a statistician would give
    assert checks and all(c.source.startswith("合理性审核（取值范围）：") and len(c.source) > 30 for c in checks)
    result = evaluate(catalog[form], {field: value})
    assert any(v.check in {c.code for c in checks} for v in result.violations)
