"""With REDIS_URL set, the re-evaluation runs on a real Celery worker through Redis (as in production)."""

from __future__ import annotations

import copy
import os

import pytest

from reporting import actions
from reporting.catalog_loader import read_catalog

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)")


@pytest.mark.django_db(transaction=True)
def test_it_reevaluates_on_a_real_worker_after_a_rule_change(cast, settings, real_celery):
    from celery.contrib.testing.worker import start_worker

    from indicators.actions import task_catalog_update

    app = real_celery
    sub = cast.submission(cast.jinan_urban, "t3")
    actions.submission_save(acting_user=cast.jinan_urban, submission_id=sub.pk,
                            changes=[{"field": "total_surgeries", "value": 100},
                                     {"field": "grade34_surgeries", "value": 90}])
    _, forms = read_catalog("fjzl2019")
    forms = copy.deepcopy(forms)
    next(f for f in forms if f["code"] == "t3")["checks"].append(
        {"code": "t3.c98", "severity": "hard", "scope": "form", "expr": "grade34_surgeries * 2 <= total_surgeries",
         "message": None, "source": "test"})
    with start_worker(app, perform_ping_check=False, pool="solo", concurrency=1, shutdown_timeout=30):
        task_catalog_update(acting_user=cast.admin, task=cast.task, forms=forms)
        import time

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            sub.refresh_from_db()
            if any(v["check"] == "t3.c98" for v in sub.result.get("violations", [])):
                break
            time.sleep(0.2)
    assert any(v["check"] == "t3.c98" for v in sub.result["violations"])
