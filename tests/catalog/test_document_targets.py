"""Targets, citations and structure of the 2019 catalog read against the documents (issue 11, items 1–6 and 8).

Each test names a place where the transcription said more, less or something else than the documents: a target
applied to the wrong population, a citation of an alliance-level indicator on a lead-hospital figure, a "其中"
item under the wrong total, a target stretched from a region to one hospital.
"""

from __future__ import annotations

import json

import pytest

from engine import evaluate, load_catalog_dir
from reporting.catalog_loader import CATALOG_ROOT
from reporting.entry_layout import condition_holds

FOLDER = CATALOG_ROOT / "fjzl2019"
FORMS = ["t1", "t2", "t3", "t3m", "t4", "t4m"]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog_dir(FOLDER)


def raw(code: str) -> dict:
    return json.loads((FOLDER / f"{code}.json").read_text(encoding="utf-8"))


def indicator(code: str) -> dict:
    form = code.split(".")[0]
    return next(i for i in raw(form)["indicators"] if i["code"] == code)


def field(form: str, code: str) -> dict:
    return next(f for f in raw(form)["fields"] if f["code"] == code)


# --- 1. target scope ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["t1.i23", "t2.i23"])
def test_it_does_not_judge_all_residents_by_the_urban_signing_target(code):
    ind = indicator(code)
    assert ind["expr"] == "family_doctor_signed_population / registered_population * 100"  # all residents
    target = ind["target"]
    assert "城市全科医生签约服务覆盖率" not in target["source"]
    assert "家庭医生签约服务覆盖率达到30%以上" in target["source"]
    # the user is told why the urban target is not the yardstick here
    assert "城市全科医生签约服务覆盖率≥30%" in target["note"] and "城市居民" in target["note"]


# --- 2. citations ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["t3.i03", "t4.i04"])
def test_it_cites_the_lead_hospitals_own_upward_referrals_as_its_own(code):
    ind = indicator(code)
    assert ind["expr"] == "referral_up / referral_total * 100"
    assert "第19项" not in ind["source"] and "基层医疗机构" not in ind["source"]
    assert "牵头医院" in ind["source"]


@pytest.mark.parametrize("code", ["t3.i01", "t4.i01"])
def test_it_cites_the_lead_hospitals_bed_occupancy_as_its_own(code):
    ind = indicator(code)
    assert "第31项" not in ind["source"] and "牵头医院" in ind["source"]


def test_it_cites_the_basic_level_upward_referrals_where_the_members_are_summed():
    for code in ("t4.i14", "t4.i15", "t3.i15", "t3.i16"):
        ind = indicator(code)
        assert "第19项" in ind["source"] and "sum(members.referral_up)" in ind["expr"], code


# --- 3. the "其中" item of item 10 ------------------------------------------------------------------------------

def test_it_puts_the_township_telemedicine_item_under_item_10(catalog):
    spec = field("t3", "telemedicine_township_hc")
    assert spec["of"] == "telemedicine_lower_hospitals"
    assert spec["section"][-1].startswith("10.与下级医院建立远程医疗服务的医院数")
    form = catalog["t3"]
    values = {"telemedicine_hospitals": 12, "telemedicine_lower_hospitals": 4, "telemedicine_township_hc": 6}
    codes = {v.check for v in evaluate(form, values).violations}
    # 6 townships covered by telemedicine cannot be more than the 4 lower-level hospitals linked
    assert "t3.of.telemedicine_township_hc" in codes
    values["telemedicine_township_hc"] = 3
    assert "t3.of.telemedicine_township_hc" not in {v.check for v in evaluate(form, values).violations}


# --- 4. 类型及数目 -------------------------------------------------------------------------------------------------

KINDS = ["group", "county", "specialty", "telemed"]


def test_it_lets_a_tertiary_hospital_report_several_kinds_of_alliance_with_their_numbers(catalog):
    form = catalog["t3"]
    labels = [form.fields[f"alliance_count_{k}"].label for k in KINDS]
    assert labels == ["三级医院参与形成的医联体的数目（城市医疗集团）", "三级医院参与形成的医联体的数目（县域医共体）",
                      "三级医院参与形成的医联体的数目（专科联盟）", "三级医院参与形成的医联体的数目（远程医疗协作网）"]
    values = {"alliance_count": 3, "alliance_count_group": 1, "alliance_count_county": 0,
              "alliance_count_specialty": 2, "alliance_count_telemed": 0}
    result = evaluate(form, values)
    assert not [v for v in result.violations if v.check.startswith("t3.c50") or ".of.alliance_count" in v.check]
    assert "alliance_type" not in result.unfilled  # the one-type field of earlier versions is not asked for
    values["alliance_count"] = 4
    [violation] = [v for v in evaluate(form, values).violations if v.check == "t3.c50"]
    assert "三级医院参与形成的医联体的数目" in violation.message and "alliance_count" not in violation.message


def test_it_lets_a_member_hospital_answer_for_each_kind_of_alliance(catalog):
    sub = catalog["t3m"]
    assert all(sub.fields[f"alliance_type_{k}"].type == "yesno" for k in KINDS)
    result = evaluate(sub, {"alliance_type_group": True, "alliance_type_specialty": True})
    assert "alliance_type" not in result.unfilled


@pytest.mark.parametrize("form", ["t3", "t3m"])
def test_it_keeps_an_earlier_one_type_answer_readable(form):
    spec = field(form, "alliance_type")
    old = {"alliance_type": "城市医疗集团", "alliance_count": 2}
    assert condition_holds(spec["condition"], old)  # shown where it was answered
    assert not condition_holds(spec["condition"], {})  # not offered on a new form
    assert spec["optional"] is True


