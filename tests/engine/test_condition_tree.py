"""One condition language: the engine compiles a field's condition to a JSON tree, static/js/condition.js
evaluates the tree; on a table of cases the browser and the engine agree (three-valued: true / false / unknown).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from engine import CatalogError, FormDefinition
from engine.conditions import ConditionError, condition_tree, evaluate_condition

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")

CASES: list[tuple[str, dict]] = [
    ("not a == 1", {"a": 2}),
    ("not a == 1", {"a": 1}),
    ("not a == 1", {}),
    ("a + 1 > 2", {"a": 2}),
    ("a + 1 > 2", {"a": 1}),
    ("a + 1 > 2", {"a": "--"}),
    ("a + 1 > 2", {}),
    ("a + 1 > 2", {"a": "3"}),
    ("a == '--'", {"a": "--"}),
    ("a == 1", {"a": "—"}),
    ("a != 1", {"a": ""}),
    ("a == true", {"a": True}),
    ("a == true", {"a": False}),
    ("a == true", {"a": 1}),
    ("a == true", {}),
    ("hospital_category == '中医医院'", {"hospital_category": "中医医院"}),
    ("hospital_category == '中医医院'", {"hospital_category": "综合医院"}),
    ("hospital_category == '中医医院'", {"hospital_category": 3}),
    ("a < 'x'", {"a": "y"}),
    ("a > 1 and b > 1", {"a": 2}),
    ("a > 1 and b > 1", {"a": 0}),
    ("a > 1 or b > 1", {"a": 2}),
    ("a > 1 or b > 1", {"a": 0}),
    ("a > 1 or b > 1", {"a": 0, "b": "--"}),
    ("not (a > 1 and b > 1)", {"a": 0}),
    ("not (a > 1 and b > 1)", {"a": 2}),
    ("a / b > 1", {"a": 2, "b": 0}),
    ("a / b >= 0.5", {"a": 1, "b": 2}),
    ("a * 3 == 0.3", {"a": 0.1}),
    ("-a < 0", {"a": 5}),
    ("abs(a - b) <= 0.5 * b", {"a": 10, "b": 8}),
    ("max(a, b, 3) == 3", {"a": 1, "b": 2}),
    ("min(a, b) > 0", {"a": 1, "b": "--"}),
    ("filled(a)", {"a": "--"}),
    ("filled(a)", {"a": "  "}),
    ("filled(a)", {}),
    ("missing(a)", {"a": "--"}),
    ("missing(a)", {"a": 0}),
    ("a", {"a": 0}),
    ("a", {"a": 5}),
    ("a", {"a": "--"}),
    ("a and true", {"a": "文本"}),
    ("a == 1", {"a": 1.0000000001}),
    ("a >= 1 and a <= 2", {"a": 1.5}),
    ("a >= 1 and a <= 2", {"a": True}),
    ("a + b == 3", {"a": True, "b": 2}),
]


def _engine(cases):
    return [evaluate_condition(source, values) for source, values in cases]


def _js(cases) -> list:
    payload = json.dumps([[condition_tree(source), values] for source, values in cases], ensure_ascii=False)
    module = (ROOT / "static" / "js" / "condition.js").as_uri()
    script = (f"import {{ evaluateCondition }} from {json.dumps(module)};\n"
              f"const cases = {payload};\n"
              "console.log(JSON.stringify(cases.map(([t, v]) => evaluateCondition(t, v))));\n")
    proc = subprocess.run([NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_it_knows_the_engine_answers_of_the_table():
    assert evaluate_condition("not a == 1", {"a": 2}) is True
    assert evaluate_condition("a + 1 > 2", {"a": 2}) is True
    assert evaluate_condition("a + 1 > 2", {"a": "--"}) is None
    assert evaluate_condition("a + 1 > 2", {}) is None


@pytest.mark.skipif(NODE is None, reason="needs node to run static/js/condition.js")
def test_it_evaluates_every_case_in_the_browser_as_the_engine_does():
    engine, js = _engine(CASES), _js(CASES)
    disagreements = [(source, values, e, j) for (source, values), e, j in zip(CASES, engine, js, strict=True)
                     if e != j]
    assert disagreements == []


@pytest.mark.parametrize("source", ["prev(a) > 1", "sum(members.a) > 1", "peer_median(a) > 1", "count(members) > 0"])
def test_it_refuses_a_condition_the_browser_cannot_evaluate(source):
    with pytest.raises(Exception) as info:
        condition_tree(source)
    assert isinstance(info.value, (ConditionError, ValueError))


def test_it_refuses_such_a_condition_in_the_catalog():
    form = {"code": "x1", "title": "x", "unit_level": "city", "fields": [
        {"code": "a", "label": "甲", "type": "count", "unit": "个"},
        {"code": "b", "label": "乙", "type": "count", "unit": "个", "condition": "prev(a) > 1"}]}
    with pytest.raises(CatalogError) as info:
        FormDefinition(form)
    assert "b" in str(info.value) and "condition" in str(info.value)


def test_it_compiles_the_catalog_conditions_for_the_page():
    form = {"code": "x1", "title": "x", "unit_level": "city", "fields": [
        {"code": "a", "label": "甲", "type": "count", "unit": "个"},
        {"code": "b", "label": "乙", "type": "count", "unit": "个", "condition": "a + 1 > 2"}]}
    compiled = FormDefinition(form)
    assert compiled.condition_trees() == {"b": {"cmp": ">", "l": {"arith": "+", "l": {"field": "a"},
                                                                  "r": {"num": 1}}, "r": {"num": 2}}}
