"""The report API and editor writes: contract, sanitising, conflicts, locking, scope."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from selfassessment.models import Report

from .conftest import stamp, write_all

pytestmark = pytest.mark.django_db


def test_it_answers_the_report_with_sections_as_key_heading_text_facts(cast, fill, api):
    submission = fill(cast.jinan_urban, "t3")
    body = api(cast.jinan_urban).get(f"/api/submissions/{submission.pk}/report/").json()
    assert body["framework"]["title"] == "医联体建设情况自评估报告框架"
    assert all(set(s) == {"key", "heading", "text", "facts"} for s in body["sections"])
    headings = [s["heading"] for s in body["sections"]]
    assert headings[0] == "一、基本情况" and "3.医疗资源上下贯通情况。" in headings
    flow = next(s for s in body["sections"] if s["heading"] == "3.医疗资源上下贯通情况。")
    labels = [i["label"] for i in flow["facts"]["indicators"]]
    assert "下转病人例数占比" in labels
    shown = next(i for i in flow["facts"]["indicators"] if i["label"] == "下转病人例数占比")
    assert shown["value"] == submission.result["indicators"]["t3.i04"]
    assert body["progress"] == {"written": 0, "required": 10, "stamped": False, "label": "未开始"}


def test_it_saves_sections_sanitised_keeping_paragraphs_lists_and_tables(cast, fill, api):
    submission = fill(cast.jinan_urban, "t3")
    pasted = ('<p style="mso-x:1" class="MsoNormal" onclick="x()">本院牵头组建<b>城市医疗集团</b></p>'
              '<script>alert(1)</script><ul><li>网格化布局</li></ul>'
              '<table border="1"><tr><td colspan="2" style="width:3cm">成员单位</td></tr></table>'
              '<img src=x onerror=alert(2)><a href="javascript:alert(3)">链接</a>')
    response = api(cast.jinan_urban).patch(f"/api/submissions/{submission.pk}/report/",
                                           {"base_revision": 0, "sections": [{"key": "s1", "text": pasted}]},
                                           format="json")
    assert response.status_code == 200, response.content
    text = next(s["text"] for s in response.json()["sections"] if s["key"] == "s1")
    assert "<b>城市医疗集团</b>" in text and "<ul><li>网格化布局</li></ul>" in text
    assert '<td colspan="2">成员单位</td>' in text
    for bad in ("script", "alert", "onclick", "style", "class=", "<img", "javascript", "<a"):
        assert bad not in text
    assert response.json()["progress"]["written"] == 1
    assert AuditEvent.objects.filter(action="report_save", object_id=str(Report.objects.get().pk)).exists()


def test_it_refuses_to_overwrite_a_section_someone_else_changed_and_keeps_the_rest(cast, fill, api):
    submission = fill(cast.jinan_urban, "t3")
    url = f"/api/submissions/{submission.pk}/report/"
    client = api(cast.jinan_urban)
    assert client.patch(url, {"base_revision": 0, "sections": [{"key": "s1", "text": "<p>甲写的</p>"}]},
                        format="json").status_code == 200
    # a second tab still at revision 0 writes s1 and s3
    stale = client.patch(url, {"base_revision": 0, "sections": [{"key": "s1", "text": "<p>乙写的</p>"},
                                                                 {"key": "s3", "text": "<p>计划</p>"}]},
                         format="json")
    assert stale.status_code == 409
    body = stale.json()
    assert body["conflicts"] == [{"key": "s1", "heading": "一、基本情况", "yours": "<p>乙写的</p>",
                                  "theirs": "<p>甲写的</p>"}]
    assert body["saved"] == ["s3"]
    texts = {s["key"]: s["text"] for s in client.get(url).json()["sections"]}
    assert texts["s1"] == "<p>甲写的</p>" and texts["s3"] == "<p>计划</p>"
    # choosing "mine" re-sends on the current revision
    again = client.patch(url, {"base_revision": body["revision"], "sections": [{"key": "s1", "text": "<p>乙写的</p>"}]},
                         format="json")
    assert again.status_code == 200


def test_it_refuses_unknown_and_heading_only_sections(cast, fill, api):
    submission = fill(cast.jinan_urban, "t3")
    url = f"/api/submissions/{submission.pk}/report/"
    for key in ("nope", "s2"):  # s2 = 二、自评情况, a heading without text of its own
        response = api(cast.jinan_urban).patch(url, {"sections": [{"key": key, "text": "x"}]}, format="json")
        assert response.status_code == 400
        assert "报告框架中没有章节" in response.json()["detail"]


@pytest.mark.parametrize(("viewer", "read", "write"), [
    ("jinan_urban", 200, 200),  # own unit
    ("jinan_urban2", 404, 404),  # sibling alliance
    ("jinan_filler", 404, 404),  # the city's filler
    ("jinan_reviewer", 200, 403),  # the supervising city reads, never writes
    ("sd_reviewer", 200, 403),
    ("nation_reviewer", 200, 403),
    ("qingdao_reviewer", 404, 404),
    ("sc_reviewer", 404, 404),
    ("zy_urban", 404, 404),  # a filler of another province
    ("admin", 200, 403),
])
def test_it_scopes_the_report_like_the_form(cast, fill, api, viewer, read, write):
    submission = fill(cast.jinan_urban, "t3")
    client = api(getattr(cast, viewer))
    url = f"/api/submissions/{submission.pk}/report/"
    assert client.get(url).status_code == read
    assert client.patch(url, {"sections": [{"key": "s1", "text": "<p>x</p>"}]}, format="json").status_code == write
    assert client.get(f"/api/submissions/{submission.pk}/report.docx").status_code == read


def test_it_locks_the_report_with_the_submitted_form_and_snapshots_it(cast, fill, api):
    submission = fill(cast.jinan_urban, "t3")
    write_all(cast.jinan_urban, submission)
    stamp(cast.jinan_urban, submission)
    client = api(cast.jinan_urban)
    assert client.post(f"/api/submissions/{submission.pk}/submit/").status_code == 200
    response = client.patch(f"/api/submissions/{submission.pk}/report/",
                            {"sections": [{"key": "s1", "text": "<p>改</p>"}]}, format="json")
    assert response.status_code == 409
    assert "不能修改" in response.json()["detail"]
    report = Report.objects.get(submission=submission)
    snapshot = report.snapshots.get()
    assert snapshot.sections == report.sections and snapshot.stamped["name"] == "盖章版.pdf"
    assert snapshot.submission_snapshot.submission_id == submission.pk


def test_it_answers_404_for_a_form_whose_task_asks_no_report(cast, fill, api):
    from selfassessment.actions import task_report_set

    task_report_set(acting_user=cast.admin, task=cast.task, unit_level="urban_alliance", framework_code=None)
    submission = fill(cast.jinan_urban, "t3")
    assert api(cast.jinan_urban).get(f"/api/submissions/{submission.pk}/report/").status_code == 404


def test_it_keeps_the_report_locked_when_only_form_fields_are_unlocked_for_rectification(cast, fill, api):
    from reporting.policy import register_field_unlocker, unregister_field_unlocker

    submission = fill(cast.jinan_urban, "t3", state="submitted")

    def unlock(user, sub, now):
        return [("", "grassroots_total")] if sub.pk == submission.pk else []

    register_field_unlocker(unlock)
    try:
        response = api(cast.jinan_urban).patch(f"/api/submissions/{submission.pk}/report/",
                                               {"sections": [{"key": "s1", "text": "<p>改</p>"}]}, format="json")
    finally:
        unregister_field_unlocker(unlock)
    assert response.status_code == 409 and "不能修改" in response.json()["detail"]
