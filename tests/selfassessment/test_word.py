"""Word out: one report as .docx, and a subtree's reports as one streamed zip."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse
from docx import Document

from review.selectors import display_value
from tests.files import samples

from .conftest import stamp

pytestmark = pytest.mark.django_db


def _docx_text(data: bytes) -> tuple[list[str], str]:
    doc = Document(io.BytesIO(data))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading") or p.style.name == "Title"]
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return headings, "\n".join([p.text for p in doc.paragraphs] + cells)


def test_it_writes_the_report_as_a_word_file_with_headings_name_values_and_evidence(cast, fill, api):
    from selfassessment.actions import attachment_add, report_save

    submission = fill(cast.jinan_urban, "t3")
    report_save(acting_user=cast.jinan_urban, submission_id=submission.pk, sections={
        "s1": "<p>本院牵头组建<b>城市医疗集团</b>。</p><ul><li>网格化布局</li></ul>"
              "<table><tr><td>成员单位</td><td>12家</td></tr></table>"})
    attachment_add(acting_user=cast.jinan_urban, submission_id=submission.pk,
                   upload=samples.upload("双向转诊协议.pdf", samples.pdf_bytes()), section="s2_2_3")
    stamp(cast.jinan_urban, submission)
    response = api(cast.jinan_reviewer).get(f"/api/submissions/{submission.pk}/report.docx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert response["Content-Disposition"].startswith("attachment;")
    headings, text = _docx_text(response.content)
    assert headings[0] == "医联体建设情况自评估报告框架"
    assert "一、基本情况" in headings and "3.医疗资源上下贯通情况。" in headings and "佐证材料" in headings
    assert submission.unit.name in text
    assert "本院牵头组建城市医疗集团。" in text and "网格化布局" in text and "成员单位" in text and "12家" in text
    value = submission.result["indicators"]["t3.i04"]
    assert display_value(round(value, 2)) in text  # 下转病人例数占比, in the facts table of its section
    assert "下转病人例数占比" in text
    assert "双向转诊协议.pdf" in text and "盖章扫描件：盖章版.pdf" in text


def test_it_streams_all_reports_of_a_subtree_as_one_zip(cast, fill, client):
    from selfassessment.actions import report_save

    for user in (cast.jinan_urban, cast.jinan_urban2, cast.qingdao_urban, cast.zy_urban):
        submission = fill(user, "t3")
        report_save(acting_user=user, submission_id=submission.pk, sections={"s1": f"<p>{user.unit.name}</p>"})
    client.force_login(cast.sd_reviewer)
    response = client.get(reverse("selfassessment:bundle"), {"task": cast.task.code})
    assert response.streaming and response["Content-Type"] == "application/zip"
    assert not response.has_header("Content-Length")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert sorted(n.split("_")[0] for n in names) == ["3701001", "3701001-2", "3702001"]  # not 四川's 5120001
    _, text = _docx_text(archive.read(next(n for n in names if n.startswith("3701001_"))))
    assert cast.jinan_urban.unit.name in text
    # a city reviewer gets its own subtree only; a unit outside the scope is 404
    client.force_login(cast.jinan_reviewer)
    response = client.get(reverse("selfassessment:bundle"), {"task": cast.task.code})
    assert sorted(n.split("_")[0] for n in zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()) \
        == ["3701001", "3701001-2"]
    assert client.get(reverse("selfassessment:bundle"), {"task": cast.task.code, "unit": "370200"}).status_code == 404
