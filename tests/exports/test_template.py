"""The offline template: a unit downloads its form as xlsx, fills it in Excel, uploads it again."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from reporting import actions
from reporting.models import MemberEntry, Status, Submission, TaskForm
from tests.exports.conftest import read_book, save

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(client, user, submission) -> bytes:
    client.force_login(user)
    response = client.get(reverse("exports:template", args=[submission.pk]))
    assert response.status_code == 200, response.content[:200]
    assert response["Content-Type"] == XLSX
    return response.content


def fill(data: bytes, values: dict | None = None, members: list[dict] | None = None,
         member_sheet: str = "成员单位") -> bytes:
    """Type values into the 填报值 column (by field code) and member rows (by position; beyond the existing
    members a row is a new member), as a clerk would in Excel."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["填报表"]
    rows = {row[0].value: row[0].row for row in ws.iter_rows(min_row=4) if row[0].value}
    for code, value in (values or {}).items():
        ws.cell(row=rows[code], column=5, value=value)
    if members:
        ms = wb[member_sheet]
        codes = {c.value: c.column for c in ms[1] if c.value}
        for i, member in enumerate(members):
            for code, value in member.items():
                ms.cell(row=4 + i, column=codes[code], value=value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client, user, submission, data: bytes, name: str = "模板.xlsx"):
    client.force_login(user)
    return client.post(reverse("exports:template_upload", args=[submission.pk]),
                       {"file": SimpleUploadedFile(name, data, content_type=XLSX)}, HTTP_ACCEPT="application/json")


def cell_of(data: bytes, code: str) -> str:
    ws = openpyxl.load_workbook(io.BytesIO(data))["填报表"]
    [row] = [r[0].row for r in ws.iter_rows(min_row=4) if r[0].value == code]
    return f"E{row}"


def test_it_gives_a_unit_its_form_as_a_row_per_field_with_current_values(cast, client):
    sub = cast.submission(cast.jinan_urban, "t3")
    entry = actions.member_add(acting_user=cast.jinan_urban, submission_id=sub.pk)
    save(cast.jinan_urban, sub, {"open_bed_days": "1,200", "discharged_patients": "--", "is_typical": "否"})
    save(cast.jinan_urban, sub, {"hospital_name": "济南市第二人民医院", "open_beds": "35"}, member=entry.key)
    data = download(client, cast.jinan_urban, sub)
    book = read_book(data)
    assert list(book)[:2] == ["填报表", "成员单位"]
    rows = book["填报表"]
    assert rows[2] == ["字段编码", "栏目", "指标名称", "单位", "填报值", "说明"]
    by_code = {r[0]: r for r in rows[3:]}
    assert by_code["open_bed_days"][2:5] == ["实际开放总床日数", "床日", 1200]
    assert by_code["discharged_patients"][4] == "--"
    assert by_code["is_typical"][4] == "否"
    assert "可选：牵头医院、成员单位" in by_code["report_type"][5]
    members = book["成员单位"]
    assert members[3][0] == entry.key and "济南市第二人民医院" in members[3]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert 'name="__meta__" sheetId="3" state="veryHidden"' in zf.read("xl/workbook.xml").decode()


def test_it_stores_the_values_typed_in_the_template_like_typed_input(cast, client):
    sub = cast.submission(cast.jinan_urban, "t3")
    data = fill(download(client, cast.jinan_urban, sub), {
        "open_bed_days": 1200, "occupied_bed_days": "--", "discharged_patients": 0,
        "outpatient_visits": "１,２３４", "avg_length_of_stay": 7.5, "hospital_name": "山东第一医科大学第一附属医院",
        "is_typical": "是", "report_type": "牵头医院", "org_code": 12345678,
    }, members=[{"hospital_name": "济南市中医医院", "open_beds": 40, "discharged_patients": "--"}])
    response = upload(client, cast.jinan_urban, sub, data)
    assert response.status_code == 200, response.json()
    assert response.json()["ok"] and "导入成功" in response.json()["message"]
    sub.refresh_from_db()
    v = sub.values
    assert v["open_bed_days"] == 1200 and type(v["open_bed_days"]) is int
    assert v["occupied_bed_days"] == "--"
    assert v["discharged_patients"] == 0 and type(v["discharged_patients"]) is int  # 0 and "--" stay different
    assert v["outpatient_visits"] == 1234
    assert v["avg_length_of_stay"] == 7.5
    assert v["is_typical"] is True and v["report_type"] == "牵头医院" and v["org_code"] == "12345678"
    assert sub.status == Status.DRAFT
    [member] = MemberEntry.objects.filter(submission=sub)
    assert member.values == {"hospital_name": "济南市中医医院", "open_beds": 40, "discharged_patients": "--"}
    assert sub.result["indicators"]["t3.i01"] is None  # occupied "--": not computable
    assert AuditEvent.objects.filter(action="template_import", object_id=str(sub.pk)).exists()

    # The same file again changes nothing; a template downloaded now round-trips to the same values.
    again = upload(client, cast.jinan_urban, sub, data).json()
    assert again["ok"] and again["saved"] == 0 and "没有需要更新" in again["message"]
    fresh = download(client, cast.jinan_urban, sub)
    assert upload(client, cast.jinan_urban, sub, fresh).json()["saved"] == 0
    sub.refresh_from_db()
    assert sub.values == v
    assert MemberEntry.objects.filter(submission=sub).count() == 1


