"""How a value is shown to a person: the one value formatter of the platform (pages, exports, messages).

Numbers without trailing zeros (at most 4 decimals), optionally with thousands separators; "--" (未统计) as
"--"; booleans as 是/否; an unfilled value as `empty`.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from .expr import ABSENT, NOT_APPLICABLE, NOT_COLLECTED, Missing, is_missing


def format_value(v: Any, *, empty: str = "未填", grouping: bool = False) -> str:
    """A value as shown to a clerk. `empty`: the text of an unfilled value; `grouping`: 12,345 separators."""
    if v is ABSENT or v is None:
        return empty
    if v is NOT_APPLICABLE:
        return "不适用"
    if v is True:
        return "是"
    if v is False:
        return "否"
    if isinstance(v, Missing):
        return NOT_COLLECTED if v.kind == "dash" else (empty if v.kind == "unfilled" else v.reason)
    if isinstance(v, int):
        return f"{v:,}" if grouping else str(v)
    if isinstance(v, (float, Decimal)):
        f = float(v)
        if not math.isfinite(f):
            return str(f)
        if f == int(f) and abs(f) < 1e15:
            return f"{int(f):,}" if grouping else str(int(f))
        text = f"{round(f, 4):,.4f}" if grouping else f"{round(f, 4):.4f}"
        return text.rstrip("0").rstrip(".")
    if isinstance(v, str):
        if is_missing(v):
            return NOT_COLLECTED
        if not v.strip():
            return empty
        return v
    return str(v)
