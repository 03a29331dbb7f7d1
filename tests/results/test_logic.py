"""The plain-Python result logic, from JSON fixtures with hand-computed answers (no database)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from results.logic import ranking, scoring, targets

FIXTURES = Path(__file__).parent / "fixtures"
LOGIC = Path(scoring.__file__).parent


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_it_judges_every_target_level_separately_and_never_judges_a_missing_value():
    case = load("layered_targets.json")
    for c in case["cases"]:
        judged = targets.attainment(c["value"], case["targets"])
        assert [t["level"] for t in judged["targets"]] == ["nation", "city"]  # widest level first
        assert {t["level"]: t["attained"] for t in judged["targets"]} == c["levels"], c
        assert judged["attained"] is c["attained"], c


def test_it_scores_a_hand_computed_case_and_grades_it():
    case = load("scoring_case.json")
    for code, unit in case["units"].items():
        result = scoring.score(case["scheme"], unit["values"])
        assert {i["code"]: i["points"] for i in result["items"]} == unit["points"], code
        assert result["total"] == unit["total"], code
        assert result["grade"] == unit["grade"], code


def test_it_leaves_missing_items_unscored_instead_of_zero():
    case = load("scoring_case.json")
    u2 = scoring.score(case["scheme"], case["units"]["u2"]["values"])
    # A is missing: 50 earned of the 60 scored weight, not 50 of 100
    assert u2["total"] == 83.33 and u2["coverage"] == 0.6


def test_it_applies_a_provinces_adjusted_weights_and_added_items_without_touching_the_base():
    case = load("scoring_case.json")
    base = case["scheme"]
    adjusted = scoring.adjust(base, weights=case["province"]["weights"], code="case-370000")
    for code, expected in case["province"]["expected"].items():
        result = scoring.score(adjusted, case["units"][code]["values"])
        assert (result["total"], result["grade"]) == (expected["total"], expected["grade"])
    assert base["items"][0]["weight"] == 40
    with_added = scoring.adjust(base, weights=case["province"]["weights"], added=case["province"]["added"])
    expected = case["province"]["expected_with_added"]["u1"]
    result = scoring.score(with_added, case["units"]["u1"]["values"])
    assert (result["total"], result["grade"]) == (expected["total"], expected["grade"])


def test_it_refuses_adjustments_naming_unknown_items_or_unnamed_additions():
    base = load("scoring_case.json")["scheme"]
    with pytest.raises(scoring.SchemeError):
        scoring.adjust(base, weights={"Z": 5})
    with pytest.raises(scoring.SchemeError):
        scoring.adjust(base, added=[{"code": "Q", "weight": 1, "rule": {"type": "rubric"}}])


def test_it_ranks_peers_with_ties_and_skips_missing_values():
    ranks = ranking.rank({"a": 10, "b": 30, "c": 30, "d": None, "e": 5})
    assert ranks["b"]["rank"] == ranks["c"]["rank"] == 1
    assert ranks["a"]["rank"] == 3 and ranks["e"]["rank"] == 4
    assert "d" not in ranks and ranks["a"]["n"] == 4
    assert ranks["e"]["percentile"] == 0.0 and ranks["b"]["percentile"] == 100.0
    lower = ranking.rank({"a": 10, "b": 8}, higher_is_better=False)
    assert lower["b"]["rank"] == 1


def test_it_keeps_the_shipped_schemes_valid_against_the_26hao_system():
    from results.logic import items

    system = items.load_json(items.SYSTEMS_DIR / "yljx2018.json")
    for annex in ("a1", "a2"):
        scheme = items.load_json(items.SCHEMES_DIR / f"yljx2018-{annex}.json")
        scoring.validate(scheme, {i["code"] for i in items.annex(system, annex)["items"]})
    a2 = items.annex(system, "a2")["items"]
    assert len({i["no"] for i in a2}) == 37  # 附件2 has 37 third-level items
    assert len({i["no"] for i in items.annex(system, "a1")["items"]}) == 39


def test_it_keeps_django_out_of_the_logic_package():
    for path in LOGIC.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "django" for n in names), path
