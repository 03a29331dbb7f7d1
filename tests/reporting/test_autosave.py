"""Autosave through the data-entry page's JSON endpoint: what a filler types is what is stored and shown again."""

from __future__ import annotations

import json
import re

import pytest
from django.utils import timezone

from accounts.actions import user_create
from accounts.models import Role
from reporting.models import Status, Submission, ValueChange
from tests.cast import PASSWORD


def input_value(html: str, key: str) -> str | None:
    """The value attribute of the text input for a field key on the entry page."""
    m = re.search(r'<input[^>]*data-key="' + re.escape(key) + r'"[^>]*value="([^"]*)"', html)
    return m.group(1) if m else None


def selected_option(html: str, key: str) -> str | None:
    m = re.search(r'<select[^>]*data-key="' + re.escape(key) + r'"[^>]*>(.*?)</select>', html, re.S)
    if not m:
        return None
    opt = re.search(r'<option value="([^"]*)" selected>', m.group(1))
    return opt.group(1) if opt else None


@pytest.fixture
def t3(cast) -> Submission:
    return cast.submission(cast.jinan_urban, "t3")


def test_it_keeps_every_value_after_reload_with_dashes_and_zero_as_different_things(cast, t3, as_user):
    filler = as_user(cast.jinan_urban)
    response = filler.save(t3, {
        "occupied_bed_days": "0", "open_bed_days": "--", "outpatient_visits": "１２３",
        "hospital_name": "济南市第一医院", "is_typical": False, "report_type": "牵头医院",
        "avg_daily_outpatient": "１２．５", "day_surgery_cases_basic": "－－",
    }, base_revision=t3.revision)
    assert response.status_code == 200
    body = response.json()
    assert body["errors"] == {} and body["conflicts"] == []

    state = filler.state(t3).json()
    values = state["values"]
    assert values["occupied_bed_days"] == 0
    assert values["open_bed_days"] == "--"
    assert values["day_surgery_cases_basic"] == "--"
    assert values["outpatient_visits"] == 123
    assert values["avg_daily_outpatient"] == 12.5
    assert values["hospital_name"] == "济南市第一医院"
    assert values["is_typical"] is False
    assert values["report_type"] == "牵头医院"
    assert "discharged_patients" not in values  # never typed: not filled, neither 0 nor "--"

    page = filler.page(t3).content.decode()
    assert input_value(page, "occupied_bed_days") == "0"
    assert input_value(page, "open_bed_days") == "--"
    assert input_value(page, "outpatient_visits") == "123"
    assert input_value(page, "avg_daily_outpatient") == "12.5"
    assert input_value(page, "discharged_patients") == ""
    assert input_value(page, "hospital_name") == "济南市第一医院"
    assert selected_option(page, "is_typical") == "false"
    assert selected_option(page, "report_type") == "牵头医院"


def test_it_clears_a_value_when_the_filler_empties_the_field(cast, t3, as_user):
    filler = as_user(cast.jinan_urban)
    filler.save(t3, {"outpatient_visits": "0"})
    filler.save(t3, {"outpatient_visits": ""})
    assert "outpatient_visits" not in filler.state(t3).json()["values"]


@pytest.mark.parametrize(("code", "typed", "stored"), [
    ("outpatient_visits", "１２３", 123),
    ("avg_daily_outpatient", "１２３．５", 123.5),
    ("outpatient_visits", "1,234", 1234),
    ("outpatient_visits", "1，234", 1234),
    ("bed_occupancy_rate", "12%", 12),
    ("bed_occupancy_rate", "８５．５％", 85.5),
    ("outpatient_visits", " 4 5 6 ", 456),
    ("avg_daily_outpatient", "7８。9", 78.9),
    ("outpatient_visits", "\u3000１０\u3000", 10),
])
def test_it_stores_numbers_typed_the_way_clerks_type_them(cast, t3, as_user, code, typed, stored):
    response = as_user(cast.jinan_urban).save(t3, {code: typed})
    body = response.json()
    assert body["errors"] == {}
    assert body["stored"][code] == stored
    t3.refresh_from_db()
    assert t3.values[code] == stored
    assert type(t3.values[code]) is type(stored)


