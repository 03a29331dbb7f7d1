"""Conditional fields, short-circuit three-valued logic."""

import pytest

from tests.engine.casework import assert_case, case_params, run_case


@pytest.mark.parametrize(("form", "case"), case_params("conditional.json"))
def test_it_ignores_fields_whose_condition_is_false(form, case):
    assert_case(run_case(form, case), case["expect"])


@pytest.mark.parametrize(("form", "case"), case_params("short_circuit.json"))
def test_it_short_circuits_and_or(form, case):
    assert_case(run_case(form, case), case["expect"])
