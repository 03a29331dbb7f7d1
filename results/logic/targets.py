"""Layered targets: the national target from the catalog plus a province's and a city's own targets.

A target is a dict {"level": "nation"|"province"|"city", "op": ">="|">"|"<="|"<"|"==", "value": number,
"source": text}. Attainment is judged against each target separately; a missing value ("--", not filled, a
zero denominator — None here) is never judged: attained is None, never False and never 0.
"""

from __future__ import annotations

from typing import Any

LEVEL_ORDER = {"nation": 0, "province": 1, "city": 2}
LEVEL_LABELS = {"nation": "国家", "province": "省级", "city": "市级"}
OPS = (">=", ">", "<=", "<", "==")
OP_LABELS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "="}
EPSILON = 1e-9


def compare(value: Any, op: str, target: Any) -> bool | None:
    """value op target; None when the value is missing or not comparable."""
    if value is None or target is None or isinstance(value, str):
        return None
    if isinstance(value, bool) or isinstance(target, bool):
        if op != "==":
            return None
        return bool(value) == bool(target)
    v, t = float(value), float(target)
    if op == ">=":
        return v >= t - EPSILON
    if op == ">":
        return v > t + EPSILON
    if op == "<=":
        return v <= t + EPSILON
    if op == "<":
        return v < t - EPSILON
    if op == "==":
        return abs(v - t) <= EPSILON
    raise ValueError(f"unknown operator {op!r}")


def ordered(targets: list[dict]) -> list[dict]:
    """Targets from the widest level to the narrowest (nation, province, city)."""
    return sorted(targets, key=lambda t: LEVEL_ORDER.get(t.get("level", ""), 9))


def attainment(value: Any, targets: list[dict]) -> dict:
    """{"targets": [target + {"attained": bool|None}], "attained": bool|None}.

    Overall `attained` is True when every applicable target is met, False when any is missed, None when the
    value is missing or no target applies."""
    judged = []
    for t in ordered(targets):
        judged.append({**t, "attained": compare(value, t["op"], t["value"])})
    verdicts = [t["attained"] for t in judged]
    overall = None if value is None or not verdicts or None in verdicts else all(verdicts)
    return {"targets": judged, "attained": overall}


def higher_is_better(targets: list[dict]) -> bool:
    """Direction of an indicator for ranking: a "≤"/"<" target means lower is better; otherwise higher."""
    for t in ordered(targets):
        if t.get("op") in ("<=", "<"):
            return False
        if t.get("op") in (">=", ">"):
            return True
    return True
