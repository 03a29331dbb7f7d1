"""Files of notices go through the files app: its checks refuse a disguised file, and only the notice's
audience can download."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from communication import actions, wordfile
from communication.models import NoticeAttachment, NoticeKind

pytestmark = pytest.mark.django_db


def _docx(name="指标说明.docx"):
    return SimpleUploadedFile(name, wordfile.as_docx("# 指标说明\n\n门诊总诊疗人次数：不含体检。"),
                              content_type=wordfile.DOCX_TYPE)


def test_it_lets_only_the_notices_audience_download_its_file(cast, client):
    notice = actions.notice_publish(acting_user=cast.sd_reviewer, title="山东省填报说明", body="见附件",
                                    kind=NoticeKind.DOWNLOAD, send_mail=False, files=[_docx()])
    attachment = NoticeAttachment.objects.get(notice=notice)
    url = reverse("files:download", args=[attachment.stored_file_id])
    client.force_login(cast.jinan_urban)
    page = client.get(reverse("communication:notice", args=[notice.pk])).content.decode()
    assert "指标说明.docx" in page and url in page
    response = client.get(url)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"PK")
    for outsider in (cast.zy_urban, cast.sc_reviewer):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_it_refuses_a_disguised_file_and_publishes_nothing(cast, client):
    fake = SimpleUploadedFile("通知.pdf", b"MZ\x90\x00 this is an executable", content_type="application/pdf")
    with pytest.raises(actions.CommError) as e:
        actions.notice_publish(acting_user=cast.sd_reviewer, title="带病毒的通知", body="", files=[fake],
                               send_mail=False)
    assert "通知.pdf" in e.value.message
    client.force_login(cast.sd_reviewer)
    fake.seek(0)
    response = client.post(reverse("communication:notice_new"), {"title": "带病毒的通知", "body": "", "files": [fake]})
    assert response.status_code == 200 and "未能上传" in response.content.decode()
    from communication.models import Notice

    assert not Notice.objects.filter(title="带病毒的通知").exists()


def test_it_uploads_through_the_publish_page(cast, client):
    client.force_login(cast.nation_reviewer)
    response = client.post(reverse("communication:notice_new"), {
        "kind": "download", "title": "操作手册", "body": "", "files": [_docx("操作手册.docx")]})
    assert response.status_code == 302
    assert NoticeAttachment.objects.get(notice__title="操作手册").name == "操作手册.docx"
