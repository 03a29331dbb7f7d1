"""Layered targets: the national target from the catalog, a city's own stricter target (seed 001: 家庭医生签约服务
覆盖率 ≥ 40% where the nation asks ≥ 30%), each judged on the result card."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from reporting.actions import submission_save
from results import actions, services
from results.models import LocalTarget
from review import actions as review_actions
from tests import filling as demo

ZIYANG_SOURCE = "资阳市人民政府办公室关于推进医疗联合体建设和发展的实施意见（家庭医生签约服务覆盖率≥40%）"


def _signing_rate(cast, fill, rate_percent: int, extra: list[dict] | None = None):
    """济南市's 表2 with 家庭医生签约服务覆盖率 = rate_percent (hand-computed: signed / registered × 100), submitted."""
    sub = fill(cast.jinan_filler, "t2", demo.CLEAN_DRAFT)
    registered = sub.values["registered_population"] - sub.values["registered_population"] % 100
    submission_save(acting_user=cast.jinan_filler, submission_id=sub.pk, changes=[
        {"field": "registered_population", "value": registered},
        {"field": "family_doctor_signed_population", "value": registered * rate_percent // 100}, *(extra or [])])
    review_actions.submission_submit(acting_user=cast.jinan_filler, submission_id=sub.pk)
    sub.refresh_from_db()
    return sub


def test_it_judges_a_value_between_the_national_and_the_city_target_against_each(cast, fill):
    _signing_rate(cast, fill, 35)
    actions.local_target_set(acting_user=cast.jinan_reviewer, indicator_code="t2.i23", op=">=", value=40,
                             source=ZIYANG_SOURCE)
    card = services.build_snapshot(cast.task)["units"]["370100"]
    ind = next(i for i in card["indicators"] if i["code"] == "t2.i23")
    assert ind["value"] == pytest.approx(35)
    assert [(t["level"], t["value"], t["attained"]) for t in ind["targets"]] == [("nation", 30, True),
                                                                                  ("city", 40, False)]
    assert ind["targets"][1]["source"] == ZIYANG_SOURCE
    assert ind["attained"] is False


def test_it_applies_a_city_target_only_inside_that_citys_subtree(cast, fill):
    actions.local_target_set(acting_user=cast.qingdao_reviewer, indicator_code="t2.i23", op=">=", value=40,
                             source="青岛市文件")
    _signing_rate(cast, fill, 35)
    ind = next(i for i in services.build_snapshot(cast.task)["units"]["370100"]["indicators"]
               if i["code"] == "t2.i23")
    assert [t["level"] for t in ind["targets"]] == ["nation"] and ind["attained"] is True


def test_it_never_counts_a_missing_value_as_not_attained(cast, fill):
    _signing_rate(cast, fill, 35, extra=[{"field": "key_population_total", "value": "--"}])
    actions.local_target_set(acting_user=cast.sd_reviewer, indicator_code="t2.i24", op=">=", value=70,
                             source="省级文件（重点人群≥70%）")
    ind = next(i for i in services.build_snapshot(cast.task)["units"]["370100"]["indicators"]
               if i["code"] == "t2.i24")
    assert ind["value"] is None and ind["reason"]
    # the national target (重点人群签约 ≥ 60%, 国医改办发〔2016〕1号) and the province's own, neither judged
    assert [(t["level"], t["value"], t["attained"]) for t in ind["targets"]] == [("nation", 60, None),
                                                                                  ("province", 70.0, None)]
    assert ind["targets"][1] == {"level": "province", "op": ">=", "value": 70.0, "source": "省级文件（重点人群≥70%）",
                                 "unit": "山东省", "attained": None}
    assert ind["attained"] is None and ind["rank"] is None


def test_it_keeps_the_replaced_target_and_records_who_set_it_and_why(cast):
    actions.local_target_set(acting_user=cast.jinan_reviewer, indicator_code="t2.i23", op=">=", value=35,
                             source="旧文件")
    actions.local_target_set(acting_user=cast.jinan_reviewer, indicator_code="t2.i23", op=">=", value=40,
                             source=ZIYANG_SOURCE)
    assert list(LocalTarget.objects.filter(unit__code="370100").values_list("value", "active")
                .order_by("set_at")) == [(35, False), (40, True)]
    event = AuditEvent.objects.filter(action="local_target_set").first()
    assert event.actor == cast.jinan_reviewer and event.data["source"] == ZIYANG_SOURCE
    assert event.data["replaced"] == [{"op": ">=", "value": 35.0, "source": "旧文件"}]


def test_it_refuses_targets_from_fillers_and_without_a_source(cast):
    with pytest.raises(actions.ResultsError):
        actions.local_target_set(acting_user=cast.jinan_filler, indicator_code="t2.i23", op=">=", value=40,
                                 source="x")
    with pytest.raises(actions.ResultsError):
        actions.local_target_set(acting_user=cast.jinan_reviewer, indicator_code="t2.i23", op=">=", value=40,
                                 source=" ")
    assert not LocalTarget.objects.exists()
