"""The report in the workflow: the submit gate, the review page, section comments, rejection, the board."""

from __future__ import annotations

import pytest
from django.urls import reverse

from review.models import FieldComment
from selfassessment.models import ReportSnapshot

from .conftest import stamp, write_all

pytestmark = pytest.mark.django_db


def test_it_refuses_submission_while_a_required_report_is_incomplete(cast, fill, api, require_reports):
    submission = fill(cast.jinan_urban, "t3")
    client = api(cast.jinan_urban)
    refused = client.post(f"/api/submissions/{submission.pk}/submit/")
    assert refused.status_code == 400
    messages = [b["message"] for b in refused.json()["blocking"]]
    assert any(m.startswith("自评估报告尚未完成：一、基本情况") for m in messages)
    assert "自评估报告盖章扫描件（PDF）尚未上传。" in messages
    write_all(cast.jinan_urban, submission)
    still = client.post(f"/api/submissions/{submission.pk}/submit/").json()
    assert [b["message"] for b in still["blocking"]] == ["自评估报告盖章扫描件（PDF）尚未上传。"]
    stamp(cast.jinan_urban, submission)
    assert client.post(f"/api/submissions/{submission.pk}/submit/").status_code == 200
    assert ReportSnapshot.objects.filter(report__submission=submission).count() == 1


def test_it_lets_a_form_go_without_a_report_when_the_task_does_not_require_one(cast, fill, api):
    submission = fill(cast.jinan_urban, "t3")
    assert api(cast.jinan_urban).post(f"/api/submissions/{submission.pk}/submit/").status_code == 200


def test_it_shows_the_missing_report_in_the_submit_box_on_the_entry_page(cast, fill, client, require_reports):
    submission = fill(cast.jinan_urban, "t3")
    client.force_login(cast.jinan_urban)
    page = client.get(reverse("submission_entry", args=[submission.pk])).content.decode()
    assert "自评估报告盖章扫描件（PDF）尚未上传。" in page
    assert reverse("selfassessment:edit", args=[submission.pk]) in page


def test_it_shows_the_report_to_reviewers_who_comment_per_section_and_reject_pointing_at_one(
        cast, fill, client, require_reports):
    submission = fill(cast.jinan_urban, "t3")
    write_all(cast.jinan_urban, submission, "<p>本院牵头组建城市医疗集团。</p>")
    stamp(cast.jinan_urban, submission)
    from review.actions import submission_submit
    from selfassessment.actions import attachment_add
    from tests.files.samples import pdf_bytes, upload

    attachment_add(acting_user=cast.jinan_urban, submission_id=submission.pk,
                   upload=upload("分工协作协议.pdf", pdf_bytes()), section="s2_1_2")

    submission_submit(acting_user=cast.jinan_urban, submission_id=submission.pk)
    client.force_login(cast.jinan_reviewer)
    page = client.get(reverse("review:submission", args=[submission.pk])).content.decode()
    assert "医联体建设情况自评估报告框架" in page and "本院牵头组建城市医疗集团。" in page
    assert 'name="comment::report.s2_1_2"' in page
    assert "分工协作协议.pdf</a>（2.医联体内分工协作情况）" in page
    response = client.post(reverse("review:act", args=[submission.pk]), {
        "action": "reject", "reason": "报告内容不完整",
        "comment::report.s2_1_2": "请补充分工协作的具体做法。"})
    assert response.status_code == 302
    comment = FieldComment.objects.get(submission=submission)
    assert comment.field_code == "report.s2_1_2"
    # the filler sees it beside that section of the editor, with the section's heading as its label
    client.force_login(cast.jinan_urban)
    editor = client.get(reverse("selfassessment:edit", args=[submission.pk])).content.decode()
    assert "审核批注：请补充分工协作的具体做法。" in editor
    entry = client.get(reverse("submission_entry", args=[submission.pk])).content.decode()
    assert "自评估报告 · 2.医联体内分工协作情况" in entry


def test_it_lets_the_province_comment_on_a_section_after_approval(cast, fill, client):
    submission = fill(cast.jinan_urban, "t3", state="approved")
    client.force_login(cast.sd_reviewer)
    client.post(reverse("review:comment_add", args=[submission.pk]),
                {"field": "report.s1", "text": "基本情况请补充数据。"})
    assert FieldComment.objects.filter(submission=submission, field_code="report.s1").exists()
    client.post(reverse("review:comment_add", args=[submission.pk]), {"field": "report.zz", "text": "x"})
    assert not FieldComment.objects.filter(field_code="report.zz").exists()


def test_it_shows_report_status_per_unit_on_the_progress_board(cast, fill, client, require_reports,
                                                               django_assert_max_num_queries):
    first = fill(cast.jinan_urban, "t3")
    write_all(cast.jinan_urban, first)
    client.force_login(cast.jinan_reviewer)
    with django_assert_max_num_queries(40):
        page = client.get(reverse("review:progress"), {"task": cast.task.code}).content.decode()
    assert "自评报告：待上传盖章扫描件" in page
    assert "自评报告：未开始" in page  # the sibling alliance 3701001-2 has not begun
    assert "下载自评估报告（zip）" in page


def test_it_opens_the_editor_only_inside_the_scope(cast, fill, client):
    submission = fill(cast.jinan_urban, "t3")
    for viewer, status in (("jinan_urban", 200), ("jinan_reviewer", 200), ("sd_reviewer", 200),
                           ("jinan_urban2", 404), ("zy_urban", 404), ("qingdao_reviewer", 404),
                           ("sc_reviewer", 404), ("jinan_filler", 404)):
        client.force_login(getattr(cast, viewer))
        assert client.get(reverse("selfassessment:edit", args=[submission.pk])).status_code == status, viewer
    client.force_login(cast.jinan_reviewer)
    page = client.get(reverse("selfassessment:edit", args=[submission.pk])).content.decode()
    assert 'contenteditable="true"' not in page and "只读" in page
