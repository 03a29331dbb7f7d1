"""Django glue around the plain-Python engine: which definitions, previous period, peers and children a
submission is evaluated with, and the cached result stored on it."""

from __future__ import annotations

import time
from functools import lru_cache

from engine import Catalog, evaluate
from reporting.models import FormVersion, Status, Submission, Task, TaskForm

PEER_TTL_SECONDS = 300
_peer_cache: dict[tuple[int, str], tuple[float, list[dict]]] = {}


@lru_cache(maxsize=32)
def _catalog(hashes: tuple[str, ...]) -> Catalog:
    versions = {v.content_hash: v.definition for v in FormVersion.objects.filter(content_hash__in=hashes)}
    return Catalog([versions[h] for h in hashes])


def catalog_for_task(task: Task) -> Catalog:
    """The compiled catalog of the versions the task uses (compiled once per set of content hashes)."""
    hashes = tuple(sorted(TaskForm.objects.filter(task=task).values_list("version__content_hash", flat=True)))
    return _catalog(hashes)


def peers_of(task_id: int, form_code: str) -> list[dict]:
    """Values of every started submission of the same form and task (outlier checks compare among peers).

    Cached for a few minutes: peer statistics move slowly, and an autosave must not read every peer.
    """
    key = (task_id, form_code)
    hit = _peer_cache.get(key)
    if hit and time.monotonic() - hit[0] < PEER_TTL_SECONDS:
        return hit[1]
    peers = list(Submission.objects.filter(task_id=task_id, form_code=form_code)
                 .exclude(status=Status.NOT_STARTED).values_list("values", flat=True))
    _peer_cache[key] = (time.monotonic(), peers)
    return peers


def _member_rows(submission: Submission) -> tuple[list[str], list[dict]]:
    entries = list(submission.members.order_by("position", "id").values_list("key", "values"))
    return [k for k, _ in entries], [v for _, v in entries]


def _previous(submission: Submission) -> tuple[dict | None, list[dict] | None]:
    task = submission.task
    if not task.previous_id:
        return None, None
    prev = (Submission.objects.filter(task_id=task.previous_id, unit_id=submission.unit_id,
                                      form_code=submission.form_code)
            .exclude(status=Status.NOT_STARTED).first())
    if prev is None:
        return None, None
    return prev.values, [m.values for m in prev.members.order_by("position", "id")]


def _children(submission: Submission) -> list[dict]:
    """The started forms of the units directly below (e.g. a province's cities' 表2) in the same task."""
    return list(Submission.objects.filter(task_id=submission.task_id, unit__parent_id=submission.unit_id)
                .exclude(status=Status.NOT_STARTED).values_list("values", flat=True))


def explanation_key(check_code: str, member_key: str = "") -> str:
    """How a filler's explanation of a soft violation is keyed in Submission.explanations."""
    return f"{check_code}@{member_key}" if member_key else check_code


def evaluate_submission(submission: Submission, *, peers: list[dict] | None = None,
                        previous: tuple[dict | None, list[dict] | None] | None = None,
                        children: list[dict] | None = None,
                        member_rows: tuple[list[str], list[dict]] | None = None,
                        catalog: Catalog | None = None) -> dict:
    """Run the engine on a submission; returns the JSON-ready result stored in Submission.result.

    Violations of member sub-forms carry the member's key in "member" so pages can point at the entry.
    Bulk callers pass peers/previous/children/member rows they fetched in one go.
    """
    catalog = catalog or catalog_for_task(submission.task)
    form = catalog[submission.form_code]
    keys, members = member_rows if member_rows is not None else _member_rows(submission)
    prev_values, prev_members = previous if previous is not None else _previous(submission)
    explanations = {}
    for key, text in (submission.explanations or {}).items():
        check, _, member_key = key.partition("@")
        if member_key:
            if member_key in keys:  # the engine addresses member entries by position
                explanations[f"{check}#{keys.index(member_key)}"] = text
        else:
            explanations[check] = text
    result = evaluate(
        form, submission.values or {},
        members=members if form.subform is not None else None,
        children=children if children is not None else _children(submission),
        previous=prev_values, previous_members=prev_members,
        peers=peers if peers is not None else peers_of(submission.task_id, submission.form_code),
        explanations=explanations,
    ).to_dict()
    for violation in result.get("violations", []):
        index = violation.get("member")
        violation["member"] = keys[index] if isinstance(index, int) and index < len(keys) else ""
        violation["explanation_key"] = explanation_key(violation["check"], violation["member"])
    return result
