"""Outliers among peers with median and MAD (robust to the outliers themselves)."""

import statistics

import pytest

from engine import PeerGroup, evaluate
from tests.engine.casework import assert_case, build_form, case_params, load_fixture, run_case


@pytest.mark.parametrize(("form", "case"), case_params("peers.json"))
def test_it_flags_peer_outliers_robustly(form, case):
    assert_case(run_case(form, case), case["expect"])


def test_it_finds_what_mean_and_standard_deviation_would_hide():
    # the same data scored with mean/SD: the wild 5000 inflates the SD so much that 400 looks normal
    peers = [100, 102, 98, 101, 99, 103, 97, 5000]
    z_classic = (400 - statistics.mean(peers)) / statistics.pstdev(peers)
    assert abs(z_classic) < 1
    fx = load_fixture("peers.json")
    result = evaluate(build_form(fx), {"cost": 400}, peers=[{"cost": p} for p in peers])
    assert result.indicators["tq.i03"] > 100


def test_it_reuses_a_shared_peer_group():
    fx = load_fixture("peers.json")
    form = build_form(fx)
    group = PeerGroup([{"cost": p} for p in [100, 102, 98, 101, 99, 103, 97, 5000]])
    first = evaluate(form, {"cost": 400}, peers=group)
    second = evaluate(form, {"cost": 101}, peers=group)
    assert first.indicators["tq.i01"] == second.indicators["tq.i01"] == 100.5
    assert [v.check for v in first.violations] == ["tq.c01"]
    assert second.violations == []
