"""Building result cards and release snapshots from stored engine results (Django side; the logic is in
results.logic, plain Python)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings

from accounts.models import Role, Unit, UnitLevel, User
from reporting.catalog_loader import task_definitions
from reporting.models import MemberEntry, Status, Submission, Task

from .logic import items as item_logic
from .logic import ranking, scoring
from .logic.targets import LEVEL_LABELS, OP_LABELS, attainment, higher_is_better
from .models import (
    AUDIENCE_RANK,
    Audience,
    IndicatorSystem,
    LocalTarget,
    QualitativeScore,
    Release,
    ReleaseStatus,
    SchemeStatus,
    ScoringScheme,
)

FORMS = ("t1", "t2", "t3", "t4")
REPORTED = (Status.SUBMITTED, Status.APPROVED, Status.RECHECKED)
TREND_PERIODS = 3
SYSTEM_CODE = "yljx2018"


def min_cell_units() -> int:
    return int(getattr(settings, "RESULTS_MIN_CELL_UNITS", 3))


# ---- who may do what -------------------------------------------------------------------------------------

def is_national(user: User) -> bool:
    """The national level: platform admins and national reviewers/analysts."""
    if not user.is_authenticated:
        return False
    if user.is_platform_admin:
        return True
    return (user.role in (Role.REVIEWER, Role.ANALYST) and user.unit_id is not None
            and user.unit.level == UnitLevel.NATION)


def is_level(user: User, *levels: str) -> bool:
    return (user.is_authenticated and user.role in (Role.REVIEWER, Role.ANALYST) and user.unit_id is not None
            and user.unit.level in levels)


def chain(task: Task, n: int = TREND_PERIODS) -> list[Task]:
    """The task and its predecessors, newest first (2019, 2018, 2017)."""
    out, seen = [task], {task.pk}
    while len(out) < n and out[-1].previous_id and out[-1].previous_id not in seen:
        prev = Task.objects.get(pk=out[-1].previous_id)
        out.append(prev)
        seen.add(prev.pk)
    return out


def ancestors_by_level(unit: Unit, units_by_code: dict[str, Unit]) -> dict[str, Unit]:
    out = {}
    for code in unit.path.strip("/").split("/"):
        u = units_by_code.get(code)
        if u is not None:
            out[u.level] = u
    return out


def latest_system() -> IndicatorSystem | None:
    return IndicatorSystem.objects.filter(code=SYSTEM_CODE).order_by("-created_at", "-id").first()


def adopted_schemes() -> dict[tuple[str, str], ScoringScheme]:
    """(annex, unit code) → the adopted scheme (the nation's, or a province's for its subtree)."""
    return {(s.annex, s.unit.code): s for s in ScoringScheme.objects.filter(status=SchemeStatus.ADOPTED)
            .select_related("unit", "system")}


def scheme_for(annex: str, path_codes: list[str], schemes: dict) -> ScoringScheme | None:
    """The narrowest adopted scheme along the unit's path (a province's adjusted one before the nation's)."""
    for code in reversed(path_codes):
        s = schemes.get((annex, code))
        if s is not None:
            return s
    return None


# ---- the snapshot ----------------------------------------------------------------------------------------

