"""The audit trail of a submission: every value change old → new with who and when, every status change;
visible to the unit and its reviewers; exportable to Excel."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from reporting.actions import submission_save
from review import actions

pytestmark = pytest.mark.django_db


def _count_field(submission) -> str:
    return next(f["code"] for f in submission.form_version.definition["fields"]
                if f["type"] == "count" and not f.get("condition"))


def test_it_shows_every_change_with_old_and_new_value_who_and_when(cast, client):
    submission = cast.submission(cast.jinan_urban, "t3")
    code = _count_field(submission)
    label = next(f["label"] for f in submission.form_version.definition["fields"] if f["code"] == code)
    submission_save(acting_user=cast.jinan_urban, submission_id=submission.pk, changes=[{"field": code, "value": "100"}])
    submission_save(acting_user=cast.jinan_urban, submission_id=submission.pk, changes=[{"field": code, "value": "250"}])
    client.force_login(cast.jinan_reviewer)
    page = client.get(reverse("review:audit", args=[submission.pk])).content.decode()
    rows = page.split('class="audit-value"')[1:]
    assert len(rows) == 2
    newest = rows[0]
    assert label in newest and ">100<" in newest and ">250<" in newest and "3701001" in newest
    assert "开始填报" in page  # the status change of the first save


def test_it_lists_the_status_changes_with_reasons(cast, fill, client):
    submission = fill(cast.jinan_urban, "t3", state="submitted")
    actions.submission_reject(acting_user=cast.jinan_reviewer, submission_id=submission.pk, reason="数据口径不一致")
    client.force_login(cast.jinan_urban)
    page = client.get(reverse("review:audit", args=[submission.pk])).content.decode()
    assert 'data-action="reject"' in page and "数据口径不一致" in page and "已上报 → 已驳回" in page
    assert 'data-action="submit"' in page


def test_it_exports_the_trail_to_excel(cast, fill, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    submission = fill(cast.jinan_urban, "t3", state="submitted")
    client.force_login(cast.jinan_urban)
    response = client.get(reverse("review:audit", args=[submission.pk]), {"format": "xlsx"}, follow=True)
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert "修改记录" in rows[0][0]
    kinds = [r[1] for r in rows[2:]]
    assert "上报" in kinds and "修改数值" in kinds
    assert len(kinds) == submission.value_changes.count() + submission.transitions.count()


def test_it_does_not_export_another_units_trail(cast, fill, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    submission = fill(cast.jinan_urban, "t3")
    client.force_login(cast.jinan_urban2)
    assert client.get(reverse("review:audit", args=[submission.pk]), {"format": "xlsx"}).status_code == 404


def test_it_names_fields_by_their_labels_and_members_by_name_and_code_without_internal_codes(cast, client):
    from reporting.actions import member_add

    submission = cast.submission(cast.jinan_urban, "t3")
    member = member_add(acting_user=cast.jinan_urban, submission_id=submission.pk)
    submission_save(acting_user=cast.jinan_urban, submission_id=submission.pk, changes=[
        {"field": "member_count", "value": "6"},
        {"field": "hospital_name", "member": member.key, "value": "历城区人民医院"},
        {"field": "org_code", "member": member.key, "value": "12370112495571234A"},
    ])
    client.force_login(cast.jinan_reviewer)
    page = client.get(reverse("review:audit", args=[submission.pk])).content.decode()
    rows = page.split('class="audit-value"')[1:]
    lead_row = next(r for r in rows if "参与医联体建设的成员数量" in r)
    assert "member_count" not in lead_row.split(">", 1)[1]  # only in the row's data-field attribute
    member_rows = [r for r in rows if "历城区人民医院（12370112495571234A）" in r]
    assert len(member_rows) == 2 and member.key not in page
