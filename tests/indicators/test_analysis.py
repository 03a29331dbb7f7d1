"""The analysts' page: attainment and medians from stored results, "--" never counted as zero, scoped."""

from __future__ import annotations

import pytest

from indicators.analysis import summarise
from reporting import actions
from reporting.models import Status, Submission

INDICATORS = [{"code": "i1", "label": "基层医疗卫生机构建设达标率", "unit": "%",
               "target": {"op": ">=", "value": 95}}]


def test_it_counts_missing_as_not_computable_never_as_zero():
    rows = [
        ("370000", {"indicators": {"i1": 96.0}, "attainment": {"i1": True}}),
        ("370000", {"indicators": {"i1": 90.0}, "attainment": {"i1": False}}),
        ("510000", {"indicators": {"i1": None}, "attainment": {"i1": None}}),  # "--" somewhere: not computable
        ("510000", {"indicators": {"i1": 100.0}, "attainment": {"i1": True}}),
    ]
    [s] = summarise(INDICATORS, rows, {"370000": "山东省", "510000": "四川省"})
    assert s["n"] == 3 and s["not_computable"] == 1
    assert s["median"] == 96.0  # of 90, 96, 100 — a zero would have pulled it down
    assert s["attainment_rate"] == pytest.approx(66.7)
    groups = {g["name"]: g for g in s["groups"]}
    assert groups["山东省"]["attainment_rate"] == 50.0 and groups["四川省"]["attainment_rate"] == 100.0


def _report(cast, user, values):
    sub = cast.submission(user, "t2")
    actions.submission_save(acting_user=user, submission_id=sub.pk,
                            changes=[{"field": k, "value": v} for k, v in values.items()])
    # Reported figures are what the page analyses; the workflow's gate is tested elsewhere.
    Submission.objects.filter(pk=sub.pk).update(status=Status.SUBMITTED)
    return sub


@pytest.mark.django_db
def test_it_shows_the_analyst_every_province_and_a_reviewer_only_its_subtree(cast, client,
                                                                          django_assert_max_num_queries):
    from accounts.models import User

    _report(cast, cast.jinan_filler, {"grassroots_total": 100, "grassroots_standard_total": 97})
    _report(cast, User.objects.get(username="510100"), {"grassroots_total": 100, "grassroots_standard_total": 50})
    client.force_login(cast.analyst)
    with django_assert_max_num_queries(12):
        page = client.get("/analysis/", {"form": "t2"})
    assert page.status_code == 200
    assert page.context["n_units"] == 2
    rate = next(s for s in page.context["summaries"] if s["label"] == "基层医疗卫生机构建设达标率")
    assert rate["attainment_rate"] == 50.0
    assert {g["name"] for g in rate["groups"]} == {"山东省", "四川省"}

    client.force_login(cast.sd_reviewer)
    page = client.get("/analysis/", {"form": "t2"})
    assert page.context["n_units"] == 1
    rate = next(s for s in page.context["summaries"] if s["label"] == "基层医疗卫生机构建设达标率")
    assert [g["name"] for g in rate["groups"]] == ["济南市"]


@pytest.mark.django_db
def test_it_is_not_for_fillers(cast, client):
    client.force_login(cast.jinan_urban)
    assert client.get("/analysis/").status_code == 403
