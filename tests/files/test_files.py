"""Uploaded files: content-type decided by the bytes, limits, storage (local and S3), scoped downloads."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.storage import storages
from django.urls import reverse

from accounts.models import AuditEvent
from files.actions import file_delete, file_store
from files.models import FileLimit, StoredFile
from files.sniff import FileRefused

from . import samples

pytestmark = pytest.mark.django_db

GOOD = [
    ("佐证材料.pdf", samples.pdf_bytes, "pdf", "application/pdf"),
    ("会议纪要.docx", samples.docx_bytes, "docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("指标明细.xlsx", samples.xlsx_bytes, "xlsx",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("现场照片.jpg", samples.jpeg_bytes, "jpeg", "image/jpeg"),
    ("签约截图.png", samples.png_bytes, "png", "image/png"),
]


@pytest.mark.parametrize(("name", "make", "kind", "mime"), GOOD)
def test_it_stores_and_returns_each_allowed_kind_unchanged(cast, client, storage_backend, name, make, kind, mime):
    data = make()
    stored = file_store(acting_user=cast.jinan_urban, unit=cast.jinan_urban.unit,
                        upload=samples.upload(name, data), purpose="evidence")
    assert (stored.kind, stored.size, stored.original_name) == (kind, len(data), name)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert name not in stored.key and stored.key.startswith("files/3701001/")
    assert storages["default"].exists(stored.key)
    client.force_login(cast.jinan_urban)
    response = client.get(reverse("files:download", args=[stored.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == mime
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(action="file_store", object_id=str(stored.pk)).exists()


BAD = [
    ("报告.pdf", samples.exe_bytes, "可执行程序不能上传"),
    ("自评报告.docx", samples.html_bytes, "文件内容不是允许的类型"),
    ("宏.docx", samples.macro_docx_bytes, "不接受含宏的文档"),
    ("炸弹.xlsx", samples.bomb_xlsx_bytes, "疑似压缩炸弹"),
    ("../../etc/passwd.pdf", samples.pdf_bytes, "路径分隔符"),
    ("a\\b.pdf", samples.pdf_bytes, "路径分隔符"),
    ("报告\x00.pdf", samples.pdf_bytes, "控制字符"),
    ("报告\n.pdf", samples.pdf_bytes, "控制字符"),
    ("报告\u202e.fdp.pdf", samples.pdf_bytes, "控制字符"),
    ("材料.docx", samples.pdf_bytes, "扩展名与内容不符"),
    ("空.pdf", lambda: b"", "文件为空"),
]


@pytest.mark.parametrize(("name", "make", "message"), BAD)
def test_it_refuses_bad_uploads_with_a_chinese_message_and_stores_nothing(cast, storage_backend, name, make,
                                                                          message):
    with pytest.raises(FileRefused) as refused:
        file_store(acting_user=cast.jinan_urban, unit=cast.jinan_urban.unit, upload=samples.upload("x", make()),
                   name=name, purpose="evidence")
    assert message in refused.value.message
    assert not StoredFile.objects.exists()
    assert not AuditEvent.objects.filter(action="file_store").exists()
    if storage_backend == "local":
        assert not storages["default"].exists("files/3701001")


def test_it_refuses_a_file_over_the_administrators_per_file_limit(cast, settings, storage_backend):
    FileLimit.objects.create(unit=None, max_file_bytes=1000, max_unit_bytes=10**9)
    with pytest.raises(FileRefused, match="单个文件不能超过"):
        file_store(acting_user=cast.jinan_urban, unit=cast.jinan_urban.unit,
                   upload=samples.upload("大.pdf", samples.pdf_bytes("x" * 2000)), purpose="evidence")
    assert not StoredFile.objects.exists()


def test_it_refuses_an_upload_that_would_exceed_the_units_quota_but_not_another_units(cast, storage_backend):
    data = samples.pdf_bytes("y" * 500)
    FileLimit.objects.create(unit=cast.jinan_urban.unit, max_file_bytes=10**6, max_unit_bytes=len(data) * 2)
    for i in range(2):
        file_store(acting_user=cast.jinan_urban, unit=cast.jinan_urban.unit,
                   upload=samples.upload(f"{i}.pdf", data), purpose="evidence")
    with pytest.raises(FileRefused, match="本单位上传文件总量不能超过"):
        file_store(acting_user=cast.jinan_urban, unit=cast.jinan_urban.unit,
                   upload=samples.upload("3.pdf", data), purpose="evidence")
    # the sibling alliance has no override: the default limits apply to it
    file_store(acting_user=cast.jinan_urban2, unit=cast.jinan_urban2.unit, upload=samples.upload("3.pdf", data),
               purpose="evidence")
    assert StoredFile.objects.filter(unit=cast.jinan_urban.unit).count() == 2


def test_it_refuses_an_upload_for_another_unit(cast, storage_backend):
    with pytest.raises(FileRefused, match="只能为本单位上传文件"):
        file_store(acting_user=cast.jinan_urban2, unit=cast.jinan_urban.unit,
                   upload=samples.upload("a.pdf", samples.pdf_bytes()), purpose="evidence")


def test_it_deletes_the_row_and_the_stored_object(cast, storage_backend, django_capture_on_commit_callbacks):
    stored = file_store(acting_user=cast.jinan_urban, unit=cast.jinan_urban.unit,
                        upload=samples.upload("a.pdf", samples.pdf_bytes()), purpose="evidence")
    with pytest.raises(FileRefused):
        file_delete(acting_user=cast.jinan_urban2, file_id=stored.pk)
    with django_capture_on_commit_callbacks(execute=True):
        file_delete(acting_user=cast.jinan_urban, file_id=stored.pk)
    assert not StoredFile.objects.filter(pk=stored.pk).exists()
    assert not storages["default"].exists(stored.key)


@pytest.mark.parametrize(("viewer", "status"), [
    ("jinan_urban", 200),  # own unit
    ("jinan_urban2", 404),  # sibling alliance
    ("jinan_reviewer", 200),  # the supervising city
    ("sd_reviewer", 200),  # the province above
    ("qingdao_reviewer", 404),  # another city
    ("sc_reviewer", 404),  # another province
    ("zy_urban", 404),  # a filler of another province
    ("jinan_filler", 404),  # the city's filler: fillers see their own unit only
])
def test_it_answers_downloads_only_inside_the_viewers_scope(cast, client, viewer, status, settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    stored = file_store(acting_user=cast.jinan_urban, unit=cast.jinan_urban.unit,
                        upload=samples.upload("a.pdf", samples.pdf_bytes()), purpose="evidence")
    client.force_login(getattr(cast, viewer))
    assert client.get(reverse("files:download", args=[stored.pk])).status_code == status


def test_it_offers_a_safe_download_name_even_for_odd_names(cast, client, settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    stored = file_store(acting_user=cast.jinan_urban, unit=cast.jinan_urban.unit,
                        upload=samples.upload('a"; filename=evil.html;.pdf', samples.pdf_bytes()),
                        purpose="evidence")
    client.force_login(cast.jinan_urban)
    disposition = client.get(reverse("files:download", args=[stored.pk]))["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "evil.html;" not in disposition and '"a"' not in disposition
