"""上报: the gate, the snapshot, double submits and the filing deadline."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from reporting.actions import SaveRefused, submission_save
from reporting.models import Status, Submission, SubmissionSnapshot, Transition
from reporting.workflow import TransitionError
from review import actions

pytestmark = pytest.mark.django_db


def _close_window(cast) -> None:
    type(cast.task).objects.filter(pk=cast.task.pk).update(window_close=timezone.now() - timezone.timedelta(hours=1))


def test_it_refuses_to_submit_a_form_with_a_hard_error_and_lists_it(cast, fill):
    submission = fill(cast.jinan_urban, "t3", state="hard_error")
    with pytest.raises(actions.SubmitRefused) as refused:
        actions.submission_submit(acting_user=cast.jinan_urban, submission_id=submission.pk)
    kinds = {b["kind"] for b in refused.value.blocking}
    assert "hard" in kinds
    assert all(b["message"] for b in refused.value.blocking)
    submission.refresh_from_db()
    assert submission.status == Status.DRAFT
    assert not SubmissionSnapshot.objects.filter(submission=submission).exists()


def test_it_blocks_an_unexplained_soft_warning_until_the_filler_explains_it(cast, fill):
    submission = fill(cast.jinan_county, "t4", state="soft_warning")
    with pytest.raises(actions.SubmitRefused) as refused:
        actions.submission_submit(acting_user=cast.jinan_county, submission_id=submission.pk)
    soft = [b for b in refused.value.blocking if b["kind"] == "soft"]
    assert soft and not [b for b in refused.value.blocking if b["kind"] == "hard"]
    submission_save(acting_user=cast.jinan_county, submission_id=submission.pk, changes=[],
                    explanations={soft[0]["explanation_key"]: "本年度新增床位，数据属实。"})
    outcome = actions.submission_submit(acting_user=cast.jinan_county, submission_id=submission.pk)
    assert outcome.submission.status == Status.SUBMITTED
    assert outcome.snapshot.explanations[soft[0]["explanation_key"]] == "本年度新增床位，数据属实。"


def test_it_refuses_a_form_with_unfilled_required_fields(cast, fill):
    submission = fill(cast.jinan_urban, "t3")
    code = next(f["code"] for f in submission.form_version.definition["fields"]
                if not f.get("optional") and not f.get("condition") and f["type"] == "count")
    submission_save(acting_user=cast.jinan_urban, submission_id=submission.pk, changes=[{"field": code, "value": ""}])
    with pytest.raises(actions.SubmitRefused) as refused:
        actions.submission_submit(acting_user=cast.jinan_urban, submission_id=submission.pk)
    assert any(b["kind"] == "unfilled" and code in b["fields"] for b in refused.value.blocking)


def test_it_snapshots_values_members_explanations_and_the_engine_result(cast, fill):
    submission = fill(cast.jinan_urban, "t3")
    outcome = actions.submission_submit(acting_user=cast.jinan_urban, submission_id=submission.pk)
    snapshot = outcome.snapshot
    assert snapshot.values == submission.values
    assert snapshot.revision == submission.revision
    assert len(snapshot.members) == submission.members.count() > 0
    assert {m["key"] for m in snapshot.members} == set(submission.members.values_list("key", flat=True))
    assert "indicators" in snapshot.result and snapshot.result["violations"] == []
    assert snapshot.created_by == cast.jinan_urban


def test_it_makes_one_submission_of_a_double_click(cast, fill, client):
    submission = fill(cast.jinan_urban, "t3")
    first = actions.submission_submit(acting_user=cast.jinan_urban, submission_id=submission.pk)
    second = actions.submission_submit(acting_user=cast.jinan_urban, submission_id=submission.pk)
    assert first.created and not second.created
    assert second.snapshot.pk == first.snapshot.pk
    client.force_login(cast.jinan_urban)
    response = client.post(reverse("review:submit", args=[submission.pk]), follow=True)
    assert "无需重复上报" in response.content.decode()
    assert SubmissionSnapshot.objects.filter(submission=submission).count() == 1
    assert Transition.objects.filter(submission=submission, action="submit").count() == 1


def test_it_refuses_submission_from_anyone_but_the_units_filler(cast, fill):
    submission = fill(cast.jinan_urban, "t3")
    for user in (cast.jinan_urban2, cast.jinan_reviewer, cast.jinan_filler):
        with pytest.raises(TransitionError):
            actions.submission_submit(acting_user=user, submission_id=submission.pk)


def test_it_locks_saving_and_submitting_after_the_deadline(cast, fill, client):
    submission = fill(cast.jinan_urban, "t3")
    _close_window(cast)
    with pytest.raises(TransitionError) as e:
        actions.submission_submit(acting_user=cast.jinan_urban, submission_id=submission.pk)
    assert e.value.code == "deadline" and "截止" in e.value.message
    with pytest.raises(SaveRefused):
        submission_save(acting_user=cast.jinan_urban, submission_id=submission.pk,
                        changes=[{"field": "hospital_name", "value": "改名"}])
    client.force_login(cast.jinan_urban)
    page = client.get(reverse("review:submission", args=[submission.pk])).content.decode()
    assert "已过填报截止时间" in page


def test_it_lets_the_supervisor_reopen_one_unit_with_a_new_deadline(cast, fill):
    submission = fill(cast.jinan_urban, "t3")
    other = fill(cast.jinan_urban2, "t3")
    _close_window(cast)
    new_deadline = timezone.now() + timezone.timedelta(days=3)
    actions.submission_reopen(acting_user=cast.jinan_reviewer, submission_id=submission.pk, deadline=new_deadline,
                              reason="医院信息系统故障，延期三天。")
    outcome = actions.submission_submit(acting_user=cast.jinan_urban, submission_id=submission.pk)
    assert outcome.submission.status == Status.SUBMITTED
    reopen = Transition.objects.get(submission=submission, action="reopen")
    assert reopen.actor == cast.jinan_reviewer and reopen.reason == "医院信息系统故障，延期三天。"
    assert reopen.data["deadline"] == new_deadline.isoformat()
    # The sibling stays locked.
    with pytest.raises(TransitionError):
        actions.submission_submit(acting_user=cast.jinan_urban2, submission_id=other.pk)


@pytest.mark.parametrize("who", ["jinan_urban", "qingdao_reviewer", "jinan_urban2"])
def test_it_refuses_a_reopen_from_anyone_but_a_supervisor(cast, fill, who):
    submission = fill(cast.jinan_urban, "t3")
    with pytest.raises(TransitionError):
        actions.submission_reopen(acting_user=getattr(cast, who), submission_id=submission.pk,
                                  deadline=timezone.now() + timezone.timedelta(days=1), reason="延期")


def test_it_wants_a_reason_and_a_future_deadline_to_reopen(cast, fill):
    submission = fill(cast.jinan_urban, "t3")
    with pytest.raises(TransitionError):
        actions.submission_reopen(acting_user=cast.jinan_reviewer, submission_id=submission.pk,
                                  deadline=timezone.now() + timezone.timedelta(days=1), reason=" ")
    with pytest.raises(TransitionError):
        actions.submission_reopen(acting_user=cast.jinan_reviewer, submission_id=submission.pk,
                                  deadline=timezone.now() - timezone.timedelta(days=1), reason="延期")
    assert not Transition.objects.filter(submission=submission, action="reopen").exists()


def test_it_reopens_through_the_page(cast, fill, client):
    submission = fill(cast.jinan_urban, "t3")
    _close_window(cast)
    client.force_login(cast.jinan_reviewer)
    deadline = timezone.localtime(timezone.now() + timezone.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    client.post(reverse("review:act", args=[submission.pk]),
                {"action": "reopen", "deadline": deadline, "reason": "系统故障"})
    submission = Submission.objects.get(pk=submission.pk)
    assert submission.deadline_override is not None and submission.window_is_open()


def test_the_submit_box_lists_what_blocks_submission(cast, fill, client):
    submission = fill(cast.jinan_urban, "t3", state="hard_error")
    client.force_login(cast.jinan_urban)
    page = client.get(reverse("review:submission", args=[submission.pk])).content.decode()
    assert "处理后才能上报" in page
    message = submission.result["violations"][0]["message"]
    assert message in page
