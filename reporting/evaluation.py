"""The evaluation loader: Django glue around the plain-Python engine.

One path builds the engine's inputs for any number of submissions — member entries, the previous period of the
form *and of each member entry*, peers, children — in a handful of batched queries, and runs the engine. A save
is a batch of one (`evaluate_submission`, with the member rows the save already holds); bulk re-evaluation
(`reporting.actions.submissions_reevaluate`) runs the same `evaluate_batch` over chunks. So a stored result is
the same whichever way it was computed (tests/reporting/test_evaluation_path.py).

Compiled catalogs are cached per process, keyed by content (Task.catalog_key = hash of the form versions'
content hashes): a save neither queries nor decodes a form definition once its catalog is compiled.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import JSONField
from django.db.models.expressions import RawSQL

from accounts.models import Unit
from engine import Catalog, FormDefinition, evaluate

from .models import FormVersion, MemberEntry, Status, Submission, Task, TaskForm

PEER_TTL_SECONDS = 300
CATALOG_CACHE_SIZE = 32
_peer_cache: dict[tuple[int, str, int | None, str | None], tuple[float, list[dict]]] = {}
_catalogs: OrderedDict[str, Catalog] = OrderedDict()  # content key -> compiled catalog (bounded LRU)

MemberRows = tuple[list[str], list[dict]]  # (keys, values) of the member entries in position order


def catalog_key(content_hashes: Iterable[str]) -> str:
    """The content key of a set of form versions (what Task.catalog_key holds)."""
    hashes = sorted(content_hashes)
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest() if hashes else ""


def _compiled(key: str, task_id: int) -> Catalog:
    hit = _catalogs.get(key)
    if hit is not None:
        _catalogs.move_to_end(key)
        return hit
    definitions = list(FormVersion.objects.filter(pk__in=TaskForm.objects.filter(task_id=task_id).values("version_id"))
                       .order_by("form_code").values_list("definition", flat=True))
    catalog = Catalog(definitions)
    _catalogs[key] = catalog
    while len(_catalogs) > CATALOG_CACHE_SIZE:
        _catalogs.popitem(last=False)
    return catalog


def catalog_for_task(task: Task) -> Catalog:
    """The compiled catalog of the versions the task uses (compiled once per process and content key)."""
    key = task.catalog_key if task.catalog_key else ""
    if not key:  # a task saved before catalog keys existed (or a bare Task(pk=…)): ask the database
        key = catalog_key(TaskForm.objects.filter(task_id=task.pk).values_list("version__content_hash", flat=True))
    return _compiled(key, task.pk)


def clear_caches() -> None:
    _catalogs.clear()
    _peer_cache.clear()


def peers_of(task_id: int, form_code: str, parent_id: int | None = None,
             form: FormDefinition | None = None) -> list[dict]:
    """Values of every started submission of the same form and task (outlier checks compare among peers);
    with ``parent_id``, only those of the units under that parent (the cities of one province).

    With ``form`` (the compiled form of `form_code`), the database drops the form's fields that no peer function
    reads (`peer_fields`) before sending: peers are ~25,000 value dicts of ~150 fields at national scale, and
    decoding them all cost more than evaluating a chunk of them. The fields kept are exactly as stored.

    Cached for a few minutes: peer statistics move slowly, and an autosave must not read every peer.
    """
    key = (task_id, form_code, parent_id, form.content_hash if form is not None else None)
    hit = _peer_cache.get(key)
    if hit and time.monotonic() - hit[0] < PEER_TTL_SECONDS:
        return hit[1]
    qs = Submission.objects.filter(task_id=task_id, form_code=form_code)
    if parent_id is not None:
        qs = qs.filter(unit__parent_id=parent_id)
    qs = qs.exclude(status=Status.NOT_STARTED)
    if form is None:
        peers = list(qs.values_list("values", flat=True))
    elif connection.vendor == "postgresql":
        # one decompression per row (jsonb - text[]), not one per kept key as with ->/? per key
        drop = sorted({f.code for f in form.field_list} - peer_fields(form))
        projected = RawSQL(f"{Submission._meta.db_table}.values - %s::text[]", (drop,), output_field=JSONField())
        peers = list(qs.annotate(peer_values=projected).values_list("peer_values", flat=True))
    else:
        keep = peer_fields(form)
        fields = {f.code for f in form.field_list}
        peers = [{k: v for k, v in (values or {}).items() if k in keep or k not in fields}
                 for values in qs.values_list("values", flat=True)]
    _peer_cache[key] = (time.monotonic(), peers)
    return peers


_peer_fields: dict[str, frozenset[str]] = {}


def peer_fields(form: FormDefinition) -> frozenset[str]:
    """The fields a peer function of the form can read: every name of each expression that uses peers (a
    superset of the names inside robust_z/peer_median/peer_mad, the only ones a PeerGroup evaluates on a peer)."""
    hit = _peer_fields.get(form.content_hash)
    if hit is None:
        exprs = [c.expr for c in form.checks if c.expr] + [i.expr for i in form.indicators if i.expr]
        hit = frozenset(name for e in exprs if e.uses_peers for name in e.names)
        _peer_fields[form.content_hash] = hit
    return hit


def explanation_key(check_code: str, member_key: str = "") -> str:
    """How a filler's explanation of a soft violation is keyed in Submission.explanations."""
    return f"{check_code}@{member_key}" if member_key else check_code


