"""26号 综合绩效考核 in the platform: the indicator system and schemes as versioned data, a province's adjusted
weights recorded with who and why, a dry run on a past task before adoption, rubric scores of 定性 items."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from results import actions, services
from results.logic import scoring
from results.models import IndicatorSystem, Release, SchemeStatus, ScoringScheme
from tests.results.conftest import fill_in


@pytest.fixture
def national(cast):
    scheme = actions.scheme_load(acting_user=cast.nation_reviewer, annex="a2")
    return actions.scheme_adopt(acting_user=cast.nation_reviewer, scheme_id=scheme.pk)


def test_it_stores_the_indicator_system_once_per_content(cast):
    first = actions.indicator_system_load(acting_user=cast.nation_reviewer)
    again = actions.indicator_system_load(acting_user=None)
    assert first.pk == again.pk and IndicatorSystem.objects.count() == 1
    with pytest.raises(ValueError):
        first.save()


def test_it_scores_alliances_with_the_adopted_scheme_and_maps_26hao_items_to_the_forms(cast, fill, national):
    fill("3701002", "t4")
    card = services.build_snapshot(cast.task)["units"]["3701002"]
    items = {i["code"]: i for i in card["items"]}
    assert items["36"]["status"] == "no_data"  # 满意度: not collected by 表1–表4
    assert items["01"]["status"] == "qualitative" and items["01"]["value"] is None
    sub = cast.submission("3701002", "t4")
    members = [m.values for m in sub.members.all()]
    visits = sum(m["outpatient_visits"] for m in members)
    assert items["18a"]["value"] == pytest.approx(100 * visits / (sub.values["outpatient_visits"] + visits), abs=1e-3)
    assert items["21"]["value"] == sum(m["new_projects_received"] + m["new_technologies_received"] for m in members)
    assert items["18b"]["status"] == "missing"  # no previous year: growth not computable, not 0
    expected = scoring.score(national.definition, {c: i["value"] for c, i in items.items()})
    assert (card["score"], card["grade"]) == (expected["total"], expected["grade"])
    assert card["scheme"]["hash"] == national.content_hash


def test_it_records_a_provinces_adjusted_weights_and_runs_it_dry_on_the_previous_task(cast, national, chain):
    y2018 = chain[1]
    fill_in(y2018, "3701002", "t4")
    fill_in(y2018, "5120002", "t4")
    adjusted = actions.scheme_adjust(acting_user=cast.sd_reviewer, base_id=national.pk,
                                     weights={"18a": 20, "21": 1}, reason="本省以基层诊疗量为重点")
    assert adjusted.status == SchemeStatus.DRAFT and adjusted.unit.code == "370000"
    assert national.definition["items"] == ScoringScheme.objects.get(pk=national.pk).definition["items"]
    event = AuditEvent.objects.get(action="scheme_adjust")
    assert event.actor == cast.sd_reviewer and event.data["reason"] == "本省以基层诊疗量为重点"
    rows = services.dry_run(adjusted, y2018)
    assert [r["code"] for r in rows] == ["3701002"]  # the province's subtree only
    card = services.build_snapshot(y2018)["units"]["3701002"]
    values = {i["code"]: i["value"] for i in card["items"]}
    assert rows[0]["current_score"] == scoring.score(national.definition, values)["total"]
    assert rows[0]["score"] == scoring.score(adjusted.definition, values)["total"]
    assert rows[0]["score"] != rows[0]["current_score"]
    assert not Release.objects.exists()  # a dry run freezes nothing
    # Adopted, the province's scheme scores its own alliances; 四川 keeps the national one
    actions.scheme_adopt(acting_user=cast.sd_reviewer, scheme_id=adjusted.pk)
    snapshot = services.build_snapshot(y2018)
    assert snapshot["units"]["3701002"]["scheme"]["hash"] == adjusted.content_hash
    assert snapshot["units"]["5120002"]["scheme"]["hash"] == national.content_hash


def test_it_refuses_a_cities_adjustment_and_an_adjustment_without_reason(cast, national):
    with pytest.raises(actions.ResultsError):
        actions.scheme_adjust(acting_user=cast.jinan_reviewer, base_id=national.pk, weights={"18a": 1},
                              reason="x")
    with pytest.raises(actions.ResultsError):
        actions.scheme_adjust(acting_user=cast.sd_reviewer, base_id=national.pk, weights={"18a": 1}, reason="")
    with pytest.raises(actions.ResultsError):  # a province cannot adopt the national scheme's replacement
        actions.scheme_adopt(acting_user=cast.sd_reviewer, scheme_id=national.pk)


def test_it_counts_a_reviewers_rubric_score_of_a_qualitative_item(cast, fill, national):
    fill("3701002", "t4")
    before = services.build_snapshot(cast.task)["units"]["3701002"]
    actions.qualitative_score_set(acting_user=cast.jinan_reviewer, task_id=cast.task.pk, unit_code="3701002",
                                  item_code="01", level="优", note="实施方案已出台")
    after = services.build_snapshot(cast.task)["units"]["3701002"]
    item = next(i for i in after["items"] if i["code"] == "01")
    assert (item["value"], item["points"]) == ("优", 3.0)
    assert after["coverage"] > before["coverage"]
    with pytest.raises(actions.ResultsError):  # the alliance cannot score itself
        actions.qualitative_score_set(acting_user=cast.jinan_county, task_id=cast.task.pk, unit_code="3701002",
                                      item_code="01", level="优")
    with pytest.raises(actions.ResultsError):  # 四川 cannot score 山东's alliance
        actions.qualitative_score_set(acting_user=cast.sc_reviewer, task_id=cast.task.pk, unit_code="3701002",
                                      item_code="01", level="优")


def test_it_compiles_every_26hao_item_mapping_against_its_form(cast):
    from reporting.catalog_loader import task_definitions
    from results.logic import items as item_logic

    definitions = task_definitions(cast.task)
    system = item_logic.load_json(item_logic.SYSTEMS_DIR / "yljx2018.json")
    mapped = 0
    for annex in system["annexes"]:
        for item in annex["items"]:
            for form_code, m in (item.get("data") or {}).items():
                assert form_code in annex["forms"], item["code"]
                form = definitions[form_code]
                if "indicator" in m:
                    assert m["indicator"] in {i["code"] for i in form["indicators"]}, item["code"]
                else:
                    item_logic.compile_item(m["expr"], form, definitions.get(form.get("subform") or ""))
                mapped += 1
    assert mapped >= 40


def test_it_computes_three_year_change_items_across_a_missing_year(cast, chain, national):
    y2017, _y2018, y2019 = chain
    s17 = fill_in(y2017, "3701002", "t4")
    s19 = fill_in(y2019, "3701002", "t4", previous=s17)  # 2018 never filled
    items = {i["code"]: i for i in services.build_snapshot(y2019)["units"]["3701002"]["items"]}
    # 30b 医联体内牵头医院平均住院日近三年的变化情况 = 2019 − 2017
    assert items["30b"]["value"] == pytest.approx(s19.values["avg_length_of_stay"] - s17.values["avg_length_of_stay"],
                                                  abs=1e-4)
    # 33 医院住院患者人均费用三年变化趋势 = growth over two periods, in %
    expected = 100 * (s19.values["inpatient_cost_per_capita"] / s17.values["inpatient_cost_per_capita"] - 1)
    assert items["33"]["value"] == pytest.approx(expected, abs=1e-3)
    # 25a 牵头医院门诊量变化 needs 2018: not computable, never 0
    assert items["25a"]["value"] is None and items["25a"]["status"] == "missing"


def test_it_scores_items_a_province_added_for_its_subtree_only(cast, fill, national):
    fill("3701002", "t4")
    fill("5120002", "t4")
    added = [{"code": "p01", "label": "县域医共体“两员一中心”建设情况", "kind": "qualitative", "weight": 5,
              "rule": {"type": "rubric"}},
             {"code": "p02", "label": "派出连续工作3个月以上的人才", "weight": 5,
              "data": {"t4": {"expr": "staff_sent_long_term", "unit": "人"}},
              "rule": {"type": "bands", "bands": [[5, 1], [1, 0.5]]}}]
    scheme = actions.scheme_adjust(acting_user=cast.sd_reviewer, base_id=national.pk, added=added,
                                   reason="本省增补县域医共体指标")
    actions.scheme_adopt(acting_user=cast.sd_reviewer, scheme_id=scheme.pk)
    actions.qualitative_score_set(acting_user=cast.sd_reviewer, task_id=cast.task.pk, unit_code="3701002",
                                  item_code="p01", level="良")
    snapshot = services.build_snapshot(cast.task)
    items = {i["code"]: i for i in snapshot["units"]["3701002"]["items"]}
    assert (items["p01"]["value"], items["p01"]["points"]) == ("良", 4.0)
    assert items["p02"]["value"] == cast.submission("3701002", "t4").values["staff_sent_long_term"]
    assert "p01" not in {i["code"] for i in snapshot["units"]["5120002"]["items"]}
    with pytest.raises(actions.ResultsError):  # 四川's alliance has no such item
        actions.qualitative_score_set(acting_user=cast.sc_reviewer, task_id=cast.task.pk, unit_code="5120002",
                                      item_code="p01", level="良")
