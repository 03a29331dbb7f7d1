"""\"0\" counts, \"--\" never counts as zero, absent is unfilled, zero denominators are not computable."""

import pytest

from tests.engine.casework import assert_case, case_params, run_case


@pytest.mark.parametrize(("form", "case"), case_params("missing_semantics.json"))
def test_it_counts_zero_but_never_dash_or_absent(form, case):
    assert_case(run_case(form, case), case["expect"])
