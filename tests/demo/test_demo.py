"""The demo: every state laid out through the real actions, the previous period approved, idempotent."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from demo.states import STATE_PLAN
from reporting.models import Status, Submission, SubmissionSnapshot, Transition, ValueChange
from review.models import FieldComment, Notification

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (Transition.objects.count(), SubmissionSnapshot.objects.count(), ValueChange.objects.count(),
            Notification.objects.count(), FieldComment.objects.count(), Submission.objects.count())


def test_it_seeds_every_state_through_the_actions_and_twice_changes_nothing(capsys):
    call_command("seed_demo", password="Demo#2019-test")
    current = Submission.objects.filter(task__code="fjzl2019")
    states = {(s.form_code, s.unit.code): s for s in current.select_related("unit")}
    by_form = {}
    for (form, _code), s in sorted(states.items()):
        by_form.setdefault(form, []).append(s)
    for form, plan in STATE_PLAN.items():
        for s, state in zip(by_form[form], plan, strict=False):
            result = s.result or {}
            hard = [v for v in result.get("violations", []) if v["severity"] == "hard"]
            soft = [v for v in result.get("violations", []) if v["severity"] == "soft" and not v.get("explained")]
            if state == "not_started":
                assert s.status == Status.NOT_STARTED
            elif state == "clean_draft":
                assert s.status == Status.DRAFT and not hard and not soft and not result.get("unfilled")
            elif state == "hard_error":
                assert s.status == Status.DRAFT and hard
            elif state == "soft_warning":
                assert s.status == Status.DRAFT and soft and not hard
            else:
                assert s.status == state, (form, s.unit.code)
    rejected = current.filter(status=Status.REJECTED)
    assert rejected.exists()
    for s in rejected:
        assert s.transitions.filter(action="reject").exclude(reason="").exists()
        assert s.field_comments.exists()
    assert current.filter(status=Status.RECHECKED).exists()
    assert set(Submission.objects.filter(task__code="fjzl2018").values_list("status", flat=True)) == {Status.APPROVED}
    # The current values grew from last year's, so previous-period comparisons show.
    growing = current.exclude(status=Status.NOT_STARTED).first()
    last_year = Submission.objects.get(task__code="fjzl2018", unit=growing.unit, form_code=growing.form_code)
    assert set(growing.values) == set(last_year.values)

    before = _counts()
    call_command("seed_demo", password="Demo#2019-test")
    assert _counts() == before