def build_snapshot(task: Task, *, statuses=REPORTED, schemes: dict | None = None,
                   only_forms: tuple[str, ...] = FORMS) -> dict:
    """Everything a result card shows, for every reported unit of the task, as one JSON-ready dict."""
    definitions = task_definitions(task)
    periods = chain(task)
    subs = list(Submission.objects.filter(task=task, form_code__in=only_forms, status__in=statuses)
                .select_related("unit").order_by("unit__path", "form_code"))
    earlier_subs: dict[tuple[int, int, str], Submission] = {}
    for s in Submission.objects.filter(task__in=periods[1:], unit_id__in=[s.unit_id for s in subs],
                                       form_code__in=only_forms).exclude(status=Status.NOT_STARTED):
        earlier_subs[(s.task_id, s.unit_id, s.form_code)] = s
    members: dict[int, list[dict]] = defaultdict(list)
    all_ids = [s.pk for s in subs] + [s.pk for s in earlier_subs.values()]
    for sid, values in (MemberEntry.objects.filter(submission_id__in=all_ids).order_by("submission_id", "position",
                                                                                       "id")
                        .values_list("submission_id", "values")):
        members[sid].append(values)
    codes = {c for s in subs for c in s.unit.path.strip("/").split("/") if c}
    units_by_code = {u.code: u for u in Unit.objects.filter(code__in=codes)}
    local: dict[tuple[int, str], LocalTarget] = {
        (t.unit_id, t.indicator_code): t for t in LocalTarget.objects.filter(active=True)}
    qualitative: dict[int, dict[str, str]] = defaultdict(dict)
    for q in QualitativeScore.objects.filter(task=task):
        qualitative[q.unit_id][q.item_code] = q.level
    system = latest_system()
    schemes = adopted_schemes() if schemes is None else schemes

    units: dict[str, dict] = {}
    for s in subs:
        definition = definitions.get(s.form_code) or {}
        member_form = definitions.get(definition.get("subform") or "") if definition.get("subform") else None
        anc = ancestors_by_level(s.unit, units_by_code)
        result_values = (s.result or {}).get("indicators", {})
        trend_sources = [(t, s if t.pk == task.pk else earlier_subs.get((t.pk, s.unit_id, s.form_code)))
                         for t in periods]
        indicators = []
        for ind in definition.get("indicators", []):
            code = ind["code"]
            targets = []
            if ind.get("target"):
                t = ind["target"]
                targets.append({"level": "nation", "op": t["op"], "value": t["value"], "source": t.get("source", "")})
            for level in (UnitLevel.PROVINCE, UnitLevel.CITY):
                owner = anc.get(level)
                lt = local.get((owner.pk, code)) if owner is not None else None
                if lt is not None:
                    targets.append({"level": str(level), "op": lt.op, "value": lt.value, "source": lt.source,
                                    "unit": owner.name})
            value = result_values.get(code)
            judged = attainment(value, targets)
            trend = []
            for t, src in reversed(trend_sources):
                v = ((src.result or {}).get("indicators", {}).get(code)) if src is not None else None
                trend.append({"task": t.code, "year": t.period_end.year, "value": v})
            indicators.append({
                "code": code, "label": ind["label"], "unit": ind.get("unit", ""), "value": value,
                "reason": (s.result or {}).get("reasons", {}).get(code, "") if value is None else "",
                "targets": judged["targets"], "attained": judged["attained"], "trend": trend,
                "higher_is_better": higher_is_better(targets),
            })
        card = {
            "code": s.unit.code, "name": s.unit.name, "level": s.unit.level, "path": s.unit.path,
            "province": anc[UnitLevel.PROVINCE].code if UnitLevel.PROVINCE in anc else None,
            "city": anc[UnitLevel.CITY].code if UnitLevel.CITY in anc else None,
            "form": s.form_code, "form_title": definition.get("title", s.form_code), "status": s.status,
            "indicators": indicators, "items": [], "score": None, "grade": None, "scheme": None,
        }
        if system is not None:
            annex = item_logic.annex_for_form(system.definition, s.form_code)
            path_codes = [c for c in s.unit.path.strip("/").split("/") if c]
            scheme = scheme_for(annex["code"], path_codes, schemes) if annex else None
            if annex is not None:
                earlier = []
                for _t, src in trend_sources[1:]:
                    earlier.append((src.values, members.get(src.pk)) if src is not None else None)
                item_defs = {i["code"]: i for i in annex["items"]}
                extra = [i for i in (scheme.definition["items"] if scheme else []) if i["code"] not in item_defs]
                all_items = list(annex["items"]) + extra
                computed = item_logic.item_values(
                    all_items, s.form_code, definition, member_form, indicators=result_values,
                    values=s.values or {}, members=members.get(s.pk) if member_form else None,
                    earlier=earlier, qualitative=qualitative.get(s.unit_id, {}))
                scored = scoring.score(scheme.definition, {k: v["value"] for k, v in computed.items()}) \
                    if scheme else None
                points = {i["code"]: i for i in (scored["items"] if scored else [])}
                weights = {i["code"]: i["weight"] for i in (scheme.definition["items"] if scheme else [])}
                for item in all_items:
                    c = computed[item["code"]]
                    p = points.get(item["code"], {})
                    card["items"].append({
                        "code": item["code"], "no": item.get("no"), "label": item["label"],
                        "kind": item.get("kind", "quantitative"), "value": c["value"], "status": c["status"],
                        "unit": (item_logic.mapping(item, s.form_code) or {}).get("unit", ""),
                        "indicator": (item_logic.mapping(item, s.form_code) or {}).get("indicator"),
                        "weight": weights.get(item["code"]), "points": p.get("points"),
                    })
                if scored:
                    card["score"], card["grade"] = scored["total"], scored["grade"]
                    card["coverage"] = scored["coverage"]
                    card["scheme"] = {"code": scheme.definition.get("code"), "hash": scheme.content_hash,
                                      "unit": scheme.unit.code}
                by_indicator = {i["indicator"]: i["points"] for i in card["items"] if i["indicator"]}
                for ind in card["indicators"]:
                    ind["score"] = by_indicator.get(ind["code"])
        for ind in card["indicators"]:
            ind.setdefault("score", None)
        units[s.unit.code] = card

    # Ranks and percentiles among peers (same form, nationwide), medians by level.
    medians: dict[str, dict] = {}
    by_form: dict[str, list[dict]] = defaultdict(list)
    for card in units.values():
        by_form[card["form"]].append(card)
    for form_code, cards in by_form.items():
        codes_ = [i["code"] for i in cards[0]["indicators"]]
        medians[form_code] = {}
        for idx, code in enumerate(codes_):
            vals = {c["code"]: c["indicators"][idx]["value"] for c in cards}
            ranks = ranking.rank(vals, higher_is_better=cards[0]["indicators"][idx]["higher_is_better"])
            for c in cards:
                r = ranks.get(c["code"])
                c["indicators"][idx].update({"rank": r["rank"] if r else None, "peers": r["n"] if r else None,
                                             "percentile": r["percentile"] if r else None})
            groups: dict[str, dict[str, list]] = {"province": defaultdict(list), "city": defaultdict(list)}
            for c in cards:
                for g in ("province", "city"):
                    if c[g]:
                        groups[g][c[g]].append(c["indicators"][idx]["value"])
            medians[form_code][code] = {
                "nation": ranking.median(list(vals.values())),
                "province": {k: ranking.median(v) for k, v in groups["province"].items()},
                "city": {k: ranking.median(v) for k, v in groups["city"].items()},
            }
        graded = {c["code"]: c["score"] for c in cards if c["score"] is not None}
        score_ranks = ranking.rank(graded)
        for c in cards:
            r = score_ranks.get(c["code"])
            c["score_rank"] = r["rank"] if r else None
    names = {u.code: u.name for u in units_by_code.values()}
    return {"task": task.code, "task_name": task.name, "year": task.period_end.year,
            "periods": [{"task": t.code, "year": t.period_end.year} for t in reversed(periods)],
            "units": units, "medians": medians, "names": names}