def test_it_takes_a_percent_typed_with_a_percent_sign_in_excel_as_the_number_shown(cast, client):
    sub = cast.submission(cast.jinan_urban, "t3")
    wb = openpyxl.load_workbook(io.BytesIO(download(client, cast.jinan_urban, sub)))
    ws = wb["填报表"]
    [row] = [r[0].row for r in ws.iter_rows(min_row=4) if r[0].value == "bed_occupancy_rate"]
    ws.cell(row=row, column=5, value=0.855).number_format = "0.0%"  # what Excel stores for a typed "85.5%"
    out = io.BytesIO()
    wb.save(out)
    assert upload(client, cast.jinan_urban, sub, out.getvalue()).json()["ok"]
    sub.refresh_from_db()
    assert sub.values["bed_occupancy_rate"] == 85.5


def test_it_reports_every_bad_cell_with_sheet_cell_and_label_and_saves_nothing(cast, client):
    sub = cast.submission(cast.jinan_urban, "t3")
    entry = actions.member_add(acting_user=cast.jinan_urban, submission_id=sub.pk)
    revision = Submission.objects.get(pk=sub.pk).revision
    template = download(client, cast.jinan_urban, sub)
    data = fill(template, {"open_bed_days": "abc", "occupied_bed_days": -5, "discharged_patients": 1.5,
                           "total_surgeries": 10, "report_type": "社区医院"},
                members=[{"open_beds": "十二"}])
    response = upload(client, cast.jinan_urban, sub, data)
    assert response.status_code == 400
    report = response.json()
    assert not report["ok"] and "未导入任何数据" in report["message"]
    issues = {(i["sheet"], i["cell"]): i for i in report["issues"]}
    assert issues[("填报表", cell_of(template, "open_bed_days"))]["label"] == "实际开放总床日数"
    assert "请填写数字" in issues[("填报表", cell_of(template, "open_bed_days"))]["message"]
    assert "不能为负数" in issues[("填报表", cell_of(template, "occupied_bed_days"))]["message"]
    assert "应填写整数" in issues[("填报表", cell_of(template, "discharged_patients"))]["message"]
    assert "请从下列选项中选择" in issues[("填报表", cell_of(template, "report_type"))]["message"]
    ms = openpyxl.load_workbook(io.BytesIO(template))["成员单位"]
    col = next(c.column_letter for c in ms[1] if c.value == "open_beds")
    member_issue = issues[("成员单位", f"{col}4")]
    assert member_issue["label"] == "实际开放床位数" and "请填写数字" in member_issue["message"]
    assert len(report["issues"]) == 5
    sub.refresh_from_db()
    assert sub.values == {} and sub.revision == revision  # total_surgeries=10 was fine but is not saved
    assert MemberEntry.objects.get(pk=entry.pk).values == {}

    page = client.post(reverse("exports:template_upload", args=[sub.pk]),
                       {"file": SimpleUploadedFile("t.xlsx", data, content_type=XLSX)})
    assert page.status_code == 400
    html = page.content.decode()
    assert cell_of(template, "open_bed_days") in html and "实际开放总床日数" in html


def _other_task(cast):
    now = timezone.now()
    task = actions.task_create(acting_user=None, code="t2018", name="2018年分级诊疗第三方评估",
                               period_start=dt.date(2018, 1, 1), period_end=dt.date(2018, 6, 30),
                               window_open=now - dt.timedelta(days=1), window_close=now + dt.timedelta(days=5),
                               catalog_slug=cast.task.catalog_slug, is_current=False)
    actions.submissions_ensure(acting_user=None, task=task)
    return task


def _assert_refused(response, sub, words: str):
    assert response.status_code == 400
    report = response.json()
    assert not report["ok"] and words in report["message"] and "未导入任何数据" in report["message"]
    sub.refresh_from_db()
    assert sub.values == {}


def test_it_refuses_a_template_of_another_unit(cast, client):
    other = cast.submission(cast.jinan_urban2, "t3")
    data = fill(download(client, cast.jinan_urban2, other), {"open_bed_days": 10})
    sub = cast.submission(cast.jinan_urban, "t3")
    _assert_refused(upload(client, cast.jinan_urban, sub, data), sub, "其他单位")


