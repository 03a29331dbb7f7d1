"""The live view of the latest evaluation on the data-entry page: the 上报 card's verdict and the results panel,
rendered on the server from one result (templates/reporting/_live_*.html) for the page and for every answer of
the save / check / member endpoints, so the page never shows a verdict computed from something else.

What the panel's template tags read of a submission (its form version, the member sub-form's definition, the
member entries' names) is given to it here from what is already at hand: form versions are immutable rows
(content-hashed), kept per process; the member definition comes from the task's compiled catalog; the member
rows from the caller (a save holds them locked in memory). A save's answer renders the panel without
re-reading anything the save wrote.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from django.http import HttpRequest
from django.template import Context
from django.template.context_processors import csrf
from django.template.loader import get_template
from django.urls import reverse

from .evaluation import catalog_for_task
from .models import FormVersion, Submission

LIVE_TEMPLATES = {"verdict": "reporting/_live_verdict.html", "details": "reporting/_live_details.html"}
FORM_VERSION_CACHE_SIZE = 64
_form_versions: OrderedDict[int, FormVersion] = OrderedDict()  # pk -> row (rows are never updated)

MemberRows = list[tuple[str, dict]]  # (key, values) of the member entries in position order


def form_version(pk: int) -> FormVersion:
    """The FormVersion row `pk`, read (and its definition decoded) once per process: rows are immutable."""
    hit = _form_versions.get(pk)
    if hit is not None:
        _form_versions.move_to_end(pk)
        return hit
    version = FormVersion.objects.get(pk=pk)
    _form_versions[pk] = version
    while len(_form_versions) > FORM_VERSION_CACHE_SIZE:
        _form_versions.popitem(last=False)
    return version


def clear_caches() -> None:
    _form_versions.clear()


def attach_definitions(submission: Submission) -> Submission:
    """Give `submission` (task loaded) its form version from the per-process cache and the member sub-form's
    definition from the task's compiled catalog (the versions reporting.catalog_loader.member_definition reads),
    so neither is queried nor decoded again."""
    submission.form_version = form_version(submission.form_version_id)
    code = submission.form_version.definition.get("subform")
    if code and "_member_definition" not in submission.__dict__:
        sub = catalog_for_task(submission.task).get(code)
        if sub is not None:  # else catalog_loader.member_definition asks the database
            submission.__dict__["_member_definition"] = (sub.data,)
    return submission


def prepare(submission: Submission, member_rows: MemberRows | None = None) -> Submission:
    """Everything the panel's tags read of a submission: attach_definitions, and the member rows for the names
    (`member_rows` when the caller holds them, else one query here for every tag that names members)."""
    attach_definitions(submission)
    code = submission.form_version.definition.get("subform")
    if "_member_rows" not in submission.__dict__:
        if member_rows is None:
            member_rows = (list(submission.members.order_by("position", "id").values_list("key", "values"))
                           if code else [])
        submission.__dict__["_member_rows"] = member_rows
    return submission


def live_panel(request: HttpRequest, submission: Submission, *, checked_at: datetime | None = None,
               member_rows: MemberRows | None = None) -> dict[str, str]:
    """{"verdict": html, "details": html} of the submission's current result (set `submission.result` to a fresh
    evaluation first to show one that is not stored).

    Both fragments are rendered in one context without the site's context processors (the top bar's unread count
    and the like belong to whole pages): the request, its user and the CSRF token are all they use."""
    prepare(submission, member_rows)
    # forms in the panel (上报, reviewer actions) come back to the page, not to the endpoint that rendered them
    context = Context({"request": request, "user": request.user, **csrf(request), "submission": submission,
                       "checked_at": checked_at, "next_url": reverse("submission_entry", args=[submission.pk])})
    return {slot: get_template(name).template.render(context) for slot, name in LIVE_TEMPLATES.items()}


VIOLATION_KEYS = ("check", "severity", "message", "fields", "member", "explained", "explanation_key")


def client_result(result: dict | None) -> dict:
    """What entry.js needs of a result to mark fields (the violations); indicators, unfilled lists and the
    verdict travel as the server-rendered panel, so a 40-member form does not ship them twice."""
    result = result or {}
    if not result:
        return {}
    return {"violations": [{k: v[k] for k in VIOLATION_KEYS if k in v} for v in result.get("violations") or []],
            "blocking": result.get("blocking"), "evaluated_at": result.get("evaluated_at")}