def change_log(old: dict | None, new: dict) -> list[dict]:
    """What differs between two snapshots: indicator values, scores and grades per unit."""
    if not old:
        return []
    out = []
    for code, card in new["units"].items():
        before = old["units"].get(code)
        if before is None:
            out.append({"unit": code, "name": card["name"], "what": "新增单位", "old": None, "new": None})
            continue
        old_values = {i["code"]: i["value"] for i in before["indicators"]}
        for ind in card["indicators"]:
            if old_values.get(ind["code"]) != ind["value"]:
                out.append({"unit": code, "name": card["name"], "what": ind["label"], "indicator": ind["code"],
                            "old": old_values.get(ind["code"]), "new": ind["value"]})
        for key, label in (("score", "综合得分"), ("grade", "分级")):
            if before.get(key) != card.get(key):
                out.append({"unit": code, "name": card["name"], "what": label, "old": before.get(key),
                            "new": card.get(key)})
    for code, card in old["units"].items():
        if code not in new["units"]:
            out.append({"unit": code, "name": card["name"], "what": "移除单位", "old": None, "new": None})
    return out


# ---- who reads which release -----------------------------------------------------------------------------

def readable_release(user: User, task: Task, *, version: int | None = None) -> Release | None:
    """The release a user reads for a task.

    National level: the newest version in any state (or the one asked for). Others: during a feedback window
    the release under feedback (province and city reviewers/analysts of the subtree), else the newest
    published version whose audience reaches them — a newer frozen correction stays invisible to them until
    it is published."""
    qs = Release.objects.filter(task=task).order_by("-version")
    if is_national(user):
        return (qs.filter(version=version) if version else qs).first()
    if not user.is_authenticated:
        return qs.filter(status=ReleaseStatus.PUBLISHED, audience=Audience.PUBLIC).first()
    if is_level(user, UnitLevel.PROVINCE, UnitLevel.CITY):
        fb = qs.filter(status__in=(ReleaseStatus.FEEDBACK, ReleaseStatus.DECIDED)).first()
        if fb is not None and (version is None or version == fb.version):
            return fb
    return qs.filter(status=ReleaseStatus.PUBLISHED).first()


