"""佐证材料 through the API: round trip on local disk and on S3-compatible storage, every refusal, scope."""

from __future__ import annotations

import pytest
from django.core.files.storage import storages

from files.models import StoredFile
from selfassessment.models import Attachment, Report
from tests.files import samples

pytestmark = pytest.mark.django_db


def _post(client, submission, name, data, **extra):
    return client.post(f"/api/submissions/{submission.pk}/attachments/",
                       {"file": samples.upload(name, data), **extra}, format="multipart")


def test_it_uploads_and_downloads_evidence_unchanged(cast, fill, api, storage_backend):
    submission = fill(cast.jinan_urban, "t3")
    client = api(cast.jinan_urban)
    data = samples.docx_bytes("双向转诊协议")
    response = _post(client, submission, "双向转诊协议.docx", data, section="s2_2_3")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "双向转诊协议.docx" and body["section"] == "s2_2_3" and body["kind"] == "docx"
    download = client.get(f"/api/attachments/{body['id']}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == data
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    # a reviewer of the city above reads it too
    assert api(cast.jinan_reviewer).get(f"/api/attachments/{body['id']}/").status_code == 200
    field = _post(client, submission, "签约名单.xlsx", samples.xlsx_bytes(), field="grassroots_total"
                  if "grassroots_total" in {f["code"] for f in submission.form_version.definition["fields"]}
                  else submission.form_version.definition["fields"][0]["code"])
    assert field.status_code == 201


@pytest.mark.parametrize(("name", "make", "message"), [
    ("报告.pdf", samples.exe_bytes, "可执行程序不能上传"),
    ("报告.docx", samples.html_bytes, "文件内容不是允许的类型"),
    ("宏.docx", samples.macro_docx_bytes, "不接受含宏的文档"),
    ("炸弹.xlsx", samples.bomb_xlsx_bytes, "疑似压缩炸弹"),
])
def test_it_refuses_bad_files_with_a_chinese_message_and_stores_nothing(cast, fill, api, storage_backend, name,
                                                                        make, message):
    submission = fill(cast.jinan_urban, "t3")
    response = _post(api(cast.jinan_urban), submission, name, make())
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not StoredFile.objects.exists() and not Attachment.objects.exists()


def test_it_refuses_an_oversize_file(cast, fill, api, settings):
    settings.FILES_MAX_FILE_BYTES = 2000
    submission = fill(cast.jinan_urban, "t3")
    response = _post(api(cast.jinan_urban), submission, "大.pdf", samples.pdf_bytes("x" * 5000))
    assert response.status_code == 400 and "单个文件不能超过" in response.json()["detail"]
    assert not StoredFile.objects.exists()


def test_it_takes_only_a_pdf_as_the_stamped_scan_and_replaces_the_earlier_one(cast, fill, api, storage_backend):
    submission = fill(cast.jinan_urban, "t3")
    client = api(cast.jinan_urban)
    refused = _post(client, submission, "扫描.jpg", samples.jpeg_bytes(), stamped="true")
    assert refused.status_code == 400 and "只接受PDF" in refused.json()["detail"]
    first = _post(client, submission, "盖章版.pdf", samples.pdf_bytes("v1"), stamped="true").json()
    second = _post(client, submission, "盖章版2.pdf", samples.pdf_bytes("v2"), stamped="true").json()
    report = Report.objects.get(submission=submission)
    assert report.stamped.original_name == "盖章版2.pdf" and second["stamped"]
    assert not Attachment.objects.filter(pk=first["id"]).exists()
    assert client.get(f"/api/submissions/{submission.pk}/report/").json()["stamped"]["name"] == "盖章版2.pdf"


def test_it_refuses_a_section_or_field_that_does_not_exist(cast, fill, api):
    submission = fill(cast.jinan_urban, "t3")
    client = api(cast.jinan_urban)
    assert "报告框架中没有章节" in _post(client, submission, "a.pdf", samples.pdf_bytes(), section="zz").json()["detail"]
    assert "表中没有指标" in _post(client, submission, "a.pdf", samples.pdf_bytes(), field="zz").json()["detail"]
    assert not StoredFile.objects.exists()


def test_it_deletes_while_editable_and_refuses_once_submitted(cast, fill, api, django_capture_on_commit_callbacks):
    submission = fill(cast.jinan_urban, "t3")
    client = api(cast.jinan_urban)
    first = _post(client, submission, "a.pdf", samples.pdf_bytes("a")).json()
    stored = StoredFile.objects.get(pk=Attachment.objects.get(pk=first["id"]).file_id)
    assert api(cast.jinan_reviewer).delete(f"/api/attachments/{first['id']}/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/attachments/{first['id']}/").status_code == 204
    assert not storages["default"].exists(stored.key)
    assert client.get(f"/api/attachments/{first['id']}/").status_code == 404
    kept = _post(client, submission, "b.pdf", samples.pdf_bytes("b")).json()
    assert client.post(f"/api/submissions/{submission.pk}/submit/").status_code == 200
    assert client.delete(f"/api/attachments/{kept['id']}/").status_code == 409
    assert _post(client, submission, "c.pdf", samples.pdf_bytes("c")).status_code == 409
    assert Attachment.objects.filter(pk=kept["id"]).exists()


@pytest.mark.parametrize(("viewer", "status"), [
    ("jinan_urban2", 404),  # sibling
    ("qingdao_reviewer", 404),
    ("sc_reviewer", 404),
    ("zy_urban", 404),  # another province's filler
    ("jinan_filler", 404),
    ("jinan_reviewer", 200),
    ("sd_reviewer", 200),
    ("analyst", 200),
])
def test_it_answers_another_units_attachment_with_404(cast, fill, api, viewer, status):
    submission = fill(cast.jinan_urban, "t3")
    created = _post(api(cast.jinan_urban), submission, "a.pdf", samples.pdf_bytes()).json()
    client = api(getattr(cast, viewer))
    assert client.get(f"/api/attachments/{created['id']}/").status_code == status
    assert client.get(f"/files/{Attachment.objects.get(pk=created['id']).file_id}/").status_code in (status, 302)
    if status == 404:
        assert client.delete(f"/api/attachments/{created['id']}/").status_code == 404
        assert _post(client, submission, "b.pdf", samples.pdf_bytes()).status_code == 404