@pytest.mark.parametrize(("code", "typed", "message_part"), [
    ("outpatient_visits", "abc", "请填写数字"),
    ("outpatient_visits", "-3", "不能为负数"),
    ("outpatient_visits", "1.5", "整数"),
    ("outpatient_visits", "12%", "不是百分比"),
    ("is_typical", "也许", "是"),
    ("hospital_level", "四级", "请从下列选项中选择"),
])
def test_it_reports_a_bad_value_in_chinese_on_its_field_while_the_rest_saves(cast, t3, as_user, code, typed,
                                                                            message_part):
    response = as_user(cast.jinan_urban).save(t3, [
        {"field": code, "value": typed},
        {"field": "discharged_patients", "value": "８８"},
        {"field": "hospital_name", "value": "济南市第一医院"},
    ])
    body = response.json()
    assert set(body["errors"]) == {code}
    assert message_part in body["errors"][code]
    assert re.search(r"[\u4e00-\u9fff]", body["errors"][code])
    assert sorted(body["saved"]) == ["discharged_patients", "hospital_name"]
    t3.refresh_from_db()
    assert code not in t3.values
    assert t3.values["discharged_patients"] == 88


def test_it_takes_a_percentage_above_100_where_the_catalog_allows_it_and_flags_it_elsewhere(cast, t3, as_user):
    body = as_user(cast.jinan_urban).save(t3, {"bed_occupancy_rate": "１０５％",  # 加床: legal above 100%
                                               "day_surgery_elective_ratio": "120%"}).json()
    assert body["errors"] == {}
    t3.refresh_from_db()
    assert t3.values["bed_occupancy_rate"] == 105 and t3.values["day_surgery_elective_ratio"] == 120
    hard = {v["check"]: v for v in t3.result["violations"] if v["severity"] == "hard"}
    assert "t3.pct.day_surgery_elective_ratio" in hard
    assert "0～100" in hard["t3.pct.day_surgery_elective_ratio"]["message"]
    assert not any("bed_occupancy_rate" in v["fields"] and v["severity"] == "hard" for v in hard.values())


def test_it_adds_a_member_once_even_when_the_request_is_retried(cast, t3, as_user):
    filler = as_user(cast.jinan_urban)
    key = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    first = filler.add_member(t3, key)
    again = filler.add_member(t3, key)  # the answer of the first got lost; the page sends it again
    assert first.status_code == again.status_code == 200
    assert first.json()["key"] == again.json()["key"] == key
    assert t3.members.count() == 1

    response = filler.save(t3, [{"field": "hospital_name", "member": key, "value": "历城区中医医院"},
                                {"field": "avg_daily_outpatient", "member": key, "value": "３０．５"},
                                {"field": "outpatient_visits", "member": key, "value": "abc"}])
    body = response.json()
    assert sorted(body["saved"]) == [f"{key}/avg_daily_outpatient", f"{key}/hospital_name"]
    assert "请填写数字" in body["errors"][f"{key}/outpatient_visits"]
    state = filler.state(t3).json()
    assert state["members"] == [{"key": key, "position": 1, "unit": "",
                                 "values": {"hospital_name": "历城区中医医院", "avg_daily_outpatient": 30.5}}]
    page = filler.page(t3).content.decode()
    assert "历城区中医医院" in page  # the member card is titled by its hospital name
    # member cards are filled by the page script from the entry data (one template for every card)
    data = json.loads(re.search(r'<script id="entry-data" type="application/json">(.*?)</script>', page, re.S)[1])
    assert data["members"][0]["values"]["avg_daily_outpatient"] == 30.5


def test_it_prefills_a_member_added_from_the_alliance_units_list(cast, t3, as_user):
    filler = as_user(cast.jinan_urban)
    member_unit = cast.unit("3701001").children.order_by("code").first()
    body = filler.add_member(t3, "a" * 32, unit=member_unit.code).json()
    assert body["values"]["hospital_name"] == member_unit.name
    assert t3.members.get().member_unit == member_unit
    # A unit of another alliance is refused.
    other = cast.unit("3701001-2").children.order_by("code").first()
    response = filler.add_member(t3, "b" * 32, unit=other.code)
    assert response.status_code == 400
    assert t3.members.count() == 1


