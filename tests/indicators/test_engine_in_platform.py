"""The engine as the platform runs it: on save, with member sub-forms, explanations, commands and re-evaluation."""

from __future__ import annotations

import copy
import json

import pytest
from django.core.management import call_command

from indicators.actions import task_catalog_update
from reporting import actions
from reporting.catalog_loader import read_catalog
from reporting.models import Submission


def _save(user, submission, **values):
    return actions.submission_save(
        acting_user=user, submission_id=submission.pk,
        changes=[{"field": k, "value": v} for k, v in values.items()],
    )


def _checks(submission):
    submission.refresh_from_db()
    return {v["check"] for v in submission.result["violations"]}


@pytest.mark.django_db
def test_it_stores_the_engines_verdict_with_every_save(cast):
    sub = cast.submission(cast.jinan_urban, "t3")
    _save(cast.jinan_urban, sub, open_bed_days=1000, occupied_bed_days=850)
    sub.refresh_from_db()
    assert sub.result["indicators"]["t3.i01"] == 85.0  # 床位使用率 = 850 / 1000 × 100
    _save(cast.jinan_urban, sub, open_bed_days="--")
    sub.refresh_from_db()
    assert sub.result["indicators"]["t3.i01"] is None
    assert "未统计" in sub.result["reasons"]["t3.i01"]


@pytest.mark.django_db
def test_it_reports_a_hard_violation_with_the_values_in_the_message(cast):
    sub = cast.submission(cast.jinan_urban, "t3")
    _save(cast.jinan_urban, sub, total_surgeries=100, grade34_surgeries=120)
    sub.refresh_from_db()
    violation = next(v for v in sub.result["violations"] if v["check"] == "t3.c07")
    assert violation["severity"] == "hard"
    assert "120" in violation["message"] and "100" in violation["message"]
    assert set(violation["fields"]) == {"grade34_surgeries", "total_surgeries"}
    assert sub.result["blocking"] is True
    _save(cast.jinan_urban, sub, grade34_surgeries=80)
    assert "t3.c07" not in _checks(sub)


@pytest.mark.django_db
def test_it_points_member_violations_at_the_member_entry_and_accepts_its_explanation(cast):
    sub = cast.submission(cast.jinan_urban, "t3")
    entry = actions.member_add(acting_user=cast.jinan_urban, submission_id=sub.pk, key="m-1")
    actions.submission_save(acting_user=cast.jinan_urban, submission_id=sub.pk, changes=[
        {"field": "referral_total", "member": "m-1", "value": 10},
        {"field": "referral_up", "member": "m-1", "value": 30},
    ])
    sub.refresh_from_db()
    member_violations = [v for v in sub.result["violations"] if v["member"] == entry.key]
    assert member_violations, sub.result["violations"]
    assert all(v["explanation_key"].endswith("@m-1") for v in member_violations)


@pytest.mark.django_db
def test_it_lets_an_explanation_stand_for_a_soft_violation(cast):
    sub = cast.submission(cast.jinan_urban, "t3")
    _save(cast.jinan_urban, sub, open_bed_days=1000, occupied_bed_days=1100)  # 加床: occupancy above 100%
    sub.refresh_from_db()
    soft = next(v for v in sub.result["violations"] if v["check"] == "t3.c21")
    assert soft["severity"] == "soft" and soft["explained"] is False
    actions.submission_save(acting_user=cast.jinan_urban, submission_id=sub.pk, changes=[],
                            explanations={soft["explanation_key"]: "冬季呼吸道疾病高发，加床收治。"})
    sub.refresh_from_db()
    soft = next(v for v in sub.result["violations"] if v["check"] == "t3.c21")
    assert soft["explained"] is True


@pytest.mark.django_db
def test_it_compares_with_the_same_units_previous_period(cast):
    from reporting.models import Task

    previous = actions.task_create(
        acting_user=None, code="t2018", name="2018年分级诊疗第三方评估", period_start=cast.task.period_start,
        period_end=cast.task.period_end, window_open=cast.task.window_open, window_close=cast.task.window_close,
        catalog_slug="fjzl2019", is_current=False,
    )
    Task.objects.filter(pk=cast.task.pk).update(previous=previous)
    actions.submissions_ensure(acting_user=None, task=previous)
    old = Submission.objects.get(task=previous, unit=cast.jinan_urban.unit, form_code="t3")
    _save(cast.jinan_urban, old, referral_down=100)
    sub = cast.submission(cast.jinan_urban, "t3")
    _save(cast.jinan_urban, sub, referral_down=125)
    sub.refresh_from_db()
    assert sub.result["indicators"]["t3.i13"] == 25.0  # 下转 年增长率 (125 − 100) / 100 × 100
    assert "t3.i13" not in sub.result["attainment"]  # the ≥ 10% growth target is the region's, not one hospital's


