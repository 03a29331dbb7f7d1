"""A save is cheap: a 表3 autosave with 10 member entries runs a handful of SQL statements."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reporting import actions
from reporting.models import Submission

pytestmark = pytest.mark.django_db


def _statements(ctx: CaptureQueriesContext) -> list[str]:
    # SAVEPOINT / RELEASE come from the test's own transaction around each atomic block; in production the
    # save is one BEGIN … COMMIT.
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def _ten_members(s: Submission, user) -> list[str]:
    keys = [actions.member_add(acting_user=user, submission_id=s.pk, key=f"m{i}").key for i in range(10)]
    first = [{"field": "open_bed_days", "value": 100}] + [
        {"field": "outpatient_visits", "member": k, "value": 1000 + i} for i, k in enumerate(keys)] + [
        {"field": "hospital_name", "member": k, "value": f"第{i}医院"} for i, k in enumerate(keys)]
    actions.submission_save(acting_user=user, submission_id=s.pk, changes=first)
    return keys


def test_it_saves_a_form_with_ten_members_in_at_most_eight_queries(cast):
    """The previous period (lead form and member entries) is read too: the form compares with it."""
    user = cast.jinan_urban
    _ten_members(cast.submission(user, "t3"), user)
    now = timezone.now()
    task = actions.task_create(acting_user=None, code="next", name="下一期", period_start=now.date(),
                               period_end=now.date(), window_open=now - timezone.timedelta(days=1),
                               window_close=now + timezone.timedelta(days=1), catalog_slug=cast.task.catalog_slug,
                               previous=cast.task)
    actions.submissions_ensure(acting_user=None, task=task)
    s = Submission.objects.get(task=task, unit=user.unit, form_code="t3")
    keys = _ten_members(s, user)

    s.refresh_from_db()
    revision = s.revision
    change = [{"field": "open_bed_days", "value": 120}] + [
        {"field": "outpatient_visits", "member": k, "value": 2000 + i} for i, k in enumerate(keys[:3])]
    with CaptureQueriesContext(connection) as ctx:
        result = actions.submission_save(acting_user=user, submission_id=s.pk, changes=change)
    assert sorted(result.saved) == sorted(["open_bed_days", *(f"{k}/outpatient_visits" for k in keys[:3])])
    statements = _statements(ctx)
    print(len(statements), *statements, sep="\n")
    assert len(statements) <= 8, "\n".join(statements)
    s.refresh_from_db()
    assert s.values["open_bed_days"] == 120 and s.revision == revision + 1
    assert s.value_changes.count() == 1 + 20 + 4  # every change audited
    assert any("reporting_memberentry" in q and "jsonb_agg" in q for q in statements)  # previous members


# session, user, the save (7: lock the form, lock its member entries, write them, the audit rows, the previous
# period, the form with its result, the audit event), the live panel (2: the report plan the 上报 gate asks,
# the open comments) and the session's renewal
SAVE_REQUEST_QUERIES = 12


def _without_savepoints(ctx: CaptureQueriesContext) -> list[str]:
    return [q for q in _statements(ctx) if not q.startswith("SAVEPOINT")]


def test_it_answers_an_autosave_of_the_page_in_the_same_few_queries_for_1_or_10_members(
        cast, as_user, django_assert_max_num_queries):
    user = cast.jinan_urban
    filler = as_user(user)
    t3 = cast.submission(user, "t3")
    keys = [f"{i:032d}" for i in range(10)]
    filler.add_member(t3, keys[0])
    filler.save(t3, [{"field": "open_bed_days", "value": 1}])  # the process has read the form version once
    counts = {}
    for n in (1, 10):
        for key in keys[1:n]:
            filler.add_member(t3, key)
        change = [{"field": "open_bed_days", "value": 100 + n},
                  *({"field": "outpatient_visits", "member": k, "value": 1000 + n} for k in keys[:min(n, 3)])]
        with CaptureQueriesContext(connection) as ctx:
            response = filler.save(t3, change)
        assert response.status_code == 200
        answer = response.json()
        assert sorted(answer["saved"]) == sorted(c["field"] if "member" not in c else f"{c['member']}/{c['field']}"
                                                 for c in change)
        assert len(answer["members"]) == n and answer["stored"]["open_bed_days"] == 100 + n
        assert "上报" in answer["panel"]["verdict"] and 'id="indicator-rows"' in answer["panel"]["details"]
        counts[n] = _without_savepoints(ctx)
    assert len(counts[1]) == len(counts[10]), "\n".join(q[:90] for q in [*counts[1], "--", *counts[10]])
    assert len(counts[10]) <= SAVE_REQUEST_QUERIES, "\n".join(counts[10])
    with django_assert_max_num_queries(SAVE_REQUEST_QUERIES + 4):  # + SAVEPOINT / RELEASE of the test's transaction
        assert filler.save(t3, [{"field": "open_bed_days", "value": 7}]).status_code == 200
    t3.refresh_from_db()
    assert t3.values["open_bed_days"] == 7 and t3.value_changes.filter(field_code="open_bed_days").count() == 4