def test_it_removes_a_member_and_a_repeated_remove_is_harmless(cast, t3, as_user):
    filler = as_user(cast.jinan_urban)
    keep, drop = "1" * 32, "2" * 32
    filler.add_member(t3, keep)
    filler.add_member(t3, drop)
    filler.save(t3, [{"field": "hospital_name", "member": drop, "value": "将删除的医院"}])
    assert filler.remove_member(t3, drop).status_code == 200
    assert filler.remove_member(t3, drop).status_code == 200
    assert list(t3.members.values_list("key", flat=True)) == [keep]
    assert "将删除的医院" not in filler.page(t3).content.decode()
    # The removed values stay in the audit trail.
    assert ValueChange.objects.filter(submission=t3, member_key=drop, field_code="hospital_name",
                                      new__isnull=True).exists()
    # A late autosave for the removed member says so instead of failing silently.
    body = filler.save(t3, [{"field": "outpatient_visits", "member": drop, "value": "1"}]).json()
    assert "已被删除" in body["errors"][f"{drop}/outpatient_visits"]


def test_it_shows_a_conflict_with_both_values_when_two_fillers_change_the_same_field(cast, t3, as_user):
    second = user_create(acting_user=None, username="3701001-b", unit=cast.jinan_urban.unit, role=Role.FILLER,
                         password=PASSWORD, must_change_password=False, display_name="王二")
    cast.jinan_urban.display_name = "张一"
    cast.jinan_urban.save(update_fields=["display_name"])
    first_filler, second_filler = as_user(cast.jinan_urban), as_user(second)
    loaded = first_filler.state(t3).json()["revision"]
    assert second_filler.state(t3).json()["revision"] == loaded

    earlier = first_filler.save(t3, [{"field": "outpatient_visits", "value": "100", "base": None}],
                                base_revision=loaded).json()
    assert earlier["saved"] == ["outpatient_visits"]
    later = second_filler.save(t3, [{"field": "outpatient_visits", "value": "200", "base": None},
                                    {"field": "discharged_patients", "value": "5", "base": None}],
                               base_revision=loaded).json()
    assert later["saved"] == ["discharged_patients"]  # other fields of the same request still save
    [conflict] = later["conflicts"]
    assert conflict["field"] == "outpatient_visits" and conflict["member"] == ""
    assert conflict["yours"] == 200 and conflict["theirs"] == 100
    assert conflict["by"] == "张一" and conflict["at"]
    assert conflict["label"] == "门诊总诊疗人次数"
    t3.refresh_from_db()
    assert t3.values["outpatient_visits"] == 100  # the earlier value stays

    # 使用我的值: the page sends its value again with the other filler's value as base.
    mine = second_filler.save(t3, [{"field": "outpatient_visits", "value": "200", "base": 100}],
                              base_revision=loaded).json()
    assert mine["saved"] == ["outpatient_visits"] and mine["conflicts"] == []
    t3.refresh_from_db()
    assert t3.values["outpatient_visits"] == 200


