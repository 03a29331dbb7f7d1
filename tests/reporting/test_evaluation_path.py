"""One evaluation path: the result stored by a save equals the result of the bulk re-evaluation, field for field.

Generated data (seeded random): a chain of tasks, each the previous period of the next, every form of the cast
filled through the actions with random values (numbers, "--", blanks, yes/no, choices), lead forms with member
entries whose values jump by more than 50% from their previous entry, so member checks against the member's own
previous entry (t3m.c16 …) fire.
"""

from __future__ import annotations

import random

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Role, Unit, UnitLevel, User
from reporting import actions, evaluation
from reporting.models import Submission, Task

pytestmark = pytest.mark.django_db

TASKS = 14  # × 15 forms of the cast = 210 submissions


def _value(spec: dict, rng: random.Random, scale: float):
    kind = spec.get("type")
    roll = rng.random()
    if roll < 0.04:
        return "--"
    if roll < 0.07:
        return None
    if kind == "count":
        return int(rng.uniform(0.2, 3.0) * scale)
    if kind == "decimal":
        return round(rng.uniform(0.2, 3.0) * scale / 7, 2)
    if kind == "percent":
        return round(rng.uniform(0, 100), 1)
    if kind == "yesno":
        return rng.random() < 0.6
    if kind == "choice":
        return rng.choice(spec.get("choices") or ["--"])
    return f"文本{rng.randint(1, 99)}"


def _fill(submission: Submission, filler: User, rng: random.Random, definitions: dict) -> None:
    definition = definitions[submission.form_code]
    scale = rng.choice([50, 500, 5000])
    changes = [{"field": f["code"], "value": _value(f, rng, scale)} for f in definition["fields"]]
    sub_code = definition.get("subform")
    if sub_code:
        units = list(Unit.objects.filter(parent=submission.unit, level=UnitLevel.MEMBER).order_by("code"))[:2]
        for unit in units:
            key = f"m-{unit.code}"
            actions.member_add(acting_user=filler, submission_id=submission.pk, key=key, member_unit=unit)
            for f in definitions[sub_code]["fields"]:
                if f["type"] != "text":  # the names stay: they match an entry with its previous entry
                    changes.append({"field": f["code"], "member": key, "value": _value(f, rng, scale)})
    result = actions.submission_save(acting_user=filler, submission_id=submission.pk, changes=changes)
    assert not result.conflicts


def _build(cast) -> list[Task]:
    rng = random.Random(20190831)
    now = timezone.now()
    tasks: list[Task] = [cast.task]
    for i in range(1, TASKS):
        tasks.append(actions.task_create(
            acting_user=None, code=f"eq{i}", name=f"第{i}期", period_start=now.date(), period_end=now.date(),
            window_open=now - timezone.timedelta(days=1), window_close=now + timezone.timedelta(days=20),
            catalog_slug=cast.task.catalog_slug, previous=tasks[-1], is_current=False))
        actions.submissions_ensure(acting_user=None, task=tasks[-1])
    fillers = {u.unit_id: u for u in User.objects.filter(role=Role.FILLER)}
    for task in tasks:
        definitions = {tf.form_code: tf.version.definition for tf in task.task_forms.select_related("version")}
        for s in Submission.objects.filter(task=task).select_related("unit").order_by("-unit__level", "pk"):
            _fill(s, fillers[s.unit_id], rng, definitions)
    return tasks


def test_it_stores_after_a_save_what_the_bulk_re_evaluation_computes(cast, capsys):
    tasks = _build(cast)
    # Every input is in place now: one more save of each submission (a 填写说明) stores its result through the
    # save path, with the peers of this moment.
    evaluation.clear_caches()
    saved: dict[int, dict] = {}
    fillers = {u.unit_id: u for u in User.objects.filter(role=Role.FILLER)}
    for s in Submission.objects.filter(task__in=tasks).order_by("pk"):
        soft = [v for v in s.result.get("violations", []) if v["severity"] == "soft"]
        key = soft[0]["explanation_key"] if soft else "note"
        actions.submission_save(acting_user=fillers[s.unit_id], submission_id=s.pk, changes=[],
                                explanations={key: "经核实，数据属实。"})
        saved[s.pk] = Submission.objects.get(pk=s.pk).result
    assert len(saved) >= 200
    fired = sum(1 for r in saved.values() for v in r.get("violations", []) if v["check"] == "t3m.c16" and v["member"])
    assert fired >= 20, fired  # member entries compared with their own previous entry

    for task in tasks:
        call_command("reevaluate", task=task.code)
    out = capsys.readouterr().out
    assert out.count("0 results changed") == len(tasks), out
    bulk = dict(Submission.objects.filter(task__in=tasks).values_list("pk", "result"))
    differing = [pk for pk in saved if saved[pk] != bulk[pk]]
    assert differing == [], f"{len(differing)} of {len(saved)} differ"

    # Both paths read peers projected to the fields peer functions use (evaluation.peers_of): the verdicts
    # equal those computed with every peer's whole value dict.
    peer_checks = {c.code for form in evaluation.catalog_for_task(tasks[0]) for c in form.checks
                   if c.expr is not None and c.expr.uses_peers}
    assert sum(1 for r in saved.values() for v in r.get("violations", []) if v["check"] in peer_checks) >= 5
    whole = evaluation.peers_of
    evaluation.clear_caches()
    try:
        evaluation.peers_of = lambda task_id, form_code, parent_id=None, form=None: whole(task_id, form_code,
                                                                                          parent_id)
        batch = list(Submission.objects.filter(task__in=tasks).select_related("task").order_by("pk"))
        unprojected = evaluation.evaluate_batch(batch)
    finally:
        evaluation.peers_of = whole
    differing = [pk for pk in saved if unprojected[pk] != saved[pk]]
    assert differing == [], f"{len(differing)} of {len(saved)} differ with whole peer values"


def test_it_reports_how_many_results_the_re_evaluation_changed(cast, capsys):
    s = cast.submission(cast.jinan_urban, "t3")
    actions.submission_save(acting_user=cast.jinan_urban, submission_id=s.pk,
                            changes=[{"field": "open_bed_days", "value": 5}])
    Submission.objects.filter(pk=s.pk).update(result={})  # a stale stored verdict
    call_command("reevaluate", task=cast.task.code)
    assert "evaluated 1 submissions, 1 results changed" in capsys.readouterr().out
    assert Submission.objects.get(pk=s.pk).result["unfilled"]
