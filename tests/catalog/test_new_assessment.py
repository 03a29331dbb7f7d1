"""A new assessment is a data change, not a code change.

reporting/catalogs/jmx2023/ transcribes 紧密型城市医疗集团建设评判标准 and the quantified requirements of the
试点工作方案 (seed 004) into one form, g1, filled by the lead hospital of every urban medical group. Nothing in
the platform knows about it: the engine validates it, a task is created from it, every urban alliance gets its
submission, values saved through the action layer are evaluated against its checks and indicators, and the
catalog command prints it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.demo import build_hierarchy
from accounts.models import Unit, UnitLevel, User
from engine import load_catalog_dir
from reporting import actions
from reporting.catalog_loader import CATALOG_ROOT
from reporting.models import Status, Submission, Task

SLUG = "jmx2023"
FOLDER = CATALOG_ROOT / SLUG
SEED = Path(__file__).resolve().parents[2].parent / "shared" / "seeds" / "004_8421584b43e0bc07.txt"
# Number inputs the document names only as a requirement ("至少1/3的门诊号源…"): their labels say what is
# counted, and their help quotes the document. Every other label is the document's own wording.
ADAPTED = {
    "grid_tertiary_general_hospitals",
    "member_units",
    "member_secondary_general",
    "member_continuing_care",
    "collaborating_units",
    "lead_outpatient_slots",
    "lead_outpatient_slots_sunk",
    "lead_beds",
    "lead_beds_sunk",
}

# A complete, compliant answer: every yes/no criterion met, 120 of 300 slots and 200 of 800 beds sunk.
COMPLIANT = {
    "grid_tertiary_general_hospitals": "2",
    "member_units": "6",
    "member_secondary_general": "2",
    "member_continuing_care": "1",
    "collaborating_units": "3",
    "lead_outpatient_slots": "300",
    "lead_outpatient_slots_sunk": "120",
    "lead_beds": "800",
    "lead_beds_sunk": "200",
}


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _definition() -> dict:
    return json.loads((FOLDER / "g1.json").read_text(encoding="utf-8"))


def _compliant_changes(definition: dict) -> list[dict]:
    changes = []
    for f in definition["fields"]:
        if f["type"] == "yesno":
            changes.append({"field": f["code"], "value": "是"})
        elif f["type"] == "text":
            changes.append({"field": f["code"], "value": f"（{f['label']}的说明）"})
        else:
            changes.append({"field": f["code"], "value": COMPLIANT[f["code"]]})
    return changes


@pytest.fixture
def task(db) -> Task:
    build_hierarchy("Some#pass-123")
    now = timezone.now()
    return actions.task_create(
        acting_user=None, code="jmx2023", name="2023年紧密型城市医疗集团建设评判",
        period_start=now.date().replace(year=2023, month=1, day=1),
        period_end=now.date().replace(year=2023, month=12, day=31),
        window_open=now - timezone.timedelta(days=1), window_close=now + timezone.timedelta(days=20),
        catalog_slug=SLUG,
    )


def _g1(task: Task, unit_code: str) -> Submission:
    return Submission.objects.get(task=task, unit__code=unit_code, form_code="g1")


# --- the catalog folder ---------------------------------------------------------------------------------------

def test_it_validates_the_new_catalog_folder_with_the_engine():
    catalog = load_catalog_dir(FOLDER)
    assert (catalog.slug, catalog.name) == (SLUG, "2023年紧密型城市医疗集团建设评判")
    assert [f.code for f in catalog] == ["g1"]
    g1 = catalog["g1"]
    assert g1.title == "紧密型城市医疗集团建设评判标准"
    assert g1.unit_level == UnitLevel.URBAN_ALLIANCE and g1.subform is None
    assert len(g1.fields) == 58 and len(g1.checks) == 6 and len(g1.indicators) == 3
    # the "其中" parts got their derived hard checks without the catalog repeating them
    assert {c.code for c in g1.derived_checks if c.kind == "of"} == {
        "g1.of.member_secondary_general", "g1.of.member_continuing_care",
        "g1.of.lead_outpatient_slots_sunk", "g1.of.lead_beds_sunk"}
    targets = {i.code: (i.target.op, i.target.value) for i in g1.indicators}
    assert targets == {"g1.i01": (">=", 1), "g1.i02": (">=", 33.3333), "g1.i03": (">=", 25)}


def test_it_words_every_criterion_as_the_document_in_document_order():
    if not SEED.exists():
        pytest.skip(f"seed document not found at {SEED}")
    document = _norm(SEED.read_text(encoding="utf-8"))
    cursor = 0
    for f in _definition()["fields"]:
        for heading in f["section"]:
            assert _norm(heading) in document, heading
        if f["code"] in ADAPTED:
            assert f["help"], f["code"]
            continue
        found = document.find(_norm(f["label"]), cursor)
        assert found >= 0, f"“{f['label']}” is not in the document after the previous field"
        cursor = found


def test_it_types_criteria_as_yes_no_and_quantities_as_counts():
    fields = {f["code"]: f for f in _definition()["fields"]}
    assert fields["management_committee"]["type"] == "yesno"
    assert fields["management_committee"]["section"] == [
        "紧密型城市医疗集团建设评判标准", "政府部门和紧密型城市医疗集团共同完善治理机制"]
    assert fields["lead_beds_sunk"]["section"][-1] == "1.推动优质医疗资源下沉"
    assert (fields["lead_beds_sunk"]["type"], fields["lead_beds_sunk"]["unit"]) == ("count", "张")
    assert fields["lead_beds_sunk"]["of"] == "lead_beds"
    # "鼓励 / 可探索" items are optional; a description is asked for only when the answer is yes
    assert fields["subsidy_innovation"]["optional"] and fields["legal_entity"]["optional"]
    assert fields["subsidy_innovation_description"]["condition"] == "subsidy_innovation == true"


# --- the platform handles it with no code change --------------------------------------------------------------

def test_it_gives_every_urban_alliance_a_g1_submission(task):
    created = actions.submissions_ensure(acting_user=None, task=task)
    alliances = set(Unit.objects.filter(level=UnitLevel.URBAN_ALLIANCE).values_list("code", flat=True))
    submissions = Submission.objects.filter(task=task)
    assert alliances and created == len(alliances)
    assert set(submissions.values_list("unit__code", flat=True)) == alliances
    assert set(submissions.values_list("form_code", flat=True)) == {"g1"}
    assert all(s.status == Status.NOT_STARTED for s in submissions)
    assert actions.submissions_ensure(acting_user=None, task=task) == 0


def test_it_stores_the_indicators_of_a_compliant_lead_hospital(task):
    actions.submissions_ensure(acting_user=None, task=task)
    submission = _g1(task, "3701001")
    saved = actions.submission_save(acting_user=User.objects.get(username="3701001"), submission_id=submission.pk,
                                    changes=_compliant_changes(_definition()))
    assert not saved.errors
    submission.refresh_from_db()
    assert submission.status == Status.DRAFT
    result = submission.result
    assert result["indicators"] == {"g1.i01": 2.0, "g1.i02": 40.0, "g1.i03": 25.0}
    assert result["attainment"] == {"g1.i01": True, "g1.i02": True, "g1.i03": True}
    assert result["violations"] == [] and result["unfilled"] == [] and not result["blocking"]
    # the sibling alliance of the same city is untouched
    assert _g1(task, "3701001-2").status == Status.NOT_STARTED


def test_it_records_hard_violations_and_missed_targets(task):
    actions.submissions_ensure(acting_user=None, task=task)
    submission = _g1(task, "3702001")
    changes = [c for c in _compliant_changes(_definition())
               if c["field"] not in ("lead_outpatient_slots_sunk", "lead_beds_sunk", "grid_tertiary_general_hospitals")]
    changes += [
        {"field": "lead_outpatient_slots_sunk", "value": "60"},  # 20 % < 1/3
        {"field": "lead_beds_sunk", "value": "900"},  # more beds sunk than the hospital has
        {"field": "grid_tertiary_general_hospitals", "value": "0"},  # but the lead is such a hospital
    ]
    actions.submission_save(acting_user=User.objects.get(username="3702001"), submission_id=submission.pk,
                            changes=changes)
    submission.refresh_from_db()
    result = submission.result
    assert result["indicators"] == {"g1.i01": 0.0, "g1.i02": 20.0, "g1.i03": 112.5}
    assert result["attainment"] == {"g1.i01": False, "g1.i02": False, "g1.i03": True}
    by_check = {v["check"]: v for v in result["violations"]}
    assert by_check["g1.of.lead_beds_sunk"]["severity"] == "hard"
    assert by_check["g1.of.lead_beds_sunk"]["fields"] == ["lead_beds_sunk", "lead_beds"]
    assert "900" in by_check["g1.of.lead_beds_sunk"]["message"]
    assert by_check["g1.c01"]["severity"] == "hard"
    assert by_check["g1.c05"]["severity"] == "soft"  # all beds sunk: implausible
    assert result["blocking"]

    # correcting the value clears the hard violation and recomputes the rate
    actions.submission_save(acting_user=User.objects.get(username="3702001"), submission_id=submission.pk,
                            changes=[{"field": "lead_beds_sunk", "value": "160"},
                                     {"field": "grid_tertiary_general_hospitals", "value": "1"}])
    submission.refresh_from_db()
    assert submission.result["indicators"]["g1.i03"] == 20.0
    assert submission.result["attainment"]["g1.i03"] is False
    assert submission.result["violations"] == []


def test_it_runs_beside_the_2019_assessment(cast):
    now = timezone.now()
    task = actions.task_create(
        acting_user=None, code="jmx2023", name="2023年紧密型城市医疗集团建设评判",
        period_start=now.date().replace(year=2023, month=1, day=1),
        period_end=now.date().replace(year=2023, month=12, day=31),
        window_open=now - timezone.timedelta(days=1), window_close=now + timezone.timedelta(days=20),
        catalog_slug=SLUG,
    )
    actions.submissions_ensure(acting_user=None, task=task)
    assert set(Submission.objects.filter(task=task).values_list("form_code", flat=True)) == {"g1"}
    before = set(Submission.objects.filter(task=cast.task).values_list("unit__code", "form_code"))
    assert {f for _, f in before} == {"t1", "t2", "t3", "t4"}
    actions.submission_save(acting_user=cast.jinan_urban, submission_id=_g1(task, "3701001").pk,
                            changes=[{"field": "lead_beds", "value": "1000"},
                                     {"field": "lead_beds_sunk", "value": "300"}])
    assert _g1(task, "3701001").result["indicators"]["g1.i03"] == 30.0
    # the 2019 task keeps its own forms and its lead hospital's 表3 is not started by the 2023 save
    assert set(Submission.objects.filter(task=cast.task).values_list("unit__code", "form_code")) == before
    assert cast.submission(cast.jinan_urban, "t3").status == Status.NOT_STARTED


def test_it_prints_the_new_catalog_with_the_catalog_command(capsys):
    call_command("catalog", "--json", "--catalog", SLUG)
    printed = json.loads(capsys.readouterr().out)
    assert (printed["slug"], printed["name"]) == (SLUG, "2023年紧密型城市医疗集团建设评判")
    (form,) = printed["forms"]
    assert form["code"] == "g1" and form["unit_level"] == "urban_alliance"
    assert len(form["fields"]) == 58 and len(form["indicators"]) == 3
    checks = {c["code"]: c for c in form["checks"]}
    assert checks["g1.c01"]["kind"] == "expr" and checks["g1.of.lead_beds_sunk"]["kind"] == "of"