def test_it_autosaves_from_a_page_loaded_long_ago_without_reading_the_whole_history(cast, t3, as_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    filler = as_user(cast.jinan_urban)
    loaded = t3.revision
    for i in range(5):
        filler.save(t3, [{"field": "outpatient_visits", "value": str(i)}])
    with CaptureQueriesContext(connection) as queries:
        body = filler.save(t3, [{"field": "discharged_patients", "value": "1", "base": None}],
                           base_revision=loaded).json()
    assert body["saved"] == ["discharged_patients"]
    assert not [q for q in queries.captured_queries
                if 'FROM "reporting_valuechange"' in q["sql"] and q["sql"].startswith("SELECT")]


def test_it_does_not_report_a_conflict_when_the_same_save_is_sent_twice(cast, t3, as_user):
    filler = as_user(cast.jinan_urban)
    change = [{"field": "outpatient_visits", "value": "100", "base": None}]
    filler.save(t3, change, base_revision=t3.revision)
    retry = filler.save(t3, change, base_revision=t3.revision).json()
    assert retry["conflicts"] == [] and retry["errors"] == {}
    assert ValueChange.objects.filter(submission=t3, field_code="outpatient_visits").count() == 1


def test_it_refuses_changes_after_the_deadline_and_shows_the_form_read_only(cast, t3, as_user):
    filler = as_user(cast.jinan_urban)
    filler.save(t3, {"outpatient_visits": "100"})
    task = cast.task
    task.window_close = timezone.now() - timezone.timedelta(minutes=1)
    task.save(update_fields=["window_close"])

    response = filler.save(t3, {"outpatient_visits": "999"})
    assert response.status_code == 403
    assert "锁定" in response.json()["error"]
    assert filler.add_member(t3, "c" * 32).status_code == 403
    t3.refresh_from_db()
    assert t3.values["outpatient_visits"] == 100

    page = filler.page(t3).content.decode()
    assert "只读" in page and "截止" in page
    assert 'id="save-button"' not in page
    assert 'id="member-add"' not in page
    assert re.search(r'data-key="outpatient_visits"[^>]*readonly', page)
    state = filler.state(t3).json()
    assert state["editable"] is False and "截止" in state["readonly_reason"]


def test_it_lets_the_filler_save_again_after_the_deadline_is_extended(cast, t3, as_user):
    task = cast.task
    task.window_close = timezone.now() - timezone.timedelta(minutes=1)
    task.save(update_fields=["window_close"])
    Submission.objects.filter(pk=t3.pk).update(deadline_override=timezone.now() + timezone.timedelta(days=2))
    response = as_user(cast.jinan_urban).save(t3, {"outpatient_visits": "7"})
    assert response.status_code == 200 and response.json()["saved"] == ["outpatient_visits"]


def test_it_refuses_changes_to_a_submitted_form_and_says_why(cast, t3, as_user):
    filler = as_user(cast.jinan_urban)
    Submission.objects.filter(pk=t3.pk).update(status=Status.SUBMITTED)
    response = filler.save(t3, {"outpatient_visits": "1"})
    assert response.status_code == 403 and "已上报" in response.json()["error"]
    assert "已上报" in filler.page(t3).content.decode()


def test_it_shows_the_rejection_reason_on_top_of_the_form(cast, t3, as_user):
    Submission.objects.filter(pk=t3.pk).update(status=Status.REJECTED, last_reason="门诊人次与上年差异过大，请核实")
    page = as_user(cast.jinan_urban).page(t3).content.decode()
    assert "驳回原因" in page and "门诊人次与上年差异过大，请核实" in page
    assert 'id="save-button"' in page  # a rejected form can be corrected


def test_it_returns_check_results_after_each_save_and_on_demand(cast, t3, as_user):
    filler = as_user(cast.jinan_urban)
    body = filler.save(t3, {"outpatient_visits": "2000", "outpatient_emergency_visits": "1000"}).json()
    hard = [v for v in body["result"]["violations"] if v["check"] == "t3.c01"]
    assert hard and hard[0]["severity"] == "hard"
    assert "outpatient_visits" in hard[0]["fields"]
    checked = filler.check(t3).json()["result"]
    assert any(v["check"] == "t3.c01" for v in checked["violations"])
    assert checked["blocking"] is True


def test_it_saves_the_explanation_of_a_soft_check_and_marks_it_explained(cast, t3, as_user):
    filler = as_user(cast.jinan_urban)
    body = filler.save(t3, {"occupied_bed_days": "500", "open_bed_days": "400"}).json()
    [soft] = [v for v in body["result"]["violations"] if v["check"] == "t3.c21"]
    assert soft["severity"] == "soft" and soft["explained"] is False
    body = filler.save(t3, [], explanations={soft["explanation_key"]: "加床收治，实际占用床日数超过开放床日数"}).json()
    [soft] = [v for v in body["result"]["violations"] if v["check"] == "t3.c21"]
    assert soft["explained"] is True
    assert filler.state(t3).json()["explanations"]["t3.c21"] == "加床收治，实际占用床日数超过开放床日数"


def test_it_keys_a_member_explanation_by_check_and_member(cast, t3, as_user):
    filler = as_user(cast.jinan_urban)
    key = "d" * 32
    filler.add_member(t3, key)
    body = filler.save(t3, [{"field": "avg_length_of_stay", "member": key, "value": "100"}]).json()
    [soft] = [v for v in body["result"]["violations"] if v["check"] == "t3m.c10"]
    assert soft["member"] == key and soft["explanation_key"] == f"t3m.c10@{key}"
    body = filler.save(t3, [], explanations={f"t3m.c10@{key}": "康复病床为主，住院日较长"}).json()
    [soft] = [v for v in body["result"]["violations"] if v["check"] == "t3m.c10"]
    assert soft["explained"] is True


def test_it_rejects_a_malformed_save_request(cast, t3, as_user):
    filler = as_user(cast.jinan_urban)
    response = filler.client.post(f"/submissions/{t3.pk}/api/save", data="not json",
                                  content_type="application/json")
    assert response.status_code == 400 and "格式" in response.json()["error"]
    assert filler.post("submission_save_api", [t3.pk], {"changes": "x"}).status_code == 400
    assert filler.add_member(t3, "bad key!").status_code == 400
