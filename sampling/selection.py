"""Which approved submissions a batch samples: a risk-based part and a stratified random part.

Reproducible: the risk part depends only on the data and the parameters; the random part draws, per stratum
(the units directly below the scope: provinces for a national batch, cities for a province), with
`random.Random(f"{seed}:{stratum}")` over the candidates in code order. Same seed + same data → same sample.

Risk reasons (each a {"kind", "text", ...} dict stored with the sample):
- hard: hard violations in a stored submit snapshot or in the current (re-evaluated) result. The submit gate
  refuses hard violations, so a snapshot holds one only when it predates a check (catalog change) or a
  roll-up changed after submission (children);
- outlier: |robust z| > threshold on chosen indicators (or fields) against the same form's reported peers;
- explanation: a soft check explained with boiler-plate: shorter than N characters, or the same text used by
  at least K units of the task;
- change: fields that changed by more than a share against the same unit's previous period (previous values
  below `change_min_base` are left out: 1 → 0 is no signal);
- rejections: rejected (or re-check rejected) at least M times.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from accounts.models import Unit
from engine.expr import MAD_SCALE, MIN_PEERS
from reporting.models import Status, Submission, SubmissionSnapshot, Task

SAMPLED_STATUSES = (Status.APPROVED, Status.RECHECKED)
REPORTED_STATUSES = (Status.SUBMITTED, Status.APPROVED, Status.RECHECKED)
WEIGHTS = {"hard": 3, "rejections": 2, "outlier": 2, "change": 1, "explanation": 1}
KIND_LABELS = {"hard": "审核错误", "outlier": "离群值", "explanation": "说明雷同或过短", "change": "与上期差异大",
               "rejections": "多次驳回", "random": "分层随机"}


PARAM_LABELS = {"size": "抽样数量", "seed": "随机种子", "random_share": "随机抽样比例", "forms": "表单",
                "z_threshold": "稳健Z值阈值", "indicators": "离群判断指标", "min_explanation_chars": "说明最少字数",
                "boilerplate_units": "雷同说明单位数≥", "change_share": "与上期变化幅度",
                "change_min_base": "上期值下限", "min_rejections": "驳回次数≥"}


class SelectionError(Exception):
    """Bad parameters; the message is for the user."""


@dataclass
class Params:
    size: int
    seed: int
    random_share: float = 0.3
    forms: list[str] = field(default_factory=list)  # empty: every form
    z_threshold: float = 3.5
    indicators: list[str] = field(default_factory=list)  # indicator or field codes; empty: every indicator
    min_explanation_chars: int = 10
    boilerplate_units: int = 3
    change_share: float = 0.5
    change_min_base: float = 10  # previous values smaller than this (1 → 0) are no "large change"
    min_rejections: int = 2

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Params:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def validate(self) -> None:
        if self.size < 1:
            raise SelectionError("抽样数量须为正整数。")
        if not 0 <= self.random_share <= 1:
            raise SelectionError("随机抽样比例须在0到1之间。")
        if self.z_threshold <= 0 or self.change_share <= 0:
            raise SelectionError("阈值须大于0。")


@dataclass
class Pick:
    submission_id: int
    unit_code: str
    unit_name: str
    form: str
    part: str
    score: float
    reasons: list[dict]
    stratum: str = ""

    def as_json(self) -> dict:
        return {"unit_code": self.unit_code, "unit_name": self.unit_name, "form": self.form, "part": self.part,
                "score": self.score, "reasons": self.reasons, "submission": self.submission_id}


def _num(v) -> float | None:
    return float(v) if type(v) in (int, float) else None


def _short(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)


def _normalise(text: str) -> str:
    return re.sub(r"[\s，。,.;；:：!！、]+", "", text or "")


def _labels(definition: dict) -> dict[str, str]:
    out = {f["code"]: f.get("label", f["code"]) for f in definition.get("fields", [])}
    out.update({i["code"]: i.get("label", i["code"]) for i in definition.get("indicators", [])})
    return out


def _robust(values: list[float]) -> tuple[float, float] | None:
    if len(values) < MIN_PEERS:
        return None
    s = sorted(values)
    n = len(s)
    med = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    dev = sorted(abs(x - med) for x in s)
    mad = dev[n // 2] if n % 2 else (dev[n // 2 - 1] + dev[n // 2]) / 2
    return (med, mad) if mad > 0 else None


def _metric(sub_values: dict, sub_result: dict, code: str) -> float | None:
    if code in (sub_result.get("indicators") or {}):
        return _num(sub_result["indicators"].get(code))
    return _num(sub_values.get(code))


def eligible(task: Task, scope: Unit, forms: list[str] | None = None):
    qs = (Submission.objects.filter(task=task, status__in=SAMPLED_STATUSES, unit__path__startswith=scope.path)
          .exclude(unit=scope).select_related("unit", "form_version"))
    if forms:
        qs = qs.filter(form_code__in=forms)
    return qs.order_by("unit__path", "form_code")


def risk_reasons(task: Task, subs: list[Submission], params: Params) -> dict[int, list[dict]]:
    """submission id → its risk reasons (only submissions with at least one)."""
    from reporting.models import Transition

    ids = [s.pk for s in subs]
    reasons: dict[int, list[dict]] = defaultdict(list)

    # hard violations: every stored snapshot, and the current result
    snapshot_hard: dict[int, list[str]] = defaultdict(list)
    for sid, result in SubmissionSnapshot.objects.filter(submission_id__in=ids).values_list("submission_id",
                                                                                           "result"):
        for v in (result or {}).get("violations", []) or []:
            if v.get("severity") == "hard":
                snapshot_hard[sid].append(v.get("message") or v.get("check", ""))
    for s in subs:
        msgs = list(snapshot_hard.get(s.pk, []))
        msgs += [v.get("message") or v.get("check", "") for v in (s.result or {}).get("violations", []) or []
                 if v.get("severity") == "hard" and (v.get("message") or v.get("check", "")) not in msgs]
        if msgs:
            shown = "；".join(m for m in msgs[:2] if m)
            more = f"等{len(msgs)}条" if len(msgs) > 2 else ""
            reasons[s.pk].append({"kind": "hard", "count": len(msgs),
                                  "text": f"上报数据存在审核错误：{shown}{more}"})

    # rejections
    rejected = Counter(Transition.objects.filter(submission_id__in=ids, action__in=("reject", "recheck_reject"))
                       .values_list("submission_id", flat=True))
    for sid, n in rejected.items():
        if n >= params.min_rejections:
            reasons[sid].append({"kind": "rejections", "count": n, "text": f"本期被驳回{n}次"})

    by_form: dict[str, list[Submission]] = defaultdict(list)
    for s in subs:
        by_form[s.form_code].append(s)

    # robust outliers against every reported peer of the same form (not only the scope)
    for form_code, group in by_form.items():
        definition = group[0].form_version.definition
        labels = _labels(definition)
        codes = [c for c in params.indicators if c in labels] if params.indicators else [
            i["code"] for i in definition.get("indicators", [])]
        if not codes:
            continue
        peers = list(Submission.objects.filter(task=task, form_code=form_code, status__in=REPORTED_STATUSES)
                     .values_list("values", "result"))
        for code in codes:
            stats = _robust([x for x in (_metric(v or {}, r or {}, code) for v, r in peers) if x is not None])
            if stats is None:
                continue
            med, mad = stats
            for s in group:
                x = _metric(s.values or {}, s.result or {}, code)
                if x is None:
                    continue
                z = (x - med) / (MAD_SCALE * mad)
                if abs(z) > params.z_threshold:
                    reasons[s.pk].append({
                        "kind": "outlier", "code": code, "z": round(z, 2),
                        "text": f"“{labels.get(code, code)}”为{_short(x)}，稳健Z值{z:+.1f}，超过阈值"
                                f"{_short(float(params.z_threshold))}（同类单位中位数{_short(med)}）"})

    # explanations: too short, or the same text at several units of the task
    users_of_text: dict[str, set[int]] = defaultdict(set)
    for unit_id, explanations in (Submission.objects.filter(task=task, status__in=REPORTED_STATUSES)
                                  .values_list("unit_id", "explanations")):
        for text in (explanations or {}).values():
            key = _normalise(text)
            if key:
                users_of_text[key].add(unit_id)
    for s in subs:
        explained = {v.get("explanation_key") or v.get("check") for v in (s.result or {}).get("violations", []) or []
                     if v.get("severity") == "soft"}
        texts = [(k, t) for k, t in (s.explanations or {}).items() if k in explained]
        short = [t for _, t in texts if len(_normalise(t)) < params.min_explanation_chars]
        shared = [t for _, t in texts if len(users_of_text.get(_normalise(t), ())) >= params.boilerplate_units]
        if short:
            reasons[s.pk].append({"kind": "explanation", "count": len(short),
                                  "text": f"{len(short)}条合理性问题说明少于{params.min_explanation_chars}字，"
                                          f"如“{short[0][:40]}”"})
        if shared:
            text = shared[0]
            n = len(users_of_text[_normalise(text)])
            reasons[s.pk].append({"kind": "explanation", "count": len(shared),
                                  "text": f"{len(shared)}条合理性问题说明与其他单位雷同（同一说明见于{n}家单位），"
                                          f"如“{text[:40]}”"})

    # large changes against the previous period
    if task.previous_id:
        previous = {(u, f): v for u, f, v in Submission.objects.filter(
            task_id=task.previous_id, unit_id__in=[s.unit_id for s in subs]).exclude(
            status=Status.NOT_STARTED).values_list("unit_id", "form_code", "values")}
        for s in subs:
            prev = previous.get((s.unit_id, s.form_code))
            if not prev:
                continue
            labels = _labels(s.form_version.definition)
            changed = []
            for code, value in (s.values or {}).items():
                x, p = _num(value), _num(prev.get(code))
                if x is None or p is None or p == 0 or abs(p) < params.change_min_base:
                    continue
                share = (x - p) / abs(p)
                if abs(share) > params.change_share:
                    changed.append((abs(share), code, p, x, share))
            if changed:
                changed.sort(key=lambda c: (-c[0], c[1]))
                shown = "；".join(f"“{labels.get(code, code)}”{_short(p)}→{_short(x)}（{share * 100:+.0f}%）"
                                 for _, code, p, x, share in changed[:3])
                more = f"等{len(changed)}项" if len(changed) > 3 else ""
                reasons[s.pk].append({"kind": "change", "count": len(changed), "fields": [c[1] for c in changed],
                                      "text": f"与上期相比变化超过{params.change_share * 100:.0f}%：{shown}{more}"})
    return dict(reasons)


def _stratum(unit: Unit, scope: Unit) -> str:
    """The code of the unit directly below the scope on the unit's path (its province for a national batch)."""
    codes = [c for c in unit.path.strip("/").split("/") if c]
    depth = len([c for c in scope.path.strip("/").split("/") if c])
    return codes[depth] if len(codes) > depth else unit.code


