"""The task export workbook as an analyst, a reviewer or a filler opens it in Excel (read back with calamine)."""

from __future__ import annotations

import re

import openpyxl
import pytest

from accounts.models import Unit, UnitLevel
from reporting import actions
from tests.exports.conftest import column, export, has_formula, read_book, row_of, save, sheet_xml

pytestmark = pytest.mark.django_db

ALL_SHEETS = ["表1 省级", "表2 市级", "表3 城市医联体", "表3 成员单位", "表4 县域医共体", "表4 乡镇卫生院"]


def test_it_writes_a_sheet_per_form_and_member_subform_with_a_row_per_unit(cast, tmp_path):
    book = read_book(export(cast.analyst, cast.task, tmp_path))
    assert list(book) == ALL_SHEETS
    for name, level in (("表1 省级", UnitLevel.PROVINCE), ("表2 市级", UnitLevel.CITY),
                        ("表3 城市医联体", UnitLevel.URBAN_ALLIANCE), ("表4 县域医共体", UnitLevel.COUNTY_ALLIANCE)):
        rows = book[name]
        codes = [r[0] for r in rows[2:]]
        expected = sorted(Unit.objects.filter(level=level).values_list("code", flat=True))
        assert sorted(codes) == expected, name
    jinan = row_of(book["表2 市级"], "370100")
    assert jinan[1:5] == ["济南市", "370000", "山东省", "未填报"]


def test_it_heads_each_column_with_section_label_and_unit_and_merges_the_sections(cast, tmp_path):
    path = export(cast.analyst, cast.task, tmp_path)
    rows = read_book(path)["表1 省级"]
    col = column(rows, "户籍总人数（人）")
    assert rows[0][col] == "基本信息"
    grass = column(rows, "达到建设标准的基层医疗卫生机构总数（个）")
    assert rows[0][grass] == "一、分级诊疗服务体系 / （一）医疗卫生资源配置情况 / 2.基层医疗卫生机构建设"
    assert rows[1][:7] == ["单位编码", "单位名称", "上级单位编码", "上级单位名称", "状态", "上报时间", "审核通过时间"]
    # then indicators (label（%）), attainment against the target, and the check results
    assert "基层医疗卫生机构建设达标率（%）" in rows[1]
    assert "基层医疗卫生机构建设达标率（目标≥95%）" in rows[1]
    assert rows[1][-4:] == ["强制性审核未通过（条）", "合理性审核提示（条）", "审核问题", "填报说明"]
    assert rows[0][-4:] == ["审核结果", "", "", ""]  # one merged cell over the four
    xml = next(x for x in sheet_xml(path).values() if "户籍总人数" in x)
    assert re.search(r'<mergeCell ref="A1:G1"/>', xml)  # 单位信息 over the seven unit columns
    assert '<pane xSplit="2" ySplit="2" topLeftCell="C3"' in xml  # header and unit code/name stay visible


def test_it_keeps_numbers_as_numbers_and_not_collected_as_the_text_dashes(cast, tmp_path):
    sub = cast.submission(cast.jinan_urban, "t3")
    save(cast.jinan_urban, sub, {"open_bed_days": "1,200", "occupied_bed_days": "900", "discharged_patients": "--",
                                 "hospital_name": "山东第一医科大学第一附属医院", "is_typical": "是"})
    path = export(cast.analyst, cast.task, tmp_path)
    rows = read_book(path)["表3 城市医联体"]
    row = row_of(rows, "3701001")
    assert row[column(rows, "实际开放总床日数（床日）")] == 1200
    assert isinstance(row[column(rows, "实际开放总床日数（床日）")], float)
    assert row[column(rows, "出院患者人次数（人次）")] == "--"
    assert row[column(rows, "是否是典型经验的医联体")] == "是"
    assert row[column(rows, "状态")] == "填报中"
    # the computed indicator (after the field of the same name), a percent stored as 0–100
    assert row[column(rows, "床位使用率（%）", last=True)] == pytest.approx(75.0)
    untouched = row_of(rows, "3701001-2")
    assert untouched[column(rows, "实际开放总床日数（床日）")] == ""  # not filled: an empty cell, not 0

    ws = openpyxl.load_workbook(path)["表3 城市医联体"]
    header = [c.value for c in ws[2]]
    excel_row = next(r for r in ws.iter_rows(min_row=3) if r[0].value == "3701001")
    assert excel_row[header.index("实际开放总床日数（床日）")].number_format == "#,##0"
    assert excel_row[len(header) - 1 - header[::-1].index("床位使用率（%）")].number_format == "0.00"
    assert excel_row[header.index("出院患者人次数（人次）")].data_type == "s"


