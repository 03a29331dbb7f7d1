"""Member sub-forms: sum / sum_known / count over entries, per-entry checks with the entry's index."""

import pytest

from tests.engine.casework import assert_case, case_params, run_case


@pytest.mark.parametrize(("form", "case"), case_params("members.json"))
def test_it_aggregates_and_checks_member_entries(form, case):
    assert_case(run_case(form, case), case["expect"])


@pytest.mark.parametrize(("form", "case"), case_params("children.json"))
def test_it_rolls_up_over_children(form, case):
    assert_case(run_case(form, case), case["expect"])


@pytest.mark.parametrize(("form", "case"), case_params("member_history.json"))
def test_it_compares_member_entries_with_their_own_history_and_siblings(form, case):
    assert_case(run_case(form, case), case["expect"])
