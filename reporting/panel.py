"""The live view of the latest evaluation on the data-entry page: the 上报 card's verdict and the results panel,
rendered on the server from one result (templates/reporting/_live_*.html) for the page and for every answer of
the save / check / member endpoints, so the page never shows a verdict computed from something else."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from .models import Submission

LIVE_TEMPLATES = {"verdict": "reporting/_live_verdict.html", "details": "reporting/_live_details.html"}


def live_panel(request: HttpRequest, submission: Submission, *, checked_at: datetime | None = None) -> dict[str, str]:
    """{"verdict": html, "details": html} of the submission's current result (set `submission.result` to a fresh
    evaluation first to show one that is not stored)."""
    # forms in the panel (上报, reviewer actions) come back to the page, not to the endpoint that rendered them
    context = {"submission": submission, "checked_at": checked_at,
               "next_url": reverse("submission_entry", args=[submission.pk])}
    return {slot: render_to_string(name, context, request=request) for slot, name in LIVE_TEMPLATES.items()}


VIOLATION_KEYS = ("check", "severity", "message", "fields", "member", "explained", "explanation_key")


def client_result(result: dict | None) -> dict:
    """What entry.js needs of a result to mark fields (the violations); indicators, unfilled lists and the
    verdict travel as the server-rendered panel, so a 40-member form does not ship them twice."""
    result = result or {}
    if not result:
        return {}
    return {"violations": [{k: v[k] for k in VIOLATION_KEYS if k in v} for v in result.get("violations") or []],
            "blocking": result.get("blocking"), "evaluated_at": result.get("evaluated_at")}