# --- 5. targets the documents set where the fields exist -----------------------------------------------------------

@pytest.mark.parametrize(("code", "words"), [
    ("t2.i32", "三级公立医院要全部参与"),
    ("t2.i33", "政府办基层医疗卫生机构全部参与医联体"),
    ("t2.i34", "政府办基层医疗卫生机构全部参与医联体"),
    ("t3.i11", "远程医疗要覆盖医联体内基层医疗卫生机构"),
    ("t3.i12", "远程医疗要覆盖医联体内基层医疗卫生机构"),
    ("t1.i24", "重点人群签约服务覆盖率达到60%以上"),
    ("t2.i24", "重点人群签约服务覆盖率达到60%以上"),
])
def test_it_sets_the_targets_the_documents_give_with_their_source_line(code, words):
    target = indicator(code)["target"]
    assert target and words in target["source"]


def test_it_reports_participation_of_community_and_township_centres_against_all_taking_part(catalog):
    form = catalog["t2"]
    result = evaluate(form, {"grassroots_chc_total": 40, "alliance_chc_total": 30, "grassroots_township_hc_total": 80,
                             "alliance_thc_total": 80, "tertiary_public_hospital_total": 5,
                             "tertiary_led_alliance_total": 5})
    assert result.indicators["t2.i33"] == 75.0 and result.attainment["t2.i33"] is False
    assert result.indicators["t2.i34"] == 100.0 and result.attainment["t2.i34"] is True
    assert result.attainment["t2.i32"] is True


# --- 6. no target stretched beyond the document ---------------------------------------------------------------------

@pytest.mark.parametrize("code", ["t3.i13", "t4.i10", "t3m.i10"])
def test_it_does_not_apply_the_regional_referral_growth_target_to_one_hospital(code):
    ind = indicator(code)
    assert ind["target"] is None
    assert "区域" in ind["source"]


@pytest.mark.parametrize("form", ["t1", "t2"])
def test_it_keeps_the_regional_referral_growth_target_on_the_region(form):
    assert indicator(f"{form}.i26")["target"]["value"] == 10


@pytest.mark.parametrize("form", ["t1", "t2"])
def test_it_judges_one_general_practitioner_per_township_centre_by_every_centre_not_by_the_average(form):
    assert indicator(f"{form}.i04")["target"] is None
    assert indicator(f"{form}.i05")["target"] == {**indicator(f"{form}.i05")["target"], "op": ">=", "value": 100}


@pytest.mark.parametrize(("code", "word"), [
    ("t1.i19", "左右"), ("t2.i19", "左右"),
    ("t1.i12", "基本覆盖"), ("t1.i13", "基本覆盖"), ("t1.i14", "基本覆盖"),
    ("t2.i12", "基本覆盖"), ("t2.i13", "基本覆盖"), ("t2.i14", "基本覆盖"),
])
def test_it_says_where_a_target_reads_the_words_more_strictly(catalog, code, word):
    target = catalog[code.split(".")[0]].indicators[[i.code for i in catalog[code.split(".")[0]].indicators]
                                                     .index(code)].target
    assert word in target.note


# --- 26号 附件2 #18 and the other alliance-level indicators ------------------------------------------------------

def test_it_computes_the_basic_level_share_and_growth_of_visits_of_a_county_alliance(catalog):
    form = catalog["t4"]
    members = [{"outpatient_visits": 50000, "referral_up": 300, "referral_down": 100, "referral_received": 0,
                "outpatient_revenue": 4_000_000.0}] * 4
    previous_members = [{"outpatient_visits": 40000}] * 4
    result = evaluate(form, {"outpatient_emergency_visits": 300000}, members=members,
                      previous={"outpatient_emergency_visits": 280000}, previous_members=previous_members)
    assert result.indicators["t4.i12"] == 40.0  # 200 000 of 500 000 visits in the township centres
    assert result.indicators["t4.i13"] == 25.0  # 160 000 → 200 000
    assert result.indicators["t4.i14"] == 1200
    assert result.indicators["t4.i15"] == 75.0
    assert result.indicators["t4.i16"] == 80.0  # 元 per visit


def test_it_computes_the_members_share_of_an_urban_alliances_visits(catalog):
    form = catalog["t3"]
    members = [{"outpatient_emergency_visits": 100000, "referral_up": 50, "referral_total": 200}] * 2
    result = evaluate(form, {"outpatient_emergency_visits": 800000}, members=members)
    assert result.indicators["t3.i17"] == 20.0
    assert result.indicators["t3.i15"] == 100 and result.indicators["t3.i16"] == 25.0


# --- 8. words for users --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("form", FORMS)
def test_it_shows_users_help_texts_from_the_documents_not_notes_to_developers(form):
    for f in raw(form)["fields"]:
        text = f.get("help") or ""
        for phrase in ("原表", "平台提供", "平台增设", "平台拆为", "此处保留", "措辞如此"):
            assert phrase not in text, (form, f["code"], text)


def test_it_keeps_the_transcription_notes_out_of_sight():
    spec = field("t3", "report_type")
    assert spec["help"] == "" and "原表" in spec["transcription_note"]


@pytest.mark.parametrize("form", ["t1", "t2"])
def test_it_gives_general_practitioners_per_ten_thousand_residents_their_unit(form):
    assert indicator(f"{form}.i03")["unit"] == "人/万人"


def test_it_counts_operations_of_the_county_lead_hospital_in_operations():
    for code in ("tumor_surgeries", "cardio_cerebrovascular_surgeries", "infectious_disease_surgeries",
                 "endoscopic_surgeries", "interventional_surgeries"):
        assert field("t4", code)["unit"] == "台次"