def test_it_shows_attainment_and_check_results_with_the_fillers_explanations(cast, tmp_path):
    sub = cast.submission(cast.sd_filler, "t1")
    save(cast.sd_filler, sub, {"grassroots_total": "100", "grassroots_standard_total": "120",
                               "outpatient_avg_cost": "500", "inpatient_avg_cost": "300"})
    actions.submission_save(acting_user=cast.sd_filler, submission_id=sub.pk, changes=[],
                            explanations={"t1.c66": "统计口径说明"})
    rows = read_book(export(cast.analyst, cast.task, tmp_path))["表1 省级"]
    row = row_of(rows, "370000")
    assert row[column(rows, "基层医疗卫生机构建设达标率（%）")] == pytest.approx(120.0)
    assert row[column(rows, "基层医疗卫生机构建设达标率（目标≥95%）")] == "达标"
    assert row[column(rows, "县级医疗机构等级达标率（目标≥100%）")] == "无法计算"
    assert row[column(rows, "强制性审核未通过（条）")] >= 1
    assert "不能大于基层医疗卫生机构总数" in row[column(rows, "审核问题")]
    # the explanation stands under the fields' labels and the check's message, never under a code
    explained = row[column(rows, "填报说明")]
    assert explained.startswith("【住院患者次均费用、门诊患者次均费用】住院患者次均费用（300元）不高于门诊患者次均费用（500元）")
    assert explained.endswith("说明：统计口径说明") and "t1.c66" not in explained

    save(cast.sd_filler, sub, {"grassroots_standard_total": "90", "inpatient_avg_cost": "9000"})
    rows = read_book(export(cast.analyst, cast.task, tmp_path))["表1 省级"]
    assert row_of(rows, "370000")[column(rows, "基层医疗卫生机构建设达标率（目标≥95%）")] == "未达标"
    assert row_of(rows, "370000")[column(rows, "填报说明")] == (
        "【住院患者次均费用、门诊患者次均费用】（该审核提示已不再出现） 说明：统计口径说明")


DANGEROUS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "＝1+1", "＋1", "－1", "＠x", "=HYPERLINK(\"http://x\",\"y\")"]


def test_it_never_turns_a_filled_text_into_a_formula(cast, tmp_path):
    sub = cast.submission(cast.jinan_urban, "t3")
    save(cast.jinan_urban, sub, {"hospital_name": DANGEROUS[0], "org_code": DANGEROUS[1]})
    keys = []
    for text in DANGEROUS[2:]:
        entry = actions.member_add(acting_user=cast.jinan_urban, submission_id=sub.pk)
        save(cast.jinan_urban, sub, {"hospital_name": text}, member=entry.key)
        keys.append(entry.key)
    path = export(cast.analyst, cast.task, tmp_path)
    book = read_book(path)
    lead = row_of(book["表3 城市医联体"], "3701001")
    assert lead[column(book["表3 城市医联体"], "三级医院名称")] == "=1+1"
    assert lead[column(book["表3 城市医联体"], "医院组织机构代码")] == "+SUM(A1)"
    members = book["表3 成员单位"]
    names = [r[column(members, "医院名称")] for r in members[2:]]
    assert names == DANGEROUS[2:]
    assert [r[3] for r in members[2:]] == DANGEROUS[2:]  # 成员单位名称 column too
    assert not has_formula(path)
    ws = openpyxl.load_workbook(path)["表3 成员单位"]
    assert all(ws.cell(row=r, column=4).data_type == "s" for r in range(3, 3 + len(keys)))


