"""The demo an analyst would believe: magnitudes from the 2019 yearbook's national figures (demo/yearbook_2019.json),
the two years and the levels consistent, and every clean draft submittable as it stands.
"""

from __future__ import annotations

import statistics

import pytest
from django.core.management import call_command
from django.db import transaction
from rest_framework.test import APIClient

from demo.profile import key_indicator_ranges, load_data
from demo.states import STATE_PLAN, fill_form

pytestmark = pytest.mark.django_db
PASSWORD = "Demo#2019-values"
FORM_FILLERS = {"t1": "sd_filler", "t2": "jinan_filler", "t3": "jinan_urban", "t4": "jinan_county"}


@pytest.fixture(scope="module")
def _seeded(django_db_setup, django_db_blocker):
    """The whole demo, seeded once for this module and rolled back at its end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("seed_demo", password=PASSWORD)
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def demo(_seeded, db):
    from reporting.models import Submission

    return Submission.objects.filter(task__code="fjzl2019").select_related("unit")


def _api(username: str) -> APIClient:
    client = APIClient()
    token = client.post("/api/auth/token/", {"username": username, "password": PASSWORD}).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_the_data_file_states_its_source_and_which_figures_are_estimates():
    data = load_data()
    assert "2019中国卫生健康统计年鉴" in data["source"]
    assert "约数" in data["honesty"] and "估计" in data["honesty"]
    assert len(data["key_indicators"]) == 10
    assert all(i["basis"] and i["range"][0] < i["range"][1] for i in data["key_indicators"])


def test_the_demos_national_medians_of_ten_key_indicators_lie_in_the_stated_ranges(demo, capsys):
    rows = []
    for item in key_indicator_ranges():
        form = item["code"].split(".")[0]
        values = [s.result["indicators"][item["code"]] for s in demo.filter(form_code=form).exclude(status="not_started")
                  if (s.result or {}).get("indicators", {}).get(item["code"]) is not None]
        median = statistics.median(values) if values else None
        rows.append((item, median, len(values)))
    with capsys.disabled():
        print("\n演示数据全国中位数（本期）：")
        for item, median, n in rows:
            lo, hi = item["range"]
            print(f"  {item['label']}（{item['code']}）：{median if median is None else round(median, 2)}"
                  f"  应在 {lo}～{hi}  n={n}")
    for item, median, _n in rows:
        lo, hi = item["range"]
        assert median is not None and lo <= median <= hi, (item["code"], median)


def test_the_demo_is_of_the_order_of_real_regions(demo):
    province = demo.get(form_code="t1", unit__code="370000").values
    city = demo.get(form_code="t2", unit__code="370100").values
    # millions of residents, about six visits per resident a year, a few general practitioners per 10 000
    assert 4_000_000 <= province["registered_population"] <= 110_000_000
    assert 600_000 <= city["registered_population"] <= 12_000_000
    for values in (province, city):
        assert 3 <= values["total_visits"] / values["registered_population"] <= 10
        assert 0.5 <= values["gp_total"] / values["urban_registered_population"] * 10000 <= 12
        assert 150 <= values["outpatient_avg_cost"] <= 600
    # the province holds its cities
    cities = demo.filter(form_code="t2", unit__parent__code="370000").exclude(status="not_started")
    assert sum(c.values["registered_population"] for c in cities) < province["registered_population"]
    lead = demo.get(form_code="t3", unit__code="3701001").values
    assert 300 <= lead["open_bed_days"] / 365 <= 5000  # beds of a tertiary hospital
    assert 300_000 <= lead["outpatient_emergency_visits"] <= 6_000_000
    assert lead["service_population"] <= city["registered_population"] * 2


def test_the_two_years_tell_the_same_story(demo):
    from reporting.models import Submission

    for s in demo.filter(form_code__in=["t1", "t2"]).exclude(status="not_started"):
        last = Submission.objects.get(task__code="fjzl2018", unit=s.unit, form_code=s.form_code).values
        assert 1.0 <= s.values["registered_population"] / last["registered_population"] <= 1.02
        share, last_share = (v["grassroots_visits"] / v["total_visits"] for v in (s.values, last))
        assert abs(share - last_share) < 0.02
        assert not [v for v in s.result["violations"] if ".scale." in v["check"]]


def test_every_clean_demo_draft_submits_through_the_api_as_it_is(demo):
    drafts = []
    for form, plan in STATE_PLAN.items():
        units = demo.filter(form_code=form).order_by("unit__code")
        drafts += [s for s, state in zip(units, plan, strict=False) if state == "clean_draft"]
    assert {s.form_code for s in drafts} >= {"t1", "t3"}
    for s in drafts:
        assert s.explanations in ({}, None), s.unit.code  # nothing had to be explained
        assert not s.result["violations"], (s.unit.code, s.result["violations"])
        response = _api(s.unit.code).post(f"/api/submissions/{s.pk}/submit/")
        assert response.status_code == 200, (s.unit.code, response.json())
        s.refresh_from_db()
        assert s.status == "submitted"


@pytest.mark.parametrize("form", ["t1", "t2", "t3", "t4"])
def test_a_clean_draft_of_each_form_submits_through_the_api_with_no_explanation(cast, form):
    from rest_framework.authtoken.models import Token

    user = getattr(cast, FORM_FILLERS[form])
    submission = fill_form(cast.submission(user, form))  # the demo's own clean draft
    assert submission.status == "draft"
    assert not submission.explanations and not submission.result["violations"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    response = client.post(f"/api/submissions/{submission.pk}/submit/")
    assert response.status_code == 200, response.json()
    submission.refresh_from_db()
    assert submission.status == "submitted"