# --- what a form needs ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Needs:
    previous: bool
    previous_members: bool
    children: bool
    peers: bool
    members: bool
    depth: int = 0  # periods back prev(x, n) / change / growth reach; >= 2 loads the earlier periods too


_needs: dict[str, Needs] = {}


def needs_of(form: FormDefinition) -> Needs:
    """Which inputs the form's checks and indicators can use (the loader fetches nothing else)."""
    hit = _needs.get(form.content_hash)
    if hit is None:
        sub = form.subform
        exprs = [c.expr for c in form.checks if c.expr] + [i.expr for i in form.indicators if i.expr]
        hit = Needs(previous=form.uses_prev or bool(sub is not None and sub.uses_prev),
                    previous_members=bool(sub is not None and sub.uses_prev),
                    children=bool(form.children_checks) or any(e.uses_children for e in exprs),
                    peers=form.uses_peers, members=sub is not None,
                    depth=max(form.prev_depth, sub.prev_depth if sub is not None else 0))
        _needs[form.content_hash] = hit
    return hit


# --- the loader ----------------------------------------------------------------------------------------------

@dataclass
class Inputs:
    keys: list[str]
    members: list[dict] | None
    previous: dict | None
    previous_members: list[dict] | None
    children: list[dict]
    peers: list[dict] | None
    earlier: list[tuple[dict, list[dict]] | None] | None = None  # t-2, t-3 … (only for depth >= 2)


def _members_json() -> RawSQL:
    table = MemberEntry._meta.db_table
    return RawSQL(f"SELECT COALESCE(jsonb_agg(m.values ORDER BY m.position, m.id), '[]'::jsonb) FROM {table} m "
                  f"WHERE m.submission_id = {Submission._meta.db_table}.id", (), output_field=JSONField())


def load_inputs(batch: Sequence[Submission], catalogs: dict[int, Catalog],
                members: dict[int, MemberRows] | None = None) -> dict[int, Inputs]:
    """The engine's inputs of every submission in `batch` (task selected), in a few queries for the batch.

    `members`: member rows the caller already holds (a save has them locked in memory)."""
    members = dict(members or {})
    needs = {s.pk: needs_of(catalogs[s.task_id][s.form_code]) for s in batch}
    # member entries of the batch
    want_members = [s.pk for s in batch if needs[s.pk].members and s.pk not in members]
    if want_members:
        fetched: dict[int, MemberRows] = defaultdict(lambda: ([], []))
        for sid, key, values in (MemberEntry.objects.filter(submission_id__in=want_members)
                                 .order_by("submission_id", "position", "id")
                                 .values_list("submission_id", "key", "values")):
            fetched[sid][0].append(key)
            fetched[sid][1].append(values)
        for sid in want_members:
            members[sid] = fetched[sid]
    # the previous period: the same unit's form of the previous task, with its member entries
    previous: dict[tuple[int, int, str], tuple[dict, list[dict] | None]] = {}
    prev_of = [s for s in batch if needs[s.pk].previous and s.task.previous_id]
    if prev_of:
        qs = (Submission.objects.filter(task_id__in={s.task.previous_id for s in prev_of},
                                        unit_id__in={s.unit_id for s in prev_of},
                                        form_code__in={s.form_code for s in prev_of})
              .exclude(status=Status.NOT_STARTED))
        with_members = any(needs[s.pk].previous_members for s in prev_of)
        if with_members and connection.vendor == "postgresql":
            rows = qs.annotate(member_values=_members_json()).values_list("id", "task_id", "unit_id", "form_code",
                                                                         "values", "member_values")
            for _id, task_id, unit_id, form_code, values, mvalues in rows:
                previous[(task_id, unit_id, form_code)] = (values, mvalues)
        else:
            rows = list(qs.values_list("id", "task_id", "unit_id", "form_code", "values"))
            prev_members: dict[int, list[dict]] = defaultdict(list)
            if with_members:
                for sid, values in (MemberEntry.objects.filter(submission_id__in=[r[0] for r in rows])
                                    .order_by("submission_id", "position", "id").values_list("submission_id", "values")):
                    prev_members[sid].append(values)
            for sid, task_id, unit_id, form_code, values in rows:
                previous[(task_id, unit_id, form_code)] = (values, prev_members[sid] if with_members else None)
    earlier = _earlier_periods([s for s in batch if needs[s.pk].depth >= 2 and s.task.previous_id], needs)
    # children: the started forms of the units directly below in the same task
    children: dict[tuple[int, int], list[dict]] = defaultdict(list)
    child_of = [s for s in batch if needs[s.pk].children]
    if child_of:
        for task_id, parent_id, values in (Submission.objects.filter(task_id__in={s.task_id for s in child_of},
                                                                     unit__parent_id__in={s.unit_id for s in child_of})
                                           .exclude(status=Status.NOT_STARTED)
                                           .values_list("task_id", "unit__parent_id", "values")):
            children[(task_id, parent_id)].append(values)
    # peers of a form with peer_scope "parent" are the units under the same parent (the cities of one province)
    scoped = [s.unit_id for s in batch if needs[s.pk].peers and catalogs[s.task_id][s.form_code].peer_scope == "parent"]
    parents = dict(Unit.objects.filter(id__in=scoped).values_list("id", "parent_id")) if scoped else {}
    out: dict[int, Inputs] = {}
    for s in batch:
        need = needs[s.pk]
        keys, mvalues = members.get(s.pk, ([], []))
        prev = previous.get((s.task.previous_id, s.unit_id, s.form_code)) if need.previous else None
        out[s.pk] = Inputs(
            keys=list(keys), members=list(mvalues) if need.members else None,
            previous=prev[0] if prev else None,
            previous_members=prev[1] if prev and need.previous_members else None,
            children=children.get((s.task_id, s.unit_id), []),
            peers=(peers_of(s.task_id, s.form_code, parents.get(s.unit_id), catalogs[s.task_id][s.form_code])
                   if need.peers else None),
            earlier=earlier.get(s.pk),
        )
    return out


