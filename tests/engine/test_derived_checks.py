"""Checks derived from field metadata, so the catalog never repeats them."""

import pytest

from engine import FormDefinition
from tests.engine.casework import assert_case, case_params, load_fixture, run_case


@pytest.mark.parametrize(("form", "case"), case_params("derived_checks.json"))
def test_it_derives_checks_from_field_metadata(form, case):
    assert_case(run_case(form, case), case["expect"])


def test_it_generates_one_derived_check_per_kind_and_field():
    form = FormDefinition(load_fixture("derived_checks.json")["form"])
    codes = {c.code for c in form.derived_checks}
    assert {
        "td.of.referral_up",
        "td.of.referral_up_chronic",
        "td.int.referral_total",
        "td.pct.bed_occupancy_rate",
        "td.nonneg.outpatient_revenue",
        "td.type.has_day_surgery",
        "td.type.hospital_level",
    } <= codes
    # a percent without range (growth rate) and a text field get no range check
    assert "td.pct.visit_growth" not in codes
    assert not any(c.endswith(".hospital_name") for c in codes)
    assert all(c.severity == "hard" for c in form.derived_checks)
    assert form.check("td.of.referral_up").fields == ("referral_up", "referral_total")
