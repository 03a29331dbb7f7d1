"""Sampling tests: approved forms laid out through the real actions (save, submit, reject, approve)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from accounts.models import Role, User
from reporting.actions import submission_save
from reporting.models import Submission
from reporting.workflow import approver_level
from review import actions as review_actions
from tests import filling as demo
from tests.cast import Cast


def filler_of(submission: Submission) -> User:
    return User.objects.filter(unit_id=submission.unit_id, role=Role.FILLER).order_by("pk").first()


def approver_of(submission: Submission) -> User:
    return demo._reviewer_at(submission.unit, approver_level(submission))


def explain_all(submission: Submission, text: str | None = None) -> Submission:
    """Give every soft violation (explained or not) an explanation: by default a long text of this unit's own."""
    keys = {v.get("explanation_key") or v["check"] for v in (submission.result or {}).get("violations", [])
            if v.get("severity") == "soft"}
    keys |= set(submission.explanations or {})
    if keys:
        own = text or f"{submission.unit.code}已对照本院统计台账和信息系统逐项核对，数据属实。"
        submission_save(acting_user=filler_of(submission), submission_id=submission.pk, changes=[],
                        explanations={k: own for k in keys})
    return Submission.objects.select_related("unit", "task", "form_version").get(pk=submission.pk)


def free_field(submission: Submission) -> str:
    """A count field no check or "其中" relation names (changing it keeps the form free of hard errors)."""
    definition = submission.form_version.definition
    named = set()
    for check in definition.get("checks", []):
        named |= set(re.findall(r"[a-z][a-z0-9_]*", check["expr"]))
    for ind in definition.get("indicators", []):
        named |= set(re.findall(r"[a-z][a-z0-9_]*", ind["expr"]))
    parts = {f["code"] for f in definition["fields"] if f.get("of")} | {
        f["of"] for f in definition["fields"] if f.get("of")}
    return next(f["code"] for f in definition["fields"]
                if f["type"] == "count" and not f.get("condition") and f["code"] not in named | parts
                and f["code"] in submission.values)


@pytest.fixture
def approved(cast: Cast) -> Callable[..., Submission]:
    """approved(unit_code, form, changes={}, explanation=None, rejections=0, soft=False) -> an approved submission
    (soft=True: laid out with a soft warning, explained with `explanation`)."""

    def _approved(code: str, form: str, changes: dict | None = None, explanation: str | None = None,
                  rejections: int = 0, soft: bool = False) -> Submission:
        submission = demo.fill_form(cast.submission(code, form), state=demo.SOFT_WARNING if soft else demo.CLEAN_DRAFT)
        filler = filler_of(submission)
        if changes:
            submission_save(acting_user=filler, submission_id=submission.pk,
                            changes=[{"field": k, "value": v} for k, v in changes.items()])
            submission = Submission.objects.get(pk=submission.pk)
        submission = explain_all(submission, explanation)
        approver = approver_of(submission)
        for _ in range(rejections):
            review_actions.submission_submit(acting_user=filler, submission_id=submission.pk)
            review_actions.submission_reject(acting_user=approver, submission_id=submission.pk,
                                             reason="数据需核实。")
        review_actions.submission_submit(acting_user=filler, submission_id=submission.pk)
        review_actions.submission_approve(acting_user=approver, submission_id=submission.pk)
        return Submission.objects.select_related("unit", "task", "form_version").get(pk=submission.pk)

    return _approved



@pytest.fixture
def fill_draft(cast: Cast) -> Callable[..., Submission]:
    def _fill(code: str, form: str) -> Submission:
        return demo.fill_form(cast.submission(code, form))

    return _fill