def _earlier_periods(deep: Sequence[Submission], needs: dict[int, Needs]) -> dict[int, list]:
    """For prev(x, n) with n >= 2: the same unit's form (and member entries) 2 … n tasks back along
    Task.previous, nearest first, None for a period without a started form. A few queries for the batch."""
    if not deep:
        return {}
    depth = max(needs[s.pk].depth for s in deep)
    chains = {s.task_id: [s.task.previous_id] for s in deep}  # task → [t-1, t-2, …]
    for _ in range(depth - 1):
        frontier = {c[-1] for c in chains.values() if c[-1]}
        back = dict(Task.objects.filter(pk__in=frontier).values_list("pk", "previous_id"))
        for c in chains.values():
            c.append(back.get(c[-1]) if c[-1] else None)
    task_ids = {t for c in chains.values() for t in c[1:] if t}
    rows = list(Submission.objects.filter(task_id__in=task_ids, unit_id__in={s.unit_id for s in deep},
                                          form_code__in={s.form_code for s in deep})
                .exclude(status=Status.NOT_STARTED).values_list("id", "task_id", "unit_id", "form_code", "values"))
    entries: dict[int, list[dict]] = defaultdict(list)
    for sid, values in (MemberEntry.objects.filter(submission_id__in=[r[0] for r in rows])
                        .order_by("submission_id", "position", "id").values_list("submission_id", "values")):
        entries[sid].append(values)
    found = {(task_id, unit_id, form_code): (values, entries[sid]) for sid, task_id, unit_id, form_code, values in rows}
    return {s.pk: [found.get((t, s.unit_id, s.form_code)) if t else None
                   for t in chains[s.task_id][1:needs[s.pk].depth]] for s in deep}


def run_engine(submission: Submission, form: FormDefinition, inputs: Inputs) -> dict:
    """The engine's verdict on one submission from its loaded inputs; the JSON stored in Submission.result.

    Violations of member sub-forms carry the member's key in "member" so pages can point at the entry."""
    keys = inputs.keys
    position = {k: i for i, k in enumerate(keys)}
    explanations = {}
    for key, text in (submission.explanations or {}).items():
        check, _, member_key = key.partition("@")
        if member_key:
            if member_key in position:  # the engine addresses member entries by position
                explanations[f"{check}#{position[member_key]}"] = text
        else:
            explanations[check] = text
    result = evaluate(
        form, submission.values or {}, members=inputs.members, children=inputs.children,
        previous=inputs.previous, previous_members=inputs.previous_members, peers=inputs.peers,
        explanations=explanations, earlier=inputs.earlier,
    ).to_dict()
    for violation in result.get("violations", []):
        index = violation.get("member")
        violation["member"] = keys[index] if isinstance(index, int) and index < len(keys) else ""
        violation["explanation_key"] = explanation_key(violation["check"], violation["member"])
    return result


def evaluate_batch(batch: Sequence[Submission], *, members: dict[int, MemberRows] | None = None) -> dict[int, dict]:
    """Results of many submissions (each with `task` loaded): the one evaluation path."""
    catalogs: dict[int, Catalog] = {}
    for s in batch:
        if s.task_id not in catalogs:
            catalogs[s.task_id] = catalog_for_task(s.task)
    inputs = load_inputs(batch, catalogs, members)
    return {s.pk: run_engine(s, catalogs[s.task_id][s.form_code], inputs[s.pk]) for s in batch}


def evaluate_submission(submission: Submission, *, member_rows: MemberRows | None = None) -> dict:
    """The result of one submission: a batch of one."""
    members = {submission.pk: member_rows} if member_rows is not None else None
    return evaluate_batch([submission], members=members)[submission.pk]
