"""GB/T 2260 provinces and prefecture-level cities (accounts/data/regions.json, generated from a data package)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "regions.json"


@lru_cache(maxsize=1)
def regions() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def province(code: str) -> dict:
    for p in regions()["provinces"]:
        if p["code"] == code:
            return p
    raise KeyError(code)