@pytest.mark.django_db
def test_it_rolls_up_the_cities_against_their_province(cast):
    jinan = cast.submission(cast.jinan_filler, "t2")
    _save(cast.jinan_filler, jinan, grassroots_total=900)
    province = cast.submission(cast.sd_filler, "t1")
    _save(cast.sd_filler, province, grassroots_total=500)
    province.refresh_from_db()
    rollup = next(v for v in province.result["violations"] if v["check"] == "t1.c83")
    assert rollup["severity"] == "hard"
    assert "900" in rollup["message"] and "500" in rollup["message"]
    _save(cast.sd_filler, province, grassroots_total=1500)
    assert "t1.c83" not in _checks(province)


@pytest.mark.django_db
def test_it_reevaluates_every_submission_when_a_rule_changes(cast, django_capture_on_commit_callbacks):
    sub = cast.submission(cast.jinan_urban, "t3")
    _save(cast.jinan_urban, sub, total_surgeries=100, grade34_surgeries=90)
    assert "t3.c07" not in _checks(sub)
    _, forms = read_catalog("fjzl2019")
    forms = copy.deepcopy(forms)
    t3 = next(f for f in forms if f["code"] == "t3")
    t3["checks"].append({"code": "t3.c99", "severity": "hard", "scope": "form",
                         "expr": "grade34_surgeries * 2 <= total_surgeries", "message": None, "source": "test"})
    with django_capture_on_commit_callbacks(execute=True) as queued:
        changed = task_catalog_update(acting_user=cast.admin, task=cast.task, forms=forms)
    assert changed == ["t3"] and len(queued) == 1
    sub.refresh_from_db()
    assert sub.form_version.definition["checks"][-1]["code"] == "t3.c99"
    assert "t3.c99" in _checks(sub)  # the background job (eager here) stored the new verdict


@pytest.mark.django_db
def test_it_refuses_a_rule_change_that_does_not_compile(cast):
    from engine import CatalogError

    _, forms = read_catalog("fjzl2019")
    forms = copy.deepcopy(forms)
    forms[0]["checks"].append({"code": "bad.c1", "severity": "hard", "scope": "form",
                               "expr": "__import__('os').system('x')", "message": None, "source": ""})
    with pytest.raises(CatalogError):
        task_catalog_update(acting_user=cast.admin, task=cast.task, forms=forms)
    assert cast.task.task_forms.get(form_code=forms[0]["code"]).version.definition["checks"][-1]["code"] != "bad.c1"


def test_it_prints_the_catalog_with_checks_and_indicators(capsys):
    call_command("catalog", "--json")
    data = json.loads(capsys.readouterr().out)
    forms = {f["code"]: f for f in data["forms"]}
    assert set(forms) == {"t1", "t2", "t3", "t3m", "t4", "t4m"}
    field = next(f for f in forms["t1"]["fields"] if f["code"] == "grassroots_total")
    assert field["label"] == "基层医疗卫生机构总数" and field["unit"] == "个" and field["type"] == "count"
    assert all({"code", "label", "severity", "message"} <= set(c) for c in forms["t1"]["checks"])
    assert any(c["kind"] == "of" for c in forms["t1"]["checks"])  # derived 其中 ≤ 合计 checks are listed
    labels = {i["label"] for i in forms["t1"]["indicators"]}
    assert "基层医疗卫生机构建设达标率" in labels


def test_it_evaluates_a_values_file_from_the_command_line(tmp_path, capsys):
    values = tmp_path / "v.json"
    values.write_text(json.dumps({"grassroots_total": 100, "grassroots_standard_total": 120,
                                  "registered_population": "--"}), encoding="utf-8")
    call_command("evaluate", "t1", "--values", str(values))
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"indicators", "violations"}
    hard = [v for v in out["violations"] if v["severity"] == "hard"]
    assert any("120" in v["message"] and "100" in v["message"] for v in hard)
    assert all(set(v) >= {"check", "severity", "message", "fields"} for v in out["violations"])
    rate = next(code for code, _ in out["indicators"].items() if code == "t1.i01")
    assert out["indicators"][rate] == 120.0


def test_it_evaluates_with_a_previous_period_file(tmp_path, capsys):
    values, previous = tmp_path / "v.json", tmp_path / "p.json"
    values.write_text(json.dumps({"grassroots_total": 200}), encoding="utf-8")
    previous.write_text(json.dumps({"grassroots_total": 100}), encoding="utf-8")
    call_command("evaluate", "t1", "--values", str(values), "--previous", str(previous))
    out = json.loads(capsys.readouterr().out)
    assert any(v["severity"] == "soft" and "grassroots_total" in v["fields"] for v in out["violations"])


