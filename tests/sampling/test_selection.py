"""抽检 selection: reproducible (seed, parameters, reasons stored), each risk reason picks the unit built for it,
a stratified random part, only approved forms, preview before commit."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Unit
from indicators.actions import task_reevaluate
from reporting import actions as reporting_actions
from reporting.actions import submission_save
from reporting.models import Submission, Task
from sampling.actions import batch_create, batch_preview
from sampling.models import Batch, Sample
from sampling.selection import Params, SelectionError
from tests import filling as demo

from .conftest import filler_of, free_field

pytestmark = pytest.mark.django_db

T3 = ["3701001", "3701001-2", "3702001", "5101001", "5120001"]
T4 = ["3701002", "3702002", "5101002", "5120002"]


def _nation() -> Unit:
    return Unit.objects.get(code="100000")


def _by_unit(picks) -> dict[tuple[str, str], list[str]]:
    return {(p.unit_code, p.form): [r["kind"] for r in p.reasons] for p in picks}


def test_it_draws_the_same_sample_for_the_same_seed_and_another_random_part_for_another(cast, approved):
    for code in T3:
        approved(code, "t3", rejections=2 if code == "3702001" else 0)
    for code in T4:
        approved(code, "t4")
    params = dict(size=4, random_share=0.5, min_rejections=2, indicators=["none"])
    first = batch_preview(acting_user=cast.analyst, task=cast.task, scope=_nation(), params=Params(seed=7, **params))
    again = batch_preview(acting_user=cast.analyst, task=cast.task, scope=_nation(), params=Params(seed=7, **params))
    assert [p.as_json() for p in first] == [p.as_json() for p in again]
    assert len(first) == 4
    risk = [(p.unit_code, p.form) for p in first if p.part == "risk"]
    assert ("3702001", "t3") in risk
    random_part = {(p.unit_code, p.form) for p in first if p.part == "random"}
    other_random = None
    for seed in range(8, 40):
        other = batch_preview(acting_user=cast.analyst, task=cast.task, scope=_nation(),
                              params=Params(seed=seed, **params))
        assert [(p.unit_code, p.form) for p in other if p.part == "risk"] == risk
        candidate = {(p.unit_code, p.form) for p in other if p.part == "random"}
        if candidate != random_part:
            other_random = candidate
            break
    assert other_random is not None, "no other seed changed the random part"
    # quotas per province: both provinces are drawn from (8 candidates, 4+4 per province → 2 slots split 1/1)
    provinces = {Unit.objects.get(code=p.unit_code).path.split("/")[2] for p in first if p.part == "random"}
    assert provinces == {"370000", "510000"}


def test_it_stores_seed_parameters_and_reasons_and_the_command_prints_the_same(cast, approved, capsys):
    for code in T3:
        approved(code, "t3", rejections=2 if code == "5101001" else 0)
    out, done = [], []
    for commit in (False, True):
        call_command("sample", "--task", cast.task.code, "--size", "3", "--seed", "11", "--random-share", "0.3",
                     "--json", *(["--commit"] if commit else []))
        captured = capsys.readouterr()
        out.append(json.loads(captured.out))
        done.append(json.loads(captured.err))
    preview, committed = out
    assert done[0]["batch"] is None and done[1]["batch"] and done[1]["seed"] == 11
    assert [(r["unit_code"], r["form"], r["reasons"]) for r in preview] == \
        [(r["unit_code"], r["form"], r["reasons"]) for r in committed]
    assert {"unit_code", "form", "reasons"} <= set(preview[0])
    batch = Batch.objects.get(pk=done[1]["batch"])
    assert batch.seed == 11 and batch.params["size"] == 3 and batch.params["random_share"] == 0.3
    stored = [(s.unit.code, s.submission.form_code, s.reasons) for s in batch.samples.select_related("unit",
                                                                                                   "submission")]
    assert stored == [(r["unit_code"], r["form"], r["reasons"]) for r in committed]
    rejected = next(s for s in batch.samples.all() if s.unit.code == "5101001")
    assert rejected.part == "risk" and "被驳回2次" in rejected.reasons[0]["text"]
    assert rejected.values_at_sampling["values"] == Submission.objects.get(pk=rejected.submission_id).values


def test_it_samples_only_approved_forms_within_the_province(cast, approved, fill_draft):
    approved("3701001", "t3")
    approved("5101001", "t3")
    fill_draft("3702001", "t3")
    sd = Unit.objects.get(code="370000")
    picks = batch_preview(acting_user=cast.sd_reviewer, task=cast.task, scope=sd,
                          params=Params(size=10, seed=1, random_share=1))
    assert {p.unit_code for p in picks} == {"3701001"}
    with pytest.raises(SelectionError):
        batch_preview(acting_user=cast.sd_reviewer, task=cast.task, scope=_nation(), params=Params(size=1, seed=1))
    with pytest.raises(SelectionError):
        batch_preview(acting_user=cast.jinan_reviewer, task=cast.task, scope=sd, params=Params(size=1, seed=1))
    assert not Batch.objects.exists()


def test_it_picks_the_outlier_the_short_and_the_shared_explanations_and_the_rejections(cast, approved):
    base = demo.fill_form(cast.submission("3701001", "t3"))
    field = free_field(base)
    shared = "经核对，该数据与本院年度统计报表一致，确认无误。"
    for code in T3:
        changes = {field: base.values[field] * 1000 + 12345} if code == "3702001" else None
        explanation = "属实" if code == "5101001" else None
        approved(code, "t3", changes=changes, explanation=explanation, soft=code == "5101001",
                 rejections=2 if code == "5120001" else 0)
    for code in T4[:3]:
        approved(code, "t4", soft=True, explanation=shared)
    picks = batch_preview(acting_user=cast.analyst, task=cast.task, scope=_nation(),
                          params=Params(size=9, seed=3, random_share=0, indicators=[field]))
    kinds = _by_unit(picks)
    assert "outlier" in kinds[("3702001", "t3")]
    outlier = next(r for p in picks if p.unit_code == "3702001" for r in p.reasons if r["kind"] == "outlier")
    assert "稳健Z值" in outlier["text"] and abs(outlier["z"]) > 3.5
    assert "explanation" in kinds[("5101001", "t3")]
    assert any("少于10字" in r["text"] for p in picks if p.unit_code == "5101001" for r in p.reasons)
    for code in T4[:3]:
        texts = [r["text"] for p in picks if p.unit_code == code for r in p.reasons]
        assert any("雷同" in t for t in texts), texts
    assert "rejections" in kinds[("5120001", "t3")]
    risky = {(p.unit_code, p.form) for p in picks if p.part == "risk"}
    assert ("3701001-2", "t3") not in risky  # a clean, once-approved form is no risk


def test_it_picks_a_large_change_against_the_previous_period(cast, approved):
    now = timezone.now()
    previous = reporting_actions.task_create(
        acting_user=None, code="t2018", name="2018年分级诊疗第三方评估",
        period_start=now.date().replace(year=2018, month=1, day=1),
        period_end=now.date().replace(year=2018, month=6, day=30), window_open=now - timezone.timedelta(days=2),
        window_close=now + timezone.timedelta(days=2), catalog_slug=cast.task.catalog_slug, is_current=False)
    reporting_actions.submissions_ensure(acting_user=None, task=previous)
    Task.objects.filter(pk=cast.task.pk).update(previous=previous)  # no action links a running task backwards
    cast.task.refresh_from_db()
    old = demo.fill_form(Submission.objects.get(task=previous, unit__code="3701001-2", form_code="t3"),
                         state=demo.APPROVED)
    current = demo.fill_form(cast.submission("3701001-2", "t3"))
    field = free_field(current)
    approved("3701001-2", "t3", changes={field: old.values[field] * 3 + 10})
    picks = batch_preview(acting_user=cast.analyst, task=cast.task, scope=_nation(),
                          params=Params(size=3, seed=1, random_share=0, change_min_base=0))
    change = next(r for p in picks if p.unit_code == "3701001-2" for r in p.reasons if r["kind"] == "change")
    assert field in change["fields"] and "与上期相比变化超过50%" in change["text"]
    # a previous value below the base threshold is no signal
    small = batch_preview(acting_user=cast.analyst, task=cast.task, scope=_nation(),
                          params=Params(size=3, seed=1, random_share=0, change_min_base=old.values[field] + 1))
    assert not any(field in r.get("fields", []) for p in small for r in p.reasons if r["kind"] == "change")


def test_it_picks_hard_violations_of_an_approved_form_after_re_evaluation(cast, approved):
    province = approved("370000", "t1")
    assert not [v for v in province.result.get("violations", []) if v["severity"] == "hard"]
    city = demo.fill_form(cast.submission("370100", "t2"))
    submission_save(acting_user=filler_of(city), submission_id=city.pk,
                    changes=[{"field": "registered_population",
                              "value": province.values["registered_population"] * 10}])
    task_reevaluate(acting_user=None, task_id=cast.task.pk)
    picks = batch_preview(acting_user=cast.analyst, task=cast.task, scope=_nation(),
                          params=Params(size=2, seed=1, random_share=0, forms=["t1"]))
    hard = next(r for p in picks if p.unit_code == "370000" for r in p.reasons if r["kind"] == "hard")
    assert "审核错误" in hard["text"]


def test_it_commits_a_batch_only_through_the_action_and_refuses_an_empty_one(cast, approved):
    with pytest.raises(SelectionError):
        batch_create(acting_user=cast.analyst, task=cast.task, scope=_nation(), params=Params(size=2, seed=1))
    approved("3701001", "t3")
    batch = batch_create(acting_user=cast.analyst, task=cast.task, scope=_nation(), params=Params(size=2, seed=1))
    assert Sample.objects.filter(batch=batch).count() == 1


def test_it_samples_one_province_from_the_command_line_and_refuses_unknown_codes(cast, approved, capsys):
    from django.core.management.base import CommandError

    for code in ("3701001", "3702001", "5101001"):
        approved(code, "t3")
    call_command("sample", "--task", cast.task.code, "--province", "370000", "--size", "5", "--seed", "1",
                 "--json")
    rows = json.loads(capsys.readouterr().out)
    assert {r["unit_code"] for r in rows} == {"3701001", "3702001"}
    assert all(r["form"] == "t3" and r["reasons"] for r in rows)
    with pytest.raises(CommandError, match="任务不存在"):
        call_command("sample", "--task", "nope", "--size", "1", "--seed", "1", "--json")
    with pytest.raises(CommandError, match="省级单位不存在"):
        call_command("sample", "--task", cast.task.code, "--province", "370100", "--size", "1", "--seed", "1")
    assert not Batch.objects.exists()
