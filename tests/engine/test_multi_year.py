"""prev(x, n), change(x, n), growth(x, n) over chained periods, with a missing year (hand-computed fixtures)."""

import pytest

from tests.engine.casework import assert_case, case_params, run_case


@pytest.mark.parametrize(("form", "case"), case_params("prev_n.json"))
def test_it_compares_with_periods_further_back(form, case):
    assert_case(run_case(form, case), case["expect"])
