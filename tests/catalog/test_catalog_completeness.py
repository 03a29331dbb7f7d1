"""The catalog against the document it was transcribed from (seed 002, 第二部分 考核指标框架).

Every field label must stand in the document word for word and in the document's order, and once every label
and heading is taken out of a form's part of the document nothing may remain but titles, "其中", numbering and
units: that is what "every field, with its exact label" means, checked mechanically.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reporting.catalog_loader import CATALOG_ROOT

SEED = Path(__file__).resolve().parents[2].parent / "shared" / "seeds" / "002_4dca3a86e03f15ed.txt"
FORMS = ["t1", "t2", "t3", "t3m", "t4", "t4m"]
# Where each form's part of the document starts (whitespace removed).
STARTS = {
    "t1": "表1分级诊疗制度第三方评估省级层面评价考核表",
    "t2": "表2分级诊疗制度第三方评估市级层面评价考核表",
    "t3": "表3城市医联体效果评价考核表",
    "t3m": "（城市医联体成员单位（帮扶医院）填报）",
    "t4": "表4县域医疗联合体效果评价考核表",
    "t4m": "（县域医疗联合体帮扶的乡镇卫生院填报）",
    "end": "二、部分评估考核指标说明",
}
# 表3 and its member table hold "类型及数目" as one count (表3) or one yes/no (成员单位) per kind of 医联体,
# beside the one-type fields of earlier versions (kept so earlier answers stay readable): 4 fields more each.
EXPECTED_FIELDS = {"t1": 116, "t2": 144, "t3": 92, "t3m": 44, "t4": 73, "t4m": 15}
# Labels that are not verbatim, each for a reason the platform documents:
ADAPTED = {
    # "占区域内贫困人口的____%": the blank becomes a percent input, named by what it is.
    "家庭医生签约的贫困人口数占区域内贫困人口的比例",
    # "最长为______周（平均数）": the blank becomes the input, with unit 周.
    "试点病种患者在医疗机构开具处方用量最长（平均数）",
    # "类型及数目" is split into a choice and a count.
    "三级医院参与形成的医联体的数目",
    # ... and, since a hospital takes part in several kinds of 医联体, into one count / one yes-no per kind
    # (the kinds are those of 医疗联合体管理办法 and of the member table's 类型).
    *(f"三级医院参与形成的医联体的数目（{kind}）" for kind in ("城市医疗集团", "县域医共体", "专科联盟", "远程医疗协作网")),
    *(f"参与形成的医联体的类型（{kind}）" for kind in ("城市医疗集团", "县域医共体", "专科联盟", "远程医疗协作网")),
    # Added by the platform to drive the "（中医医院填写）" condition.
    "医院类别",
}
# What may remain of a form's text once labels and headings are removed: titles, fillers and headings the
# PDF split across a page break.
NOISE = [
    "分级诊疗制度第三方评估省级层面评价考核表", "分级诊疗制度第三方评估市级层面评价考核表", "城市医联体效果评价考核表",
    "县域医疗联合体效果评价考核表", "省级卫生健康行政部门填报", "市级卫生健康行政部门填报", "城市医联体牵头医院填报",
    "县域医疗联合体牵头医院填报", "城市医联体成员单位填报", "县域医疗联合体帮扶的乡镇卫生院填报", "省新疆生产建设兵团",
    "分级诊疗转诊患者年增长率", "每个政府办乡镇卫生院拥有的全科医生数", "试点病种患者在医疗机构开具处方用量最长为周",
    "家庭医生签约的贫困人口数占区域内贫困人口的", "元/人/年", "其中", "表", "是", "数",
]


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def document() -> str:
    if not SEED.exists():
        pytest.skip(f"seed document not found at {SEED}")
    return _norm(SEED.read_text(encoding="utf-8"))


def _form(code: str) -> dict:
    return json.loads((CATALOG_ROOT / "fjzl2019" / f"{code}.json").read_text(encoding="utf-8"))


def _region(document: str, code: str) -> str:
    following = FORMS[FORMS.index(code) + 1] if code != FORMS[-1] else "end"
    return document[document.index(STARTS[code]):document.index(STARTS[following])]


@pytest.mark.parametrize("code", FORMS)
def test_it_holds_every_field_of_the_form_with_its_exact_label_in_document_order(document, code):
    form = _form(code)
    region = _region(document, code)
    assert len(form["fields"]) == EXPECTED_FIELDS[code]
    cursor = 0
    for field in form["fields"]:
        label = _norm(field["label"])
        if field["label"] in ADAPTED:
            continue
        found = region.find(label, cursor)
        assert found >= 0, f"{code}: “{field['label']}” is not in the document after the previous field"
        cursor = found + len(label)


@pytest.mark.parametrize("code", FORMS)
def test_it_leaves_nothing_of_the_form_untranscribed(document, code):
    form = _form(code)
    rest = _region(document, code)
    pieces = {_norm(f["label"]) for f in form["fields"]} | {_norm(s) for f in form["fields"] for s in f["section"]}
    for piece in sorted(pieces, key=len, reverse=True):
        rest = rest.replace(piece, "")
    rest = re.sub(r"[（(][^）)]{0,8}[）)]", "", rest)  # units such as （个）（例）
    rest = re.sub(r"[0-9０-９.、：:，,。？?_%（）()]", "", rest)
    for noise in sorted(NOISE, key=len, reverse=True):
        rest = rest.replace(noise, "")
    assert rest == "", f"{code}: text of the form not covered by any field: {rest[:200]}"


@pytest.mark.parametrize(("code", "field", "label", "unit", "type_"), [
    ("t1", "grassroots_total", "基层医疗卫生机构总数", "个", "count"),
    ("t1", "registered_population", "户籍总人数", "人", "count"),
    ("t2", "infant_mortality", "婴幼儿死亡率", "‰", "decimal"),
    ("t2", "maternal_mortality", "孕产妇死亡率", "1/10万", "decimal"),
    ("t3", "ct_report_hours", "CT 平均出报告时间", "小时", "decimal"),
    ("t3", "bed_occupancy_rate", "床位使用率", "%", "percent"),
    ("t3", "has_day_surgery", "是否开展日间手术", "", "yesno"),
    ("t4", "ct_report_hours", "CT 平均出报告时间", "小时", "decimal"),
])
def test_it_gives_fields_their_unit_and_value_type(code, field, label, unit, type_):
    spec = next(f for f in _form(code)["fields"] if f["code"] == field)
    assert (spec["label"], spec["unit"], spec["type"]) == (label, unit, type_)


def test_it_marks_optional_and_tcm_only_items():
    t3 = {f["code"]: f for f in _form("t3")["fields"]}
    optional = [f for f in t3.values() if f["optional"]]
    assert any("脑血管疾病上转、下转人数" in f["label"] for f in optional)
    tcm = [f for f in t3.values() if "中医优势病种" in f["label"]]
    assert tcm and all(f["condition"] == "hospital_category == '中医医院'" for f in tcm)
    assert t3["hospital_level"]["type"] == "choice" and "三级甲等" in t3["hospital_level"]["choices"]


def test_it_nests_fields_under_the_documents_headings():
    t1 = {f["code"]: f for f in _form("t1")["fields"]}
    section = t1["grassroots_standard_total"]["section"]
    assert section[0] == "一、分级诊疗服务体系"
    assert section[1] == "（一）医疗卫生资源配置情况"
    assert section[2].startswith("2.基层医疗卫生机构建设")


def test_it_links_lead_forms_to_their_member_sub_forms():
    assert _form("t3")["subform"] == "t3m" and _form("t3m")["parent"] == "t3"
    assert _form("t4")["subform"] == "t4m" and _form("t4m")["parent"] == "t4"
    assert _form("t4m")["unit_level"] == "member"
