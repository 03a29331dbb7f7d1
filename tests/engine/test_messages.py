"""Messages a clerk can act on: labels, the values entered, the arithmetic."""

import json

import pytest

from engine import evaluate, format_value
from tests.engine.casework import assert_case, build_form, case_params, load_fixture, run_case


@pytest.mark.parametrize(("form", "case"), case_params("messages.json"))
def test_it_shows_labels_and_values_in_messages(form, case):
    assert_case(run_case(form, case), case["expect"])


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (120, "120"),
        (120.0, "120"),
        (2.5, "2.5"),
        (1 / 3, "0.3333"),
        ("--", "--"),
        (" －－ ", "--"),
        (None, "未填"),
        (True, "是"),
        (False, "否"),
        ("三级甲等", "三级甲等"),
    ],
)
def test_it_formats_values_for_clerks(value, shown):
    assert format_value(value) == shown


def test_it_returns_a_json_ready_result():
    form = build_form(load_fixture("messages.json"))
    result = evaluate(form, {"a": 120, "b": 100, "c": 20})
    data = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert set(data) >= {"indicators", "reasons", "violations", "attainment", "blocking"}
    v = data["violations"][0]
    assert set(v) >= {"check", "severity", "message", "fields", "member", "explained"}
    assert v["fields"] == ["a", "b"] and v["member"] is None
