"""Bulk re-evaluation reads in batches: the number of queries of a task's re-evaluation does not grow with the
number of submissions (values, member entries, previous period, peers and children are fetched per batch)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from indicators.actions import task_reevaluate
from reporting import actions, evaluation

pytestmark = pytest.mark.django_db


def _fill(cast, code: str, form: str) -> None:
    user = User.objects.get(username=code)
    s = cast.submission(user, form)
    member = actions.member_add(acting_user=user, submission_id=s.pk).key if form in ("t3", "t4") else None
    changes = [{"field": "total_surgeries" if form in ("t3", "t4") else "total_visits", "value": 100}]
    if member:
        changes.append({"field": "outpatient_visits", "member": member, "value": 50})
    actions.submission_save(acting_user=user, submission_id=s.pk, changes=changes)


def _queries(cast) -> tuple[int, int]:
    evaluation.clear_caches()
    with CaptureQueriesContext(connection) as ctx:
        count, _ = task_reevaluate(acting_user=None, task_id=cast.task.pk)
    return count, len(ctx)


def test_it_reevaluates_three_times_the_submissions_in_the_same_number_of_queries(cast):
    for code, form in (("3701001", "t3"), ("3701002", "t4"), ("370100", "t2"), ("370000", "t1")):
        _fill(cast, code, form)
    small, small_queries = _queries(cast)
    for code, form in (("3701001-2", "t3"), ("3702001", "t3"), ("5120001", "t3"), ("5101001", "t3"),
                       ("3702002", "t4"), ("5120002", "t4"), ("5101002", "t4"), ("370200", "t2"), ("510000", "t1")):
        _fill(cast, code, form)
    large, large_queries = _queries(cast)
    assert large >= 3 * small - 1
    assert large_queries == small_queries, (small_queries, large_queries)
