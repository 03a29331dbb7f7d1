"""Who hears about what: a submission reaches the approving reviewers of the supervising unit; decisions reach
the unit's fillers; the list marks read."""

from __future__ import annotations

import pytest
from django.urls import reverse

from review import actions
from review.models import Notification

pytestmark = pytest.mark.django_db


def _recipients(verb: str) -> set[str]:
    return set(Notification.objects.filter(verb=verb).values_list("recipient__username", flat=True))


def test_it_tells_the_approving_city_reviewers_about_a_submitted_alliance_form(cast, fill):
    fill(cast.jinan_urban, "t3", state="submitted")
    assert _recipients("submitted") == {"370100-sh"}
    text = Notification.objects.get(verb="submitted").text
    assert "山东第一医科大学第一附属医院医疗集团" in text and "表3" in text


def test_it_tells_the_province_about_a_submitted_city_form(cast, fill):
    fill(cast.jinan_filler, "t2", state="submitted")
    assert _recipients("submitted") == {"370000-sh"}


def test_it_tells_the_units_fillers_about_decisions(cast, fill):
    submission = fill(cast.jinan_urban, "t3", state="submitted")
    actions.submission_reject(acting_user=cast.jinan_reviewer, submission_id=submission.pk, reason="请核实")
    assert _recipients("rejected") == {"3701001"}
    assert "请核实" in Notification.objects.get(verb="rejected").text
    actions.submission_submit(acting_user=cast.jinan_urban, submission_id=submission.pk)
    actions.submission_approve(acting_user=cast.jinan_reviewer, submission_id=submission.pk)
    assert _recipients("approved") == {"3701001"}
    actions.submission_recheck(acting_user=cast.sd_reviewer, submission_id=submission.pk)
    assert "3701001" in _recipients("rechecked")
    actions.submission_withdraw(acting_user=cast.sd_reviewer, submission_id=submission.pk, reason="撤销")
    assert "3701001" in _recipients("withdrawn")


def test_it_tells_the_filler_about_a_field_comment_and_the_reviewer_about_the_answer(cast, fill):
    submission = fill(cast.jinan_urban, "t3", state="submitted")
    code = next(iter(submission.values))
    comment = actions.field_comment_add(acting_user=cast.jinan_reviewer, submission_id=submission.pk,
                                        field_code=code, text="请说明来源")
    assert _recipients("commented") == {"3701001"}
    actions.field_comment_answer(acting_user=cast.jinan_urban, comment_id=comment.pk, text="来自HIS统计")
    assert _recipients("answered") == {"370100-sh"}


def test_it_shows_and_marks_notifications_read(cast, fill, client):
    submission = fill(cast.jinan_urban, "t3", state="submitted")
    actions.submission_reject(acting_user=cast.jinan_reviewer, submission_id=submission.pk, reason="请核实")
    client.force_login(cast.jinan_urban)
    page = client.get(reverse("review:notifications")).content.decode()
    assert "请核实" in page and "1 条未读" in page
    assert '通知 <span class="badge bg-danger">1</span>' in page  # the top bar counts unread ones
    note = Notification.objects.get(recipient=cast.jinan_urban)
    response = client.post(reverse("review:notification_open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("review:submission", args=[submission.pk])
    note.refresh_from_db()
    assert note.read_at is not None


def test_it_marks_all_read_and_only_the_users_own(cast, fill, client):
    fill(cast.jinan_urban, "t3", state="submitted")
    fill(cast.jinan_urban2, "t3", state="submitted")
    client.force_login(cast.jinan_reviewer)
    client.post(reverse("review:notifications_read"))
    assert not Notification.objects.filter(recipient=cast.jinan_reviewer, read_at__isnull=True).exists()
    other = Notification.objects.get(verb="submitted", submission__unit__code="3701001")
    client.force_login(cast.jinan_urban)
    assert client.post(reverse("review:notification_open", args=[other.pk])).status_code == 404
