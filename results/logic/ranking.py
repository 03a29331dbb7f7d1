"""Ranks and percentiles among peers, and medians; missing values (None) take no rank and count nowhere."""

from __future__ import annotations

from statistics import median as _median
from typing import Any


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def rank(values: dict[str, Any], *, higher_is_better: bool = True) -> dict[str, dict]:
    """values: unit code → value. Returns code → {"rank", "n", "percentile"} for the units with a number.

    Rank 1 is the best; ties share the best rank ("1224"). Percentile = share of the other peers this unit is
    at least as good as, 0–100 (100 for a unit alone)."""
    known = {k: float(v) for k, v in values.items() if _numeric(v)}
    n = len(known)
    out: dict[str, dict] = {}
    for code, v in known.items():
        better = sum(1 for w in known.values() if (w > v if higher_is_better else w < v))
        not_better = sum(1 for w in known.values() if (w <= v if higher_is_better else w >= v)) - 1
        out[code] = {"rank": better + 1, "n": n,
                     "percentile": round(100 * not_better / (n - 1), 1) if n > 1 else 100.0}
    return out


def median(values: list[Any]) -> dict:
    known = [float(v) for v in values if _numeric(v)]
    return {"median": round(_median(known), 4) if known else None, "n": len(known)}