def test_it_refuses_a_template_of_another_form(cast, client):
    unit = cast.jinan_urban.unit
    t4 = TaskForm.objects.get(task=cast.task, form_code="t4").version
    second = Submission.objects.create(task=cast.task, unit=unit, form_code="t4", form_version=t4)
    data = fill(download(client, cast.jinan_urban, second), {"open_bed_days": 10})
    sub = cast.submission(cast.jinan_urban, "t3")
    _assert_refused(upload(client, cast.jinan_urban, sub, data), sub, "表4")


def test_it_refuses_a_template_of_another_task(cast, client):
    old = Submission.objects.get(task=_other_task(cast), unit=cast.jinan_urban.unit, form_code="t3")
    data = fill(download(client, cast.jinan_urban, old), {"open_bed_days": 10})
    sub = cast.submission(cast.jinan_urban, "t3")
    _assert_refused(upload(client, cast.jinan_urban, sub, data), sub, "其他填报任务")


def test_it_refuses_a_template_whose_marker_was_altered_or_removed(cast, client):
    sub = cast.submission(cast.jinan_urban, "t3")
    data = fill(download(client, cast.jinan_urban, sub), {"open_bed_days": 10})
    wb = openpyxl.load_workbook(io.BytesIO(data))
    token = wb["__meta__"]["B1"].value
    wb["__meta__"]["B1"] = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    tampered = io.BytesIO()
    wb.save(tampered)
    _assert_refused(upload(client, cast.jinan_urban, sub, tampered.getvalue()), sub, "标记校验失败")

    del wb["__meta__"]
    stripped = io.BytesIO()
    wb.save(stripped)
    _assert_refused(upload(client, cast.jinan_urban, sub, stripped.getvalue()), sub, "缺少模板标记")

    _assert_refused(upload(client, cast.jinan_urban, sub, "单位,值\n1,2".encode(), name="a.csv"), sub, "无法读取")


def test_it_refuses_an_import_when_the_form_cannot_be_changed(cast, client):
    sub = cast.submission(cast.jinan_urban, "t3")
    data = fill(download(client, cast.jinan_urban, sub), {"open_bed_days": 10})
    _assert_refused(upload(client, cast.jinan_reviewer, sub, data), sub, "只有本单位的填报用户")
    Submission.objects.filter(pk=sub.pk).update(status=Status.SUBMITTED)
    _assert_refused(upload(client, cast.jinan_urban, sub, data), sub, "已上报")
    client.force_login(cast.qingdao_urban)
    assert client.get(reverse("exports:template", args=[sub.pk])).status_code == 404


def test_it_never_overwrites_a_value_changed_on_the_web_page_after_the_download(cast, client):
    sub = cast.submission(cast.jinan_urban, "t3")
    template = download(client, cast.jinan_urban, sub)
    save(cast.jinan_urban, sub, {"open_bed_days": "5"})  # typed on the page after the download

    report = upload(client, cast.jinan_urban, sub, fill(template, {"open_bed_days": 7})).json()
    assert not report["ok"]
    [issue] = report["issues"]
    assert issue["cell"] == cell_of(template, "open_bed_days") and "网页上已将该项改为“5”" in issue["message"]

    report = upload(client, cast.jinan_urban, sub, fill(template, {"total_surgeries": 9})).json()
    assert report["ok"]
    sub.refresh_from_db()
    assert sub.values == {"open_bed_days": 5, "total_surgeries": 9}  # the untouched row did not reset it


def test_it_offers_download_and_upload_on_the_data_entry_page(cast):
    sub = cast.submission(cast.jinan_urban, "t3")
    request = RequestFactory().get("/forms/1/")
    request.user = cast.jinan_urban
    html = render_to_string("exports/_template_box.html", {"submission": sub}, request=request)
    assert reverse("exports:template", args=[sub.pk]) in html
    assert reverse("exports:template_upload", args=[sub.pk]) in html and 'enctype="multipart/form-data"' in html
    # the entry page's own verdict wins (window closed, read-only view …)
    html = render_to_string("exports/_template_box.html", {"submission": sub, "editable": False}, request=request)
    assert "下载填报模板" in html and "上传填报模板" not in html
    request.user = cast.jinan_reviewer
    html = render_to_string("exports/_template_box.html", {"submission": sub}, request=request)
    assert "下载填报模板" in html and "上传填报模板" not in html
    request.user = cast.jinan_urban
    Submission.objects.filter(pk=sub.pk).update(status=Status.SUBMITTED)
    sub.refresh_from_db()
    html = render_to_string("exports/_template_box.html", {"submission": sub}, request=request)
    assert "下载填报模板" in html and "上传填报模板" not in html
