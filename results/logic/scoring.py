"""Scoring schemes (26号: 评分标准, 权重, 量化分级) as data, applied to one unit's item values.

A scheme is a dict::

    {"code": ..., "annex": "a2",
     "rubric": [{"level": "优", "fraction": 1}, ...],          # 定性 items: a reviewer picks a level
     "grades": [{"min": 90, "grade": "优秀"}, ..., {"min": 0, "grade": "不合格"}],
     "min_coverage": 0.6,                                        # share of the weight that must be scored
     "items": [{"code": "18a", "weight": 6, "rule": {...}}, ...]}

Rules (the fraction of an item's weight earned):
- {"type": "threshold", "op": ">=", "target": 65}: all or nothing;
- {"type": "linear", "floor": 50, "target": 65}: 0 at the floor, 1 at the target, straight line between,
  clipped to 0–1 (floor above target = lower is better);
- {"type": "bands", "bands": [[100, 1], [50, 0.6], [1, 0.3]]}: the fraction of the first band whose lower
  bound the value reaches (bands listed from the highest bound down), 0 below all;
- {"type": "rubric"}: the fraction of the level a reviewer chose (scheme "rubric").

An item whose value is missing (None: not collected, not computable, no data, not yet scored) is not scored —
never counted as 0. The total is 100 × earned weight / scored weight; a grade is given only when the scored
weight reaches `min_coverage` of the scheme's weight ("数据不足" otherwise).

A province adjusts a scheme for its subtree with `adjust()`: new weights and added items, recorded with who
and why by the caller; the national scheme is never changed in place.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .targets import compare

RULE_TYPES = ("threshold", "linear", "bands", "rubric")
INSUFFICIENT = "数据不足"


class SchemeError(ValueError):
    pass


def content_hash(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                          .encode()).hexdigest()


def validate(scheme: dict, known_items: set[str] | None = None) -> None:
    """Raise SchemeError with a Chinese message on a malformed scheme."""
    codes = set()
    for item in scheme.get("items", []):
        code = item.get("code")
        if not code or code in codes:
            raise SchemeError(f"评分项编码缺失或重复：{code}")
        codes.add(code)
        if known_items is not None and code not in known_items and not item.get("label"):
            raise SchemeError(f"评分项 {code} 不在指标体系中（新增指标须写明名称）")
        w = item.get("weight")
        if not isinstance(w, (int, float)) or isinstance(w, bool) or w < 0:
            raise SchemeError(f"评分项 {code} 的权重应为不小于0的数")
        rule = item.get("rule") or {}
        kind = rule.get("type")
        if kind not in RULE_TYPES:
            raise SchemeError(f"评分项 {code} 的评分规则类型无效：{kind}")
        if kind == "linear" and (rule.get("floor") is None or rule.get("target") is None
                                 or rule["floor"] == rule["target"]):
            raise SchemeError(f"评分项 {code} 的线性规则需要不同的下限与目标值")
        if kind == "bands" and not rule.get("bands"):
            raise SchemeError(f"评分项 {code} 的分档规则缺少分档")
    grades = scheme.get("grades") or []
    if not grades:
        raise SchemeError("评分方案缺少分级（量化分级）")


def fraction(rule: dict, value: Any, rubric: dict[str, float]) -> float | None:
    """The earned share (0–1) of an item's weight, None when the value is missing."""
    if value is None:
        return None
    kind = rule["type"]
    if kind == "rubric":
        return rubric.get(value) if isinstance(value, str) else None
    if isinstance(value, str):
        return None
    if kind == "threshold":
        ok = compare(value, rule["op"], rule["target"])
        return None if ok is None else (1.0 if ok else 0.0)
    if isinstance(value, bool):
        return None
    v = float(value)
    if kind == "linear":
        floor, target = float(rule["floor"]), float(rule["target"])
        share = (v - floor) / (target - floor)
        return max(0.0, min(1.0, share))
    if kind == "bands":
        for bound, frac in sorted(rule["bands"], key=lambda b: -b[0]):
            if v >= bound:
                return float(frac)
        return 0.0
    raise SchemeError(f"unknown rule {kind!r}")


def grade_of(total: float | None, grades: list[dict]) -> str | None:
    if total is None:
        return None
    for band in sorted(grades, key=lambda g: -g["min"]):
        if total >= band["min"] - 1e-9:
            return band["grade"]
    return None


def score(scheme: dict, values: dict[str, Any]) -> dict:
    """Score one unit. `values`: item code → number / bool / rubric level / None.

    Returns {"items": [{"code", "weight", "value", "fraction", "points"}], "total", "coverage", "grade"}
    with points = weight × fraction (None when not scored)."""
    rubric = {r["level"]: float(r["fraction"]) for r in scheme.get("rubric", [])}
    items, earned, scored, weight_total = [], 0.0, 0.0, 0.0
    for item in scheme.get("items", []):
        w = float(item["weight"])
        weight_total += w
        value = values.get(item["code"])
        frac = fraction(item["rule"], value, rubric)
        points = None if frac is None else round(w * frac, 4)
        if frac is not None:
            earned += w * frac
            scored += w
        items.append({"code": item["code"], "weight": w, "value": value, "fraction": frac, "points": points})
    coverage = scored / weight_total if weight_total else 0.0
    total = round(100 * earned / scored, 2) if scored else None
    enough = total is not None and coverage + 1e-9 >= float(scheme.get("min_coverage", 0))
    return {"items": items, "total": total, "coverage": round(coverage, 4),
            "grade": grade_of(total, scheme["grades"]) if enough else (INSUFFICIENT if total is not None else None)}


def adjust(base: dict, *, weights: dict[str, float] | None = None, added: list[dict] | None = None,
           code: str | None = None) -> dict:
    """A province's scheme from a base scheme: changed weights (item code → weight) and added items (each
    with code, label, weight, rule and optionally "data"). The base is not modified."""
    scheme = json.loads(json.dumps(base))
    weights = weights or {}
    known = {i["code"] for i in scheme["items"]}
    unknown = set(weights) - known
    if unknown:
        raise SchemeError(f"评分项不存在：{'、'.join(sorted(unknown))}")
    for item in scheme["items"]:
        if item["code"] in weights:
            item["weight"] = weights[item["code"]]
    for extra in added or []:
        if extra.get("code") in known:
            raise SchemeError(f"新增评分项编码与已有评分项重复：{extra.get('code')}")
        if not extra.get("label"):
            raise SchemeError("新增评分项须写明名称")
        scheme["items"].append(dict(extra))
        known.add(extra["code"])
    scheme["base"] = base.get("code")
    if code:
        scheme["code"] = code
    validate(scheme)
    return scheme
