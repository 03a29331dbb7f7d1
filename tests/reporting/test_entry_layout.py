"""How a catalog form is laid out on the data-entry page (headings, progress, conditional items)."""

from __future__ import annotations

from reporting.entry_layout import condition_holds, display_value, layout, navigation, progress

FORM = {"fields": [
    {"code": "name", "label": "医院名称", "section": ["基本信息"], "type": "text"},
    {"code": "category", "label": "医院类别", "section": ["基本信息"], "type": "choice", "choices": ["综合医院", "中医医院"]},
    {"code": "tcm", "label": "中医重点专科数", "section": ["基本信息"], "type": "count",
     "condition": "category == '中医医院'"},
    {"code": "beds", "label": "床位数", "section": ["一、资源", "（一）床位", "1.床位数"], "type": "count"},
    {"code": "note", "label": "备注", "section": ["一、资源", "（一）床位", "1.床位数"], "type": "text", "optional": True},
    {"code": "fee", "label": "是否收费", "section": ["一、资源", "（二）签约"], "type": "yesno"},
    {"code": "fee_amount", "label": "收费标准", "section": ["一、资源", "（二）签约"], "type": "decimal",
     "condition": "fee == true"},
]}


def test_it_puts_a_heading_wherever_the_section_path_changes():
    items = layout(FORM, {})
    titles = [(i.level, i.title) for i in items if i.is_heading]
    assert titles == [(0, "基本信息"), (0, "一、资源"), (1, "（一）床位"), (2, "1.床位数"), (1, "（二）签约")]
    assert [h.title for h in navigation(items)] == ["基本信息", "一、资源", "（一）床位", "1.床位数", "（二）签约"]


def test_it_counts_progress_over_required_visible_items_per_section():
    items = layout(FORM, {"name": "某医院", "beds": 0, "note": "x", "fee": True})
    # name, category, beds, fee, fee_amount are required and shown; tcm is hidden; note is optional.
    assert progress(items) == (3, 5)
    headings = {i.title: (i.filled, i.required) for i in items if i.is_heading}
    assert headings["基本信息"] == (1, 2)
    assert headings["一、资源"] == (2, 3)
    assert headings["（二）签约"] == (1, 2)


def test_it_counts_dashes_and_zero_as_filled():
    items = layout(FORM, {"beds": "--", "name": 0})
    rows = {i.code: i for i in items if not i.is_heading}
    assert rows["beds"].filled and rows["beds"].display == "--"
    assert rows["name"].filled and rows["name"].display == "0"
    assert not rows["category"].filled and rows["category"].display == ""


def test_it_shows_conditional_items_only_when_the_condition_holds():
    assert not condition_holds("category == '中医医院'", {})
    assert not condition_holds("category == '中医医院'", {"category": "综合医院"})
    assert condition_holds("category == '中医医院'", {"category": "中医医院"})
    assert condition_holds("fee == true", {"fee": True})
    assert not condition_holds("fee == true", {"fee": "--"})
    assert condition_holds("not fee", {"fee": False})
    assert condition_holds("this is not an expression ((", {})  # unreadable: show rather than hide input


def test_it_shows_stored_values_as_they_are_typed():
    assert display_value(True, "yesno") == "true" and display_value(False, "yesno") == "false"
    assert display_value(12.5, "decimal") == "12.5" and display_value(1234, "count") == "1234"
    assert display_value(None, "count") == "" and display_value("--", "yesno") == "--"


def test_it_names_member_fields_by_member_key():
    items = layout(FORM, {}, member="k1", anchor_prefix="mk1-s")
    row = next(i for i in items if not i.is_heading)
    assert row.key == "k1/name" and row.dom_id == "i-k1-name"
    assert next(i for i in items if i.is_heading).anchor == "mk1-s1"