def may_read_card(user: User, release: Release, unit_code: str, card: dict) -> bool:
    """Audience tiers: 省级 = each province (its subtree, fillers their own unit); 行业内 = any logged-in user;
    公众 = also any logged-in user (the anonymous public only sees the public page's aggregates)."""
    if is_national(user):
        return True
    if not user.is_authenticated or user.unit_id is None:
        return False
    in_subtree = card["path"].startswith(user.unit.path)
    if release.status in (ReleaseStatus.FEEDBACK, ReleaseStatus.DECIDED):
        return in_subtree and is_level(user, UnitLevel.PROVINCE, UnitLevel.CITY)
    if release.status != ReleaseStatus.PUBLISHED:
        return False
    if AUDIENCE_RANK.get(release.audience, 0) >= AUDIENCE_RANK[Audience.SECTOR]:
        return True
    if user.role in (Role.REVIEWER, Role.ANALYST):
        return in_subtree
    return card["code"] == user.unit.code  # a filler: its own unit's card


def comparisons(snapshot: dict, card: dict) -> list[dict]:
    """Per indicator: the comparison a card shows — a province against the national median, a city against its
    province (the province's own value and the median of its cities), an alliance against its city and
    province medians."""
    med = snapshot["medians"].get(card["form"], {})
    province_card = snapshot["units"].get(card["province"] or "") if card["level"] == UnitLevel.CITY else None
    out = []
    for ind in card["indicators"]:
        m = med.get(ind["code"], {})
        row = {"code": ind["code"], "nation": m.get("nation", {})}
        if card["province"] and card["level"] != UnitLevel.PROVINCE:
            row["province"] = m.get("province", {}).get(card["province"], {})
        if card["city"] and card["level"] not in (UnitLevel.PROVINCE, UnitLevel.CITY):
            row["city"] = m.get("city", {}).get(card["city"], {})
        if province_card is not None:
            row["province_value"] = next((i["value"] for i in province_card["indicators"]
                                          if i["label"] == ind["label"]), None)
        out.append(row)
    return out


def public_table(snapshot: dict) -> list[dict]:
    """The public page's cells: per form and indicator, the national median and each province's median, a cell
    built from fewer than RESULTS_MIN_CELL_UNITS units suppressed (value None, suppressed True)."""
    k = min_cell_units()
    names = snapshot.get("names", {})
    out = []
    for form_code, inds in snapshot["medians"].items():
        sample = next((c for c in snapshot["units"].values() if c["form"] == form_code), None)
        labels = {i["code"]: (i["label"], i["unit"]) for i in (sample["indicators"] if sample else [])}
        for code, m in inds.items():
            label, unit = labels.get(code, (code, ""))

            def cell(stat: dict) -> dict:
                n = stat.get("n", 0)
                ok = n >= k
                return {"median": stat.get("median") if ok else None, "n": n if ok else None, "suppressed": not ok}

            out.append({"form": form_code, "form_title": sample["form_title"] if sample else form_code,
                        "code": code, "label": label, "unit": unit, "nation": cell(m["nation"]),
                        "provinces": [{"code": p, "name": names.get(p, p), **cell(stat)}
                                      for p, stat in sorted(m["province"].items())]})
    return out


def api_card(card: dict) -> dict:
    """The published card in the API contract's shape."""
    return {
        "unit": card["code"], "name": card["name"], "form": card["form"],
        "indicators": [{
            "code": i["code"], "label": i["label"], "value": i["value"],
            "targets": [{"level": t["level"], "op": t["op"], "value": t["value"], "source": t["source"],
                         "attained": t["attained"]} for t in i["targets"]],
            "attained": i["attained"], "rank": i.get("rank"), "peers": i.get("peers"),
            "percentile": i.get("percentile"), "trend": i["trend"], "score": i.get("score"),
        } for i in card["indicators"]],
        "score": card.get("score"), "grade": card.get("grade"),
    }


def target_text(t: dict) -> str:
    return f"{LEVEL_LABELS.get(t['level'], t['level'])} {OP_LABELS.get(t['op'], t['op'])} {t['value']:g}"


def dry_run(scheme: ScoringScheme, task: Task) -> list[dict]:
    """Scores and grades a (not yet adopted) scheme would give on a past task, next to the adopted ones."""
    adopted = adopted_schemes()
    trial = dict(adopted)
    trial[(scheme.annex, scheme.unit.code)] = scheme
    forms = tuple(item_logic.annex(scheme.system.definition, scheme.annex).get("forms", []))
    now = build_snapshot(task, schemes=adopted, only_forms=forms)
    new = build_snapshot(task, schemes=trial, only_forms=forms)
    rows = []
    for code, card in new["units"].items():
        if not card["path"].startswith(scheme.unit.path):
            continue
        before = now["units"].get(code, {})
        rows.append({"code": code, "name": card["name"], "form": card["form"],
                     "score": card["score"], "grade": card["grade"],
                     "current_score": before.get("score"), "current_grade": before.get("grade")})
    return rows


def values_for_items(snapshot_card: dict) -> dict[str, Any]:
    return {i["code"]: i["value"] for i in snapshot_card.get("items", [])}
