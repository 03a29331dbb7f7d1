"""Item values of an indicator system (26号 附件1/附件2) for one unit, computed from its form.

An item maps, per form, either to a catalog indicator ({"indicator": "t3.i03"}) or to an expression over the
form's fields ({"expr": "growth(sum(members.outpatient_visits), 1)"}) evaluated by the engine with the same
unit's earlier periods; no mapping for the form = "no data" (无数据); 定性 items come from a reviewer's rubric.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine import Context, compile_expression

from .scoring import content_hash

SYSTEMS_DIR = Path(__file__).resolve().parent.parent / "systems"
SCHEMES_DIR = Path(__file__).resolve().parent.parent / "schemes"

QUALITATIVE = "qualitative"
NO_DATA = "无数据"


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def system_hash(definition: dict) -> str:
    return content_hash(definition)


def annex(definition: dict, code: str) -> dict:
    return next(a for a in definition["annexes"] if a["code"] == code)


def annex_for_form(definition: dict, form_code: str) -> dict | None:
    return next((a for a in definition["annexes"] if form_code in a.get("forms", [])), None)


def mapping(item: dict, form_code: str) -> dict | None:
    return (item.get("data") or {}).get(form_code)


@lru_cache(maxsize=512)
def _compiled(source: str, names: tuple[str, ...], member_names: tuple[str, ...]):
    return compile_expression(source, names=names or None, member_names=member_names or None)


def compile_item(source: str, form: dict, member_form: dict | None):
    names = tuple(sorted(f["code"] for f in form.get("fields", [])))
    member_names = tuple(sorted(f["code"] for f in (member_form or {}).get("fields", [])))
    return _compiled(source, names, member_names)


def _plain(v: Any) -> Any:
    """Engine value → JSON value: numbers rounded, missing → None."""
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return round(float(v), 4)
    try:
        from decimal import Decimal

        if isinstance(v, Decimal):
            return round(float(v), 4)
    except ImportError:  # pragma: no cover
        pass
    return None


def make_context(members: list[dict] | None, earlier: list[tuple[dict, list[dict] | None] | None]) -> Context:
    """The engine context of one unit: its members and its earlier periods (earlier[0] = the previous one)."""
    first = earlier[0] if earlier else None
    return Context(members=members, previous=first[0] if first else None,
                   previous_members=first[1] if first else None, earlier=list(earlier[1:]) or None)


def item_values(items: list[dict], form_code: str, form: dict, member_form: dict | None, *,
                indicators: dict[str, Any], values: dict, members: list[dict] | None,
                earlier: list[tuple[dict, list[dict] | None] | None], qualitative: dict[str, str]) -> dict:
    """item code → {"value", "status"} where status is "ok", "missing" (not computable), "no_data" (the
    forms do not collect it) or "qualitative" (value = the reviewer's rubric level or None)."""
    out: dict[str, dict] = {}
    ctx = None
    for item in items:
        code = item["code"]
        if item.get("kind") == QUALITATIVE:
            out[code] = {"value": qualitative.get(code), "status": QUALITATIVE}
            continue
        m = mapping(item, form_code)
        if m is None:
            out[code] = {"value": None, "status": "no_data"}
            continue
        if "indicator" in m:
            v = indicators.get(m["indicator"])
            value = v if isinstance(v, (int, float)) else None
        else:
            if ctx is None:
                ctx = make_context(members, earlier)
            value = _plain(compile_item(m["expr"], form, member_form).evaluate(values, ctx))
        out[code] = {"value": value, "status": "ok" if value is not None else "missing"}
    return out