def test_it_lists_member_entries_under_their_lead_unit(cast, tmp_path):
    sub = cast.submission(cast.jinan_county, "t4")
    first = actions.member_add(acting_user=cast.jinan_county, submission_id=sub.pk)
    second = actions.member_add(acting_user=cast.jinan_county, submission_id=sub.pk)
    save(cast.jinan_county, sub, {"hospital_name": "城关镇卫生院", "org_code": "12370100MB0000001X",
                                  "outpatient_revenue": "200", "hospital_revenue": "800"}, member=first.key)
    save(cast.jinan_county, sub, {"hospital_name": "东关镇卫生院", "outpatient_revenue": "--"}, member=second.key)
    rows = read_book(export(cast.analyst, cast.task, tmp_path))["表4 乡镇卫生院"]
    # members by name and organisation code as entered (not the entry's internal key)
    assert rows[1][:5] == ["牵头单位编码", "牵头单位名称", "序号", "成员单位名称", "医院组织机构代码"]
    body = rows[2:]
    assert [(r[0], r[2], r[3], r[4]) for r in body] == [("3701002", 1, "城关镇卫生院", "12370100MB0000001X"),
                                                       ("3701002", 2, "东关镇卫生院", "")]
    assert not any(first.key in str(cell) for row in body for cell in row)
    share = column(rows, "门诊收入占医院收入的比例（%）")
    assert body[0][share] == pytest.approx(25.0)
    assert body[1][share] == ""  # "--": not computable, never 0
    assert body[1][column(rows, "门诊收入（元）")] == "--"


def test_it_gives_a_city_reviewer_only_its_own_subtree(cast, tmp_path):
    book = read_book(export(cast.jinan_reviewer, cast.task, tmp_path))
    assert "表1 省级" not in book  # the province is above the city
    assert [r[0] for r in book["表2 市级"][2:]] == ["370100"]
    for name in ("表3 城市医联体", "表4 县域医共体"):
        codes = [r[0] for r in book[name][2:]]
        assert codes and all(c.startswith("370100") for c in codes)
    qingdao = read_book(export(cast.qingdao_reviewer, cast.task, tmp_path))
    assert all(r[0].startswith("370200") for r in qingdao["表3 城市医联体"][2:])


def test_it_gives_a_filler_only_its_own_form(cast, tmp_path):
    book = read_book(export(cast.jinan_urban, cast.task, tmp_path))
    assert list(book) == ["表3 城市医联体", "表3 成员单位"]
    assert [r[0] for r in book["表3 城市医联体"][2:]] == ["3701001"]
    province = read_book(export(cast.sd_filler, cast.task, tmp_path))
    assert list(province) == ["表1 省级"]
    assert [r[0] for r in province["表1 省级"][2:]] == ["370000"]


def test_it_limits_an_export_to_a_units_subtree_when_asked(cast, tmp_path):
    book = read_book(export(cast.analyst, cast.task, tmp_path, unit="510000"))
    assert [r[0] for r in book["表1 省级"][2:]] == ["510000"]
    assert all(r[0].startswith("51") for r in book["表3 城市医联体"][2:])
    # a reviewer asking for another province's subtree gets nothing of it
    other = read_book(export(cast.jinan_reviewer, cast.task, tmp_path, unit="510000"))
    assert list(other) == ["无数据"]


def test_it_exports_the_change_history_as_the_audit_kind(cast, tmp_path):
    sub = cast.submission(cast.jinan_urban, "t3")
    save(cast.jinan_urban, sub, {"open_bed_days": "100"})
    save(cast.jinan_urban, sub, {"open_bed_days": "--"})
    save(cast.qingdao_urban, cast.submission(cast.qingdao_urban, "t3"), {"open_bed_days": "7"})
    rows = read_book(export(cast.jinan_reviewer, cast.task, tmp_path, kind="audit"))["修改记录"]
    assert rows[0][:3] == ["修改时间", "单位编码", "单位名称"]
    body = [r for r in rows[1:] if r[5] == "open_bed_days"]
    assert [(r[1], r[6], r[7], r[8]) for r in body] == [("3701001", "实际开放总床日数", "", 100),
                                                       ("3701001", "实际开放总床日数", 100, "--")]
