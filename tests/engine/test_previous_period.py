"""prev(x): growth rates and jumps against the previous period."""

import pytest

from tests.engine.casework import assert_case, case_params, run_case


@pytest.mark.parametrize(("form", "case"), case_params("prev.json"))
def test_it_compares_with_the_previous_period(form, case):
    assert_case(run_case(form, case), case["expect"])
