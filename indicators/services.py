"""Django glue around the plain-Python engine: which definitions, previous period, peers and children a
submission is evaluated with, and the cached result stored on it."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from functools import lru_cache

from django.db.models import QuerySet

from indicators.engine import Catalog, evaluate
from reporting.models import Status, Submission, Task, TaskForm

PEER_TTL_SECONDS = 300
_peer_cache: dict[tuple[int, str, int | None], tuple[float, list[dict]]] = {}


@lru_cache(maxsize=32)
def _catalog(hashes: tuple[str, ...]) -> Catalog:
    from reporting.models import FormVersion

    versions = {v.content_hash: v.definition for v in FormVersion.objects.filter(content_hash__in=hashes)}
    return Catalog([versions[h] for h in hashes])


def catalog_for_task(task: Task) -> Catalog:
    """The compiled catalog of the versions the task uses (compiled once per set of content hashes)."""
    hashes = tuple(sorted(TaskForm.objects.filter(task=task).values_list("version__content_hash", flat=True)))
    return _catalog(hashes)


def peer_parent(form, unit_parent_id: int | None) -> int | None:
    """The parent unit whose children are a form's peers (catalog "peer_scope": "parent"), else None (all)."""
    return unit_parent_id if getattr(form, "peer_scope", "all") == "parent" else None


def _peers(task_id: int, form_code: str, parent_id: int | None = None) -> list[dict]:
    """Values of every started submission of the same form and task (outlier checks compare among peers);
    with ``parent_id``, only those of the units under that parent (the cities of one province).

    Cached for a few minutes: peer statistics move slowly, and an autosave must not read every peer.
    """
    key = (task_id, form_code, parent_id)
    hit = _peer_cache.get(key)
    if hit and time.monotonic() - hit[0] < PEER_TTL_SECONDS:
        return hit[1]
    qs = Submission.objects.filter(task_id=task_id, form_code=form_code)
    if parent_id is not None:
        qs = qs.filter(unit__parent_id=parent_id)
    peers = list(qs.exclude(status=Status.NOT_STARTED).values_list("values", flat=True))
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
        peers=peers if peers is not None else _peers(
            submission.task_id, submission.form_code,
            submission.unit.parent_id if form.peer_scope == "parent" else None),
        explanations=explanations,
    ).to_dict()
    for violation in result.get("violations", []):
        index = violation.get("member")
        violation["member"] = keys[index] if isinstance(index, int) and index < len(keys) else ""
        violation["explanation_key"] = explanation_key(violation["check"], violation["member"])
    return result


def reevaluate_submissions(submissions: QuerySet[Submission], *, chunk_size: int = 500) -> int:
    """Re-evaluate and store results for many submissions, with peers/previous/children fetched in bulk."""
    count = 0
    peers_by_key: dict[tuple[int, str, int | None], list[dict]] = {}
    # The old result is about to be replaced: do not read and decode it.
    qs = submissions.select_related("task", "unit").defer("result").order_by("pk")
    batch: list[Submission] = []
    for submission in qs.iterator(chunk_size=chunk_size):
        form = catalog_for_task(submission.task).get(submission.form_code)
        key = (submission.task_id, submission.form_code, peer_parent(form, submission.unit.parent_id))
        if key not in peers_by_key:
            # The process-wide peer cache lets consecutive chunks on one worker read the peers once.
            peers_by_key[key] = _peers(*key)
        batch.append(submission)
        if len(batch) >= chunk_size:
            count += _evaluate_batch(batch, peers_by_key)
            batch = []
    if batch:
        count += _evaluate_batch(batch, peers_by_key)
    return count


def _evaluate_batch(batch: list[Submission], peers_by_key: dict) -> int:
    from reporting.models import MemberEntry

    ids = [s.pk for s in batch]
    members: dict[int, tuple[list[str], list[dict]]] = defaultdict(lambda: ([], []))
    for sid, key, values in (MemberEntry.objects.filter(submission_id__in=ids).order_by("submission_id", "position",
                                                                                         "id")
                             .values_list("submission_id", "key", "values")):
        members[sid][0].append(key)
        members[sid][1].append(values)
    previous: dict[tuple[int, str], dict] = {}
    prev_tasks = {s.task.previous_id for s in batch if s.task.previous_id}
    for unit_id, form_code, values in (Submission.objects.filter(task_id__in=prev_tasks,
                                                                 unit_id__in=[s.unit_id for s in batch])
                                       .exclude(status=Status.NOT_STARTED)
                                       .values_list("unit_id", "form_code", "values")):
        previous[(unit_id, form_code)] = values
    # last period's member entries: alliance-level indicators compare the members' totals with last year's
    previous_members: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for unit_id, form_code, values in (MemberEntry.objects.filter(submission__task_id__in=prev_tasks,
                                                                  submission__unit_id__in=[s.unit_id for s in batch])
                                       .exclude(submission__status=Status.NOT_STARTED)
                                       .order_by("submission_id", "position", "id")
                                       .values_list("submission__unit_id", "submission__form_code", "values")):
        previous_members[(unit_id, form_code)].append(values)
    children: dict[int, list[dict]] = defaultdict(list)
    for parent_id, values in (Submission.objects.filter(task_id__in={s.task_id for s in batch},
                                                        unit__parent_id__in=[s.unit_id for s in batch])
                              .exclude(status=Status.NOT_STARTED).values_list("unit__parent_id", "values")):
        children[parent_id].append(values)
    catalogs = {task_id: catalog_for_task(Task(pk=task_id)) for task_id in {s.task_id for s in batch}}
    for s in batch:
        s.result = evaluate_submission(
            s, peers=peers_by_key[(s.task_id, s.form_code,
                                   peer_parent(catalogs[s.task_id].get(s.form_code), s.unit.parent_id))],
            previous=(previous.get((s.unit_id, s.form_code)), previous_members.get((s.unit_id, s.form_code))),
            children=children.get(s.unit_id, []), member_rows=members[s.pk], catalog=catalogs[s.task_id],
        )
    _store_results(batch)
    return len(batch)


def _store_results(batch: list[Submission]) -> None:
    """Write many results in one executemany: bulk_update's CASE WHEN statement costs more than the engine."""
    from django.db import connection, transaction

    table = Submission._meta.db_table
    if connection.vendor == "postgresql":
        # One statement per batch: psycopg2's executemany is a round trip per row.
        from psycopg2.extras import execute_values

        rows = [(s.pk, json.dumps(s.result, ensure_ascii=False)) for s in batch]
        with transaction.atomic(), connection.cursor() as cursor:
            execute_values(cursor.cursor, f"UPDATE {table} AS t SET result = v.result::jsonb "
                           "FROM (VALUES %s) AS v(id, result) WHERE t.id = v.id", rows, page_size=len(rows))
        return
    field = Submission._meta.get_field("result")
    rows = [(field.get_db_prep_value(s.result, connection), s.pk) for s in batch]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET result = %s WHERE id = %s", rows)
