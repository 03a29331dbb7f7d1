"""结果发布: freeze → feedback → objection → decision → publish by audience; corrections as new versions."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import AuditEvent
from reporting.actions import submission_save
from results import actions
from results.models import Objection, Release
from review import actions as review_actions


def _card(api, user, task="t2019", unit="3701001"):
    return api(user).get("/api/results/", {"task": task, "unit": unit})


def test_it_runs_freeze_objection_decision_and_publish_with_every_step_audited(cast, reported, api):
    release = actions.release_freeze(acting_user=cast.nation_reviewer, task_id=cast.task.pk)
    assert release.version == 1 and len(release.content_hash) == 64
    assert set(release.snapshot["units"]) == {"3701001", "3702001", "5120001"}
    actions.release_open_feedback(acting_user=cast.nation_reviewer, release_id=release.pk)
    # A province sees its cards during feedback (not yet through the API, which serves published cards only)
    assert _card(api, cast.sd_reviewer).status_code == 404
    objection = actions.objection_file(acting_user=cast.sd_reviewer, release_id=release.pk, unit_code="3701001",
                                       indicator_code="t3.i09", text="三、四级手术例数口径有误，请核实。")
    with pytest.raises(actions.ResultsError):  # another province's alliance
        actions.objection_file(acting_user=cast.sd_reviewer, release_id=release.pk, unit_code="5120001",
                               indicator_code="t3.i09", text="x")
    with pytest.raises(actions.ResultsError) as refused:  # an open objection blocks closing the window
        actions.release_close_feedback(acting_user=cast.nation_reviewer, release_id=release.pk)
    assert refused.value.code == "status"
    with pytest.raises(actions.ResultsError):  # only the national level decides
        actions.objection_decide(acting_user=cast.sd_reviewer, objection_id=objection.pk, accept=False,
                                 decision="x")
    actions.objection_decide(acting_user=cast.nation_reviewer, objection_id=objection.pk, accept=False,
                             decision="经核实，数据以审核通过的报表为准。")
    with pytest.raises(actions.ResultsError):  # decided once
        actions.objection_decide(acting_user=cast.nation_reviewer, objection_id=objection.pk, accept=True,
                                 decision="y")
    actions.release_publish(acting_user=cast.nation_reviewer, release_id=release.pk, audience="province")
    release.refresh_from_db()
    assert (release.status, release.audience) == ("published", "province")
    body = _card(api, cast.sd_reviewer).json()
    assert body["version"] == 1 and body["unit"] == "3701001"
    assert {"code", "label", "value", "targets", "attained", "rank", "trend", "score"} <= set(body["indicators"][0])
    assert "grade" in body
    # 省级: another province does not see 山东's alliances; 行业内: every logged-in user does
    assert _card(api, cast.sc_reviewer).status_code == 404
    actions.release_publish(acting_user=cast.nation_reviewer, release_id=release.pk, audience="sector")
    assert _card(api, cast.sc_reviewer).status_code == 200
    with pytest.raises(actions.ResultsError):  # an audience only widens
        actions.release_publish(acting_user=cast.nation_reviewer, release_id=release.pk, audience="province")
    steps = list(AuditEvent.objects.filter(object_type__in=["results.release", "results.objection"])
                 .order_by("at", "id").values_list("action", flat=True))
    assert steps == ["release_freeze", "release_open_feedback", "objection_file", "objection_reject",
                     "release_close_feedback", "release_publish", "release_publish"]
    assert Objection.objects.get().status == "rejected"


def test_it_keeps_the_published_card_until_a_corrected_version_is_published(cast, reported, api):
    v1 = actions.release_freeze(acting_user=cast.nation_reviewer, task_id=cast.task.pk)
    actions.release_publish(acting_user=cast.nation_reviewer, release_id=v1.pk, audience="sector")
    before = {i["code"]: i["value"] for i in _card(api, cast.sd_reviewer).json()["indicators"]}
    # A correction through the workflow: withdraw, reject, the filler corrects, submits, the city approves.
    sub = reported["3701001"]
    review_actions.submission_withdraw(acting_user=cast.jinan_reviewer, submission_id=sub.pk, reason="更正")
    review_actions.submission_reject(acting_user=cast.jinan_reviewer, submission_id=sub.pk, reason="请更正手术例数")
    sub.refresh_from_db()
    submission_save(acting_user=cast.jinan_urban, submission_id=sub.pk,
                    changes=[{"field": "grade34_surgeries", "value": sub.values["grade34_surgeries"] - 1}])
    review_actions.submission_submit(acting_user=cast.jinan_urban, submission_id=sub.pk)
    review_actions.submission_approve(acting_user=cast.jinan_reviewer, submission_id=sub.pk)
    v2 = actions.release_freeze(acting_user=cast.nation_reviewer, task_id=cast.task.pk, note="更正")
    assert v2.version == 2 and v2.content_hash != v1.content_hash
    assert [c["indicator"] for c in v2.change_log if c.get("indicator")] == ["t3.i09"]
    # Frozen, not published: readers still get version 1, unchanged
    body = _card(api, cast.sd_reviewer).json()
    assert body["version"] == 1 and {i["code"]: i["value"] for i in body["indicators"]} == before
    v1_hash = Release.objects.get(pk=v1.pk).content_hash
    actions.release_publish(acting_user=cast.nation_reviewer, release_id=v2.pk, audience="sector")
    body = _card(api, cast.sd_reviewer).json()
    assert body["version"] == 2
    assert next(i["value"] for i in body["indicators"] if i["code"] == "t3.i09") != before["t3.i09"]
    v1 = Release.objects.get(pk=v1.pk)
    assert v1.status == "superseded" and v1.content_hash == v1_hash


def test_it_freezes_and_publishes_from_the_command_line(cast, reported, api):
    call_command("freeze_results", "--task", "t2019")
    assert _card(api, cast.sd_reviewer).status_code == 404  # frozen only
    call_command("publish_results", "--task", "t2019", "--audience", "province")
    assert _card(api, cast.sd_reviewer).status_code == 200
    release = Release.objects.get()
    assert (release.status, release.audience) == ("published", "province")


def test_it_refuses_freezing_and_publishing_below_the_national_level(cast, reported):
    with pytest.raises(actions.ResultsError):
        actions.release_freeze(acting_user=cast.sd_reviewer, task_id=cast.task.pk)
    release = actions.release_freeze(acting_user=cast.analyst, task_id=cast.task.pk)
    with pytest.raises(actions.ResultsError):
        actions.release_publish(acting_user=cast.sd_reviewer, release_id=release.pk, audience="public")
    with pytest.raises(actions.ResultsError):  # no objections outside a feedback window
        actions.objection_file(acting_user=cast.sd_reviewer, release_id=release.pk, unit_code="3701001",
                               indicator_code="t3.i09", text="x")


def test_it_ranks_alliances_among_peers_and_shows_a_three_year_trend(cast, reported):
    snapshot = actions.release_freeze(acting_user=cast.nation_reviewer, task_id=cast.task.pk).snapshot
    ranks = sorted(next(i for i in c["indicators"] if i["code"] == "t3.i09")["rank"]
                   for c in snapshot["units"].values())
    assert ranks[0] == 1 and len(ranks) == 3
    ind = snapshot["units"]["3701001"]["indicators"][0]
    assert [p["task"] for p in ind["trend"]] == ["t2019"] and ind["trend"][0]["value"] == ind["value"]


def test_it_shows_three_years_of_an_indicator_from_the_chained_tasks(cast, chain):
    from tests.results.conftest import fill_in

    y2017, y2018, y2019 = chain
    s17 = fill_in(y2017, "3701002", "t4")
    s18 = fill_in(y2018, "3701002", "t4", previous=s17)
    s19 = fill_in(y2019, "3701002", "t4", previous=s18)
    card = actions.release_freeze(acting_user=cast.nation_reviewer, task_id=y2019.pk).snapshot["units"]["3701002"]
    ind = next(i for i in card["indicators"] if i["code"] == "t4.i01")
    assert [p["year"] for p in ind["trend"]] == [2017, 2018, 2019]
    assert [p["value"] for p in ind["trend"]] == [s.result["indicators"]["t4.i01"] for s in (s17, s18, s19)]


def test_it_lists_cards_with_a_constant_number_of_queries(cast, client, reported, django_assert_max_num_queries):
    release = actions.release_freeze(acting_user=cast.nation_reviewer, task_id=cast.task.pk)
    actions.release_publish(acting_user=cast.nation_reviewer, release_id=release.pk, audience="sector")
    client.force_login(cast.sd_reviewer)
    with django_assert_max_num_queries(12):
        page = client.get("/results/platform/?task=t2019").content.decode()
    assert page.count("/cards/") == 3