def _allocate(total: int, sizes: dict[str, int]) -> dict[str, int]:
    """Proportional quotas by the largest remainder (ties by stratum code), never more than a stratum holds."""
    quotas = {k: 0 for k in sizes}
    remaining = min(total, sum(sizes.values()))
    while remaining > 0:
        pool = {k: n - quotas[k] for k, n in sizes.items() if n - quotas[k] > 0}
        weight = sum(pool.values())
        shares = {k: remaining * n / weight for k, n in pool.items()}
        floors = {k: min(int(v), pool[k]) for k, v in shares.items()}
        for k, v in floors.items():
            quotas[k] += v
        left = remaining - sum(floors.values())
        order = sorted(pool, key=lambda k: (-(shares[k] - floors[k]), k))
        for k in order:
            if left <= 0:
                break
            if quotas[k] < sizes[k]:
                quotas[k] += 1
                left -= 1
        remaining = min(total, sum(sizes.values())) - sum(quotas.values())
    return quotas


def select(task: Task, scope: Unit, params: Params) -> list[Pick]:
    """The batch's sample: the risk part (highest risk score first) then the stratified random part."""
    params.validate()
    subs = list(eligible(task, scope, params.forms))
    if not subs:
        return []
    reasons = risk_reasons(task, subs, params)
    random_slots = round(params.size * params.random_share)
    risk_slots = params.size - random_slots
    scored = []
    for s in subs:
        rs = reasons.get(s.pk)
        if rs:
            score = sum(WEIGHTS.get(k, 1) for k in {r["kind"] for r in rs})
            scored.append((score, s, rs))
    scored.sort(key=lambda t: (-t[0], t[1].unit.path, t[1].form_code))
    picks = [Pick(submission_id=s.pk, unit_code=s.unit.code, unit_name=s.unit.name, form=s.form_code,
                  part="risk", score=float(score), reasons=rs, stratum=_stratum(s.unit, scope))
             for score, s, rs in scored[:risk_slots]]
    chosen = {p.submission_id for p in picks}
    random_slots = params.size - len(picks)  # risk slots left empty go to the random part
    rest: dict[str, list[Submission]] = defaultdict(list)
    for s in subs:
        if s.pk not in chosen:
            rest[_stratum(s.unit, scope)].append(s)
    quotas = _allocate(random_slots, {k: len(v) for k, v in rest.items()})
    names = dict(Unit.objects.filter(code__in=list(rest)).values_list("code", "name"))
    for stratum in sorted(rest):
        quota = quotas.get(stratum, 0)
        if not quota:
            continue
        candidates = sorted(rest[stratum], key=lambda s: (s.unit.code, s.form_code))
        rng = random.Random(f"{params.seed}:{stratum}")
        for s in sorted(rng.sample(candidates, quota), key=lambda s: (s.unit.code, s.form_code)):
            text = f"分层随机抽取（{names.get(stratum, stratum)}配额{quota}个，种子{params.seed}）"
            other = reasons.get(s.pk, [])
            picks.append(Pick(submission_id=s.pk, unit_code=s.unit.code, unit_name=s.unit.name, form=s.form_code,
                              part="random", score=0.0, reasons=[{"kind": "random", "text": text}, *other],
                              stratum=stratum))
    return picks
