"""Loading and validating catalog definitions."""

import copy
import hashlib
import json

import pytest

from engine import Catalog, CatalogError, FormDefinition, load_catalog_dir
from tests.engine.casework import load_fixture

MEMBERS = load_fixture("members.json")


def lead_and_sub():
    return copy.deepcopy(MEMBERS["form"]), copy.deepcopy(MEMBERS["subform"])


def problems_of(*forms):
    with pytest.raises(CatalogError) as err:
        Catalog(list(forms))
    return "\n".join(err.value.problems)


def test_it_resolves_subform_links():
    lead, sub = lead_and_sub()
    catalog = Catalog([lead, sub])
    assert catalog["tl"].subform is catalog["tlm"]
    assert catalog["tlm"].parent == "tl"
    assert {f.code for f in catalog} == {"tl", "tlm"}


def test_it_reports_duplicate_field_codes():
    lead, sub = lead_and_sub()
    lead["fields"].append(dict(lead["fields"][0]))
    assert "字段 member_count：字段代码重复" in problems_of(lead, sub)


def test_it_reports_unknown_identifiers_in_expr_condition_and_of():
    lead, sub = lead_and_sub()
    lead["checks"][0]["expr"] = "count(members) <= member_cnt"
    lead["fields"][1]["condition"] = "nothere == 1"
    lead["fields"][2]["of"] = "missing_total"
    lead["indicators"][0]["expr"] = "sum(members.staf)"
    text = problems_of(lead, sub)
    assert "未知字段“member_cnt”" in text
    assert "nothere" in text
    assert "of 指向的字段“missing_total”不存在" in text
    assert "成员子表中没有字段“staf”" in text


def test_it_reports_every_problem_at_once():
    lead, sub = lead_and_sub()
    lead["checks"][0]["expr"] = "a +"
    lead["checks"][1]["severity"] = "fatal"
    lead["indicators"][0]["target"] = {"op": "~", "value": "x"}
    with pytest.raises(CatalogError) as err:
        Catalog([lead, sub])
    assert len(err.value.problems) >= 4


def test_it_requires_children_fields_to_exist_in_another_form():
    lead, sub = lead_and_sub()
    other = {
        "code": "tz",
        "title": "下级",
        "unit_level": "member",
        "subform": None,
        "parent": None,
        "fields": [{"code": "beds_total", "label": "床位", "type": "count"}],
        "checks": [],
        "indicators": [],
    }
    lead["checks"].append(
        {
            "code": "tl.c09",
            "severity": "soft",
            "scope": "children",
            "expr": "sum_known(children.beds_total) >= 0",
        }
    )
    Catalog([lead, sub, other])
    lead["checks"][-1]["expr"] = "sum_known(children.no_such_field) >= 0"
    assert "下级单位的表中没有字段“no_such_field”" in problems_of(lead, sub, other)


def test_it_checks_scope_against_the_expression():
    lead, sub = lead_and_sub()
    lead["checks"][0]["scope"] = "form"
    assert "scope 应为 members" in problems_of(lead, sub)


def test_it_checks_message_placeholders():
    lead, sub = lead_and_sub()
    lead["checks"][0]["message"] = "{member_count.label}（{membercount}）"
    assert "占位符“{membercount}”不是本表字段" in problems_of(lead, sub)


def test_it_checks_subform_links():
    lead, sub = lead_and_sub()
    sub["parent"] = "t9"
    assert "parent“t9”不在目录中" in problems_of(lead, sub)
    assert "子表“tlm”不在目录中" in problems_of(lead_and_sub()[0])


def test_it_requires_unique_check_codes_across_the_catalog():
    lead, sub = lead_and_sub()
    sub["checks"][0]["code"] = "tl.c01"
    assert "“tl.c01”在表单" in problems_of(lead, sub)


def test_it_refuses_derived_code_collisions_and_bad_field_types():
    fx = load_fixture("derived_checks.json")["form"]
    fx = copy.deepcopy(fx)
    fx["checks"] = [
        {"code": "td.of.referral_up", "severity": "hard", "scope": "form", "expr": "referral_up >= 0"}
    ]
    fx["fields"][0]["type"] = "integer"
    with pytest.raises(CatalogError) as err:
        FormDefinition(fx)
    text = "\n".join(err.value.problems)
    assert "与自动生成的规则重复" in text
    assert "类型“integer”未知" in text


def test_it_hashes_the_canonical_json():
    form_dict = load_fixture("missing_semantics.json")["form"]
    canonical = json.dumps(form_dict, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert FormDefinition(form_dict).content_hash == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    reordered = dict(reversed(list(form_dict.items())))
    assert FormDefinition(reordered).content_hash == FormDefinition(form_dict).content_hash


def test_it_loads_a_catalog_folder(tmp_path):
    lead, sub = lead_and_sub()
    (tmp_path / "tl.json").write_text(json.dumps(lead, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "tlm.json").write_text(json.dumps(sub, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "manifest.json").write_text(
        json.dumps({"slug": "demo", "name": "演示", "forms": ["tl.json", "tlm.json"]}), encoding="utf-8"
    )
    catalog = load_catalog_dir(tmp_path)
    assert catalog.slug == "demo" and len(catalog) == 2 and "tlm" in catalog


def test_it_reports_missing_files_in_the_manifest(tmp_path):
    (tmp_path / "manifest.json").write_text(
        json.dumps({"slug": "x", "forms": ["nope.json"]}), encoding="utf-8"
    )
    with pytest.raises(CatalogError, match="nope.json 不存在"):
        load_catalog_dir(tmp_path)