def test_it_uses_a_peer_median_so_one_wild_value_does_not_hide_another():
    from reporting.catalog_loader import folder_catalog

    t3 = folder_catalog()["t3"]
    outlier_checks = [c for c in t3.all_checks if c.expr is not None and "robust_z" in c.expr.source]
    assert outlier_checks, "表3 has peer outlier checks"
    check = outlier_checks[0]
    field = sorted(check.expr.names)[0]
    peers = [{field: v} for v in (1000, 1050, 980, 1020, 990, 1010, 1_000_000)]
    from engine import evaluate

    result = evaluate(t3, {field: 900_000}, peers=peers)
    assert check.code in {v.check for v in result.violations}
    normal = evaluate(t3, {field: 1005}, peers=peers)
    assert check.code not in {v.check for v in normal.violations}


@pytest.mark.django_db
def test_it_splits_a_reevaluation_into_ranges_that_cover_every_started_submission(cast):
    from indicators.actions import reevaluation_chunks

    started = []
    for user in (cast.jinan_urban, cast.jinan_urban2, cast.qingdao_urban, cast.zy_urban, cast.jinan_county):
        form = "t4" if user == cast.jinan_county else "t3"
        sub = cast.submission(user, form)
        _save(user, sub, total_surgeries=10)
        started.append(sub.pk)
    chunks = reevaluation_chunks(task_id=cast.task.pk, size=2)
    assert len(chunks) == 3
    covered = [pk for pk in sorted(started) if any(lo <= pk <= hi for lo, hi in chunks)]
    assert covered == sorted(started)


@pytest.mark.django_db
def test_it_compares_a_city_only_with_the_cities_of_its_own_province(cast, monkeypatch):
    from accounts.models import User
    from reporting import evaluation as services

    chengdu = User.objects.get(username="510100")
    services._peer_cache.clear()
    sichuan = User.objects.get(username="510000")
    for user, form, visits in ((cast.jinan_filler, "t2", 40_000_000), (chengdu, "t2", 90_000_000),
                               (cast.sd_filler, "t1", 600_000_000), (sichuan, "t1", 800_000_000)):
        _save(user, cast.submission(user, form), total_visits=visits)
    services._peer_cache.clear()
    seen = {}
    real = services.evaluate

    def spy(form, values, **kwargs):
        seen[form.code] = [p.get("total_visits") for p in kwargs["peers"]]
        return real(form, values, **kwargs)

    monkeypatch.setattr(services, "evaluate", spy)
    _save(cast.jinan_filler, cast.submission(cast.jinan_filler, "t2"), grassroots_visits=20_000_000)
    assert seen["t2"] == [40_000_000]  # 济南 among 山东's cities, not with 成都
    _save(cast.sd_filler, cast.submission(cast.sd_filler, "t1"), grassroots_visits=300_000_000)
    assert sorted(seen["t1"]) == [600_000_000, 800_000_000]  # provinces among all provinces


@pytest.mark.django_db
def test_it_keeps_an_answer_of_the_one_type_version_readable_after_the_catalog_changes(
        cast, client, django_capture_on_commit_callbacks):
    from django.urls import reverse

    _, forms = read_catalog("fjzl2019")
    old = copy.deepcopy(forms)
    t3 = next(f for f in old if f["code"] == "t3")  # 表3 as it was: one type and one count
    t3["fields"] = [f for f in t3["fields"] if not f["code"].startswith("alliance_count_")]
    at = next(f for f in t3["fields"] if f["code"] == "alliance_type")
    at.update(optional=False, condition=None)
    t3["checks"] = [c for c in t3["checks"] if "alliance_count_" not in c["expr"]]
    with django_capture_on_commit_callbacks(execute=True):
        task_catalog_update(acting_user=cast.admin, task=cast.task, forms=old)
    sub = cast.submission(cast.jinan_urban, "t3")
    _save(cast.jinan_urban, sub, alliance_type="专科联盟", alliance_count=2)
    old_hash = Submission.objects.get(pk=sub.pk).form_version.content_hash

    with django_capture_on_commit_callbacks(execute=True):
        changed = task_catalog_update(acting_user=cast.admin, task=cast.task, forms=forms)
    assert "t3" in changed
    sub.refresh_from_db()
    assert sub.form_version.content_hash != old_hash  # a new form version, re-evaluated
    assert sub.values["alliance_type"] == "专科联盟"
    assert not [v for v in sub.result["violations"] if "alliance_type" in v["fields"]]
    client.force_login(cast.jinan_reviewer)
    page = client.get(reverse("review:submission", args=[sub.pk])).content.decode()
    assert "三级医院参与形成的医联体的类型" in page and "专科联盟" in page
    # a new submission is not asked for the one-type answer, but for a count per kind
    other = cast.submission(cast.jinan_urban2, "t3")
    _save(cast.jinan_urban2, other, alliance_count=1)
    other.refresh_from_db()
    assert "alliance_type" not in other.result["unfilled"] and "alliance_count_group" in other.result["unfilled"]
