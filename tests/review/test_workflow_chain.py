"""The whole chain as people live it: fill → submit → reject with a field comment → fix → resubmit → approve →
province re-check → withdraw."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reporting.actions import submission_save
from reporting.models import Status, SubmissionSnapshot, Transition
from review import actions
from review.models import FieldComment, Notification

pytestmark = pytest.mark.django_db


def test_it_walks_a_form_through_the_whole_review_chain(cast, fill, client):
    submission = fill(cast.jinan_urban, "t3")
    assert submission.status == Status.DRAFT

    actions.submission_submit(acting_user=cast.jinan_urban, submission_id=submission.pk)
    code = next(f["code"] for f in submission.form_version.definition["fields"] if f["type"] == "count")
    actions.submission_reject(acting_user=cast.jinan_reviewer, submission_id=submission.pk,
                              reason="门急诊人次与上年差异大，请核实。",
                              comments=[{"field": code, "member": "", "text": "请核对此数。"}])
    submission.refresh_from_db()
    assert submission.status == Status.REJECTED

    # The filler sees the reason and the comment on the form.
    client.force_login(cast.jinan_urban)
    page = client.get(reverse("review:submission", args=[submission.pk])).content.decode()
    assert "门急诊人次与上年差异大，请核实。" in page
    assert "请核对此数。" in page

    # Fix: change the commented value (within the checks) and answer the comment.
    old = submission.values[code]
    submission_save(acting_user=cast.jinan_urban, submission_id=submission.pk,
                    changes=[{"field": code, "value": old}], base_revision=submission.revision)
    comment = FieldComment.objects.get(submission=submission)
    actions.field_comment_answer(acting_user=cast.jinan_urban, comment_id=comment.pk, text="已核实，数据无误。")

    outcome = actions.submission_submit(acting_user=cast.jinan_urban, submission_id=submission.pk)
    assert outcome.created and outcome.submission.status == Status.SUBMITTED
    actions.submission_approve(acting_user=cast.jinan_reviewer, submission_id=submission.pk)
    actions.submission_recheck(acting_user=cast.sd_reviewer, submission_id=submission.pk, passed=True)
    submission.refresh_from_db()
    assert submission.status == Status.RECHECKED

    actions.submission_withdraw(acting_user=cast.sd_reviewer, submission_id=submission.pk,
                                reason="发现统计口径错误，撤销复核。")
    submission.refresh_from_db()
    assert submission.status == Status.SUBMITTED

    trail = list(Transition.objects.filter(submission=submission).order_by("at", "id")
                 .values_list("action", "to_status"))
    assert trail == [("start", "draft"), ("submit", "submitted"), ("reject", "rejected"), ("submit", "submitted"),
                     ("approve", "approved"), ("recheck", "rechecked"), ("withdraw", "submitted")]
    assert SubmissionSnapshot.objects.filter(submission=submission).count() == 2
    assert Notification.objects.filter(recipient=cast.jinan_urban, verb="withdrawn").exists()
    comment.refresh_from_db()
    assert comment.answer == "已核实，数据无误。" and comment.resolved


def test_it_lets_the_province_send_a_city_approved_form_back_to_the_filler(cast, fill):
    submission = fill(cast.jinan_county, "t4", state="approved")
    actions.submission_recheck(acting_user=cast.sd_reviewer, submission_id=submission.pk, passed=False,
                               reason="复核发现转诊数据不一致。")
    submission.refresh_from_db()
    assert submission.status == Status.REJECTED
    assert submission.is_editable
    assert Notification.objects.filter(recipient=cast.jinan_county, verb="recheck_rejected").exists()
    assert Notification.objects.filter(recipient=cast.jinan_reviewer, verb="recheck_rejected").exists()


def test_it_refuses_a_recheck_from_the_approving_city(cast, fill):
    submission = fill(cast.jinan_urban, "t3", state="approved")
    with pytest.raises(actions.TransitionError) as e:
        actions.submission_recheck(acting_user=cast.jinan_reviewer, submission_id=submission.pk, passed=True)
    assert "无权" in e.value.message


def test_it_leaves_withdrawing_a_recheck_to_the_level_that_rechecked(cast, fill):
    submission = fill(cast.jinan_urban, "t3", state="rechecked")
    with pytest.raises(actions.TransitionError):
        actions.submission_withdraw(acting_user=cast.jinan_reviewer, submission_id=submission.pk, reason="撤销")
    actions.submission_withdraw(acting_user=cast.sd_reviewer, submission_id=submission.pk, reason="撤销")
    submission.refresh_from_db()
    assert submission.status == Status.SUBMITTED


def test_it_lets_the_approver_withdraw_its_own_approval(cast, fill):
    submission = fill(cast.jinan_urban, "t3", state="approved")
    actions.submission_withdraw(acting_user=cast.jinan_reviewer, submission_id=submission.pk, reason="误点审核通过")
    submission.refresh_from_db()
    assert submission.status == Status.SUBMITTED and submission.approved_at is None
