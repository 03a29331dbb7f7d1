"""The one evaluation path feeds prev(x, n) with n >= 2: a form whose indicator reaches two periods back gets the
same unit's form of the task two steps back along Task.previous (a missing middle year does not matter)."""

from __future__ import annotations

import copy

import pytest

from engine import Catalog
from reporting import evaluation
from reporting.catalog_loader import task_definitions
from tests.results.conftest import fill_in


def test_it_loads_two_periods_back_for_a_three_year_growth(cast, chain):
    y2017, _y2018, y2019 = chain
    s17 = fill_in(y2017, "3701002", "t4")
    s19 = fill_in(y2019, "3701002", "t4", previous=s17)  # 2018 never filled
    definitions = copy.deepcopy(task_definitions(y2019))
    definitions["t4"]["indicators"].append({"code": "t4.x01", "label": "门诊量近三年增长率",
                                            "expr": "growth(outpatient_visits, 2)", "unit": "%", "target": None})
    catalog = Catalog(list(definitions.values()))
    s19.task = y2019
    inputs = evaluation.load_inputs([s19], {y2019.pk: catalog})[s19.pk]
    assert inputs.previous is None and inputs.earlier[0][0] == s17.values
    result = evaluation.run_engine(s19, catalog["t4"], inputs)
    expected = 100 * (s19.values["outpatient_visits"] / s17.values["outpatient_visits"] - 1)
    assert result["indicators"]["t4.x01"] == pytest.approx(expected, abs=1e-4)  # results are stored to 4 decimals
    # the shipped catalog reaches one period back only: nothing earlier is loaded for it
    plain = evaluation.load_inputs([s19], {y2019.pk: evaluation.catalog_for_task(y2019)})[s19.pk]
    assert plain.earlier is None
