"""Shared helpers of the engine tests: load a JSON fixture, build its form, run a case, compare expectations."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from engine import Catalog, FormDefinition, Result, evaluate

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def build_form(fx: dict[str, Any]) -> FormDefinition:
    """The fixture's form; with a "subform" both are loaded as a catalog so members.x is resolved."""
    if fx.get("subform"):
        return Catalog([fx["form"], fx["subform"]])[fx["form"]["code"]]
    return FormDefinition(fx["form"])


def case_params(name: str) -> list[Any]:
    fx = load_fixture(name)
    form = build_form(fx)
    return [pytest.param(form, case, id=case["name"]) for case in fx["cases"]]


def run_case(form: FormDefinition, case: dict[str, Any]) -> Result:
    return evaluate(
        form,
        case.get("values", {}),
        members=case.get("members"),
        children=case.get("children"),
        previous=case.get("previous"),
        previous_members=case.get("previous_members"),
        peers=case.get("peers"),
        explanations=case.get("explanations"),
        earlier=[(e.get("values"), e.get("members")) if e else None for e in case.get("earlier", [])] or None,
    )


def _key(v: Any) -> str:
    return v.check if v.member is None else f"{v.check}#{v.member}"


def assert_case(result: Result, expect: dict[str, Any]) -> None:
    """Compare a Result with a fixture's "expect" block; only the keys given are compared."""
    data = result.to_dict()
    json.dumps(data, ensure_ascii=False)  # JSON-ready
    for code, want in expect.get("indicators", {}).items():
        got = result.indicators[code]
        if want is None:
            assert got is None, f"{code}: expected not computable, got {got}"
        else:
            assert got is not None and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), (
                f"{code}: {got} != {want}"
            )
    if "not_computable" in expect:
        got = sorted(c for c, v in result.indicators.items() if v is None)
        assert got == sorted(expect["not_computable"])
        for code in got:
            assert result.reasons.get(code), f"{code} has no reason"
    for code, text in expect.get("reasons", {}).items():
        assert text in result.reasons.get(code, ""), f"{code}: {result.reasons.get(code)!r} lacks {text!r}"
    if "violations" in expect:
        assert sorted(_key(v) for v in result.violations) == sorted(expect["violations"]), result.violations
    for key, text in expect.get("messages", {}).items():
        found = [v.message for v in result.violations if _key(v) == key]
        assert found == [text]
    if "explained" in expect:
        assert sorted(_key(v) for v in result.violations if v.explained) == sorted(expect["explained"])
    if "not_evaluated" in expect:
        assert sorted(result.not_evaluated) == sorted(expect["not_evaluated"]), result.not_evaluated
    if "attainment" in expect:
        for code, want in expect["attainment"].items():
            assert result.attainment[code] is want
    if "blocking" in expect:
        assert result.blocking is expect["blocking"]
        assert data["blocking"] is expect["blocking"]
    if "unfilled" in expect:
        assert result.unfilled == expect["unfilled"]
    if "member_unfilled" in expect:
        assert data["member_unfilled"] == expect["member_unfilled"]
    if "member_indicators" in expect:
        assert result.member_indicators == expect["member_indicators"]
