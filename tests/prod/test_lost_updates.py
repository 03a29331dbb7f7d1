"""No lost edit on any path: two writers who loaded the same revision save the same field (or the same
explanation) at the same moment, over real PostgreSQL connections (one thread each), through the API PATCH and
the entry page's autosave in every combination. At most one of them may be told "saved"; the other gets a
conflict. A trial where both are told "saved" is a lost update.

Trials: FJZL_RACE_TRIALS (default 2000). `pytest tests/prod/test_lost_updates.py -s` prints the figures.
"""

from __future__ import annotations

import json
import os
import random
import threading
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.actions import token_issue
from reporting.models import Submission

TRIALS = int(os.environ.get("FJZL_RACE_TRIALS", "2000"))
PATHS = [("api", "api"), ("page", "page"), ("api", "page"), ("page", "api")]


@dataclass
class Writer:
    kind: str
    client: object

    def save(self, submission_id: int, revision: int, field: str | None, value: int | None,
             base: object, explanation: tuple[str, str] | None) -> bool:
        """True when this writer was told its edit was saved."""
        if self.kind == "api":
            body: dict = {"base_revision": revision}
            if explanation:
                body["explanations"] = {explanation[0]: explanation[1]}
            else:
                body["values"] = {field: value}
            response = self.client.patch(f"/api/submissions/{submission_id}/", body, format="json")
            if response.status_code != 200:
                assert response.status_code == 409, response.content
                return False
            return bool(response.json().get("saved")) or bool(explanation)
        body = {"base_revision": revision, "changes": []}
        if explanation:
            body["explanations"] = {explanation[0]: explanation[1]}
        else:
            body["changes"] = [{"field": field, "member": "", "value": value, "base": base}]
        response = self.client.post(reverse("submission_save_api", args=[submission_id]), json.dumps(body),
                                    content_type="application/json", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
        assert response.status_code in (200, 409), response.content
        data = response.json()
        if response.status_code != 200 or data.get("conflicts"):
            return False
        return bool(data.get("saved")) or bool(explanation)


def _writers(user) -> dict[str, list[Writer]]:
    apis = []
    for _ in range(2):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(acting_user=user)[1]}")
        apis.append(Writer("api", client))
    pages = []
    for _ in range(2):
        client = Client()
        client.force_login(user)
        pages.append(Writer("page", client))
    return {"api": apis, "page": pages}


@pytest.mark.django_db(transaction=True)
def test_it_loses_no_concurrent_edit_on_any_path(cast):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    submission = cast.submission(cast.jinan_urban, "t3")
    definition = submission.form_version.definition
    fields = [f["code"] for f in definition["fields"] if f["type"] == "count" and not f.get("condition")][:6]
    checks = [c["code"] for c in definition.get("checks", []) if c.get("severity") == "soft"][:3] or ["t3.c99"]
    writers = _writers(cast.jinan_urban)
    rng = random.Random(20191231)
    plan = []
    for i in range(TRIALS):
        a_kind, b_kind = PATHS[i % len(PATHS)]
        is_explanation = rng.random() < 0.25
        plan.append((a_kind, b_kind, rng.choice(fields), rng.choice(checks) if is_explanation else None,
                     rng.randrange(1, 10**6), rng.randrange(1, 10**6)))

    barrier = threading.Barrier(3)
    outcome: dict[int, bool] = {}
    task: dict = {}
    errors: list[BaseException] = []

    def worker(slot: int) -> None:
        try:
            while True:
                barrier.wait()
                if task.get("stop"):
                    return
                writer, args = task[slot]
                try:
                    outcome[slot] = writer.save(*args)
                except BaseException as exc:  # reported by the main thread
                    errors.append(exc)
                    outcome[slot] = False
                barrier.wait()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(slot,), daemon=True) for slot in (0, 1)]
    for t in threads:
        t.start()
    lost = both_refused = saved = 0
    by_path: dict[str, int] = {}
    try:
        for a_kind, b_kind, field, check, va, vb in plan:
            fresh = Submission.objects.get(pk=submission.pk)
            revision, base = fresh.revision, fresh.values.get(field)
            a = writers[a_kind][0]
            b = writers[b_kind][1] if b_kind == a_kind else writers[b_kind][0]
            ea = (check, f"说明A{va}") if check else None
            eb = (check, f"说明B{vb}") if check else None
            task[0] = (a, (submission.pk, revision, field, va, base, ea))
            task[1] = (b, (submission.pk, revision, field, vb if vb != va else vb + 1, base, eb))
            barrier.wait()  # go
            barrier.wait()  # both done
            assert not errors, errors[0]
            if outcome[0] and outcome[1]:
                lost += 1
                key = f"{a_kind}+{b_kind}{'/说明' if check else ''}"
                by_path[key] = by_path.get(key, 0) + 1
            elif outcome[0] or outcome[1]:
                saved += 1
                stored = Submission.objects.get(pk=submission.pk)
                winner_value = (ea if outcome[0] else eb)[1] if check else (va if outcome[0] else task[1][1][3])
                now = stored.explanations.get(check) if check else stored.values.get(field)
                assert now == winner_value
            else:
                both_refused += 1
    finally:
        task["stop"] = True
        barrier.wait()
        for t in threads:
            t.join(timeout=30)
    print(f"\nlost-update race: {TRIALS} trials (API/page × API/page, 25% explanations): {lost} lost, {saved} "
          f"one saved + one conflict, {both_refused} both refused {by_path or ''}")
    assert lost == 0
    assert saved >= TRIALS * 0.9
