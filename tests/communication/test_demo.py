"""The demo's 下载区 carries the assessment package's own documents; its 留言板 the manual's FAQ."""

from __future__ import annotations

import pytest
from django.urls import reverse

from communication import demo, selectors
from communication.models import Delivery, FaqEntry, Notice, NoticeKind, Question

pytestmark = pytest.mark.django_db


def test_it_publishes_the_seed_documents_and_faq_once_without_mail(mailable, client):
    cast = mailable
    demo.seed(cast.task)
    demo.seed(cast.task)
    downloads = selectors.notices_for(cast.jinan_urban, kind=NoticeKind.DOWNLOAD)
    titles = set(downloads.values_list("title", flat=True))
    assert {"分级诊疗制度建设第三方评估实施方案", "填报工作具体要求", "部分评估考核指标说明（指标说明）",
            "分级诊疗制度建设信息平台操作手册", "考核指标框架（表1—表4）"} <= titles
    assert Notice.objects.filter(title=demo.NOTICE_TITLE).count() == 1
    assert not Delivery.objects.exists()
    assert Question.objects.filter(status="pending").count() == 1
    entry = FaqEntry.objects.get(field_code="outpatient_visits")
    assert entry.form_code == "t3" and "体检" in entry.answer_text
    client.force_login(cast.jinan_urban)
    page = client.get(reverse("communication:downloads")).content.decode()
    assert "部分评估考核指标说明（指标说明）" in page
    for notice in downloads:
        assert [a.name[-5:] for a in notice.attachments.all()] == [".docx"], notice.title
    forms = downloads.get(title="考核指标框架（表1—表4）").attachments.get()
    response = client.get(reverse("files:download", args=[forms.stored_file_id]))
    import io

    import docx

    text = "\n".join(p.text for p in docx.Document(io.BytesIO(b"".join(response.streaming_content))).paragraphs)
    assert "门诊总诊疗人次数" in text and "城市医联体效果评价考核表" in text
    entry_page = client.get(reverse("submission_entry", args=[cast.submission(cast.jinan_urban, "t3").pk]))
    assert "不包含健康体检人次" in entry_page.content.decode()
