"""Believable demo values: every field drawn from a distribution with a realistic magnitude for the unit's level,
stated with its source in ``yearbook_2019.json`` next to this module.

How a value is made (one spec per field, in the order the data file lists them, so a field may use those before):
- ``driver``: the unit's registered population, log-normal around the median of its level;
- ``of`` + ``share``: a share (0–1, normal, clipped) of another field (a "其中" part, a rate's numerator);
- ``of`` + ``per``: a multiple of another field (per capita, per bed; log-normal);
- ``value``: a value of its own (log-normal or normal), e.g. a cost per visit;
- ``expr``: an engine expression over the fields already made (and ``members.x``/``children.x``), e.g. a total
  that must equal the sum of its parts; ``noise`` multiplies it by a log-normal factor;
- ``same_as`` / ``fixed`` / ``skip``.

Draws are keyed by (unit, field) — not by their order — so the two years of a unit share them: the current year
is the previous year's draw times the field's ``growth``. Shares and multiples of a city are drawn around its
province's (``region``: the province draw, plus a smaller draw of the city's own), so a province's 表1 and its
cities' 表2 tell the same story and cities are compared with cities that resemble them.
No Django here.
"""

from __future__ import annotations

import json
import math
import random
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine import FormDefinition
from engine.expr import Context, Missing, compile_expression

DATA_FILE = Path(__file__).with_name("yearbook_2019.json")  # the distributions and their sources
REGION_LEVELS = frozenset({"province", "city"})
# How much a city's own draw moves it away from its province's (a fraction of the spec's spread).
CITY_SPREAD = 0.4


@lru_cache(maxsize=1)
def load_data() -> dict[str, Any]:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def _gauss(key: str) -> float:
    return random.Random(key).gauss(0.0, 1.0)


def _clip(x: float, bounds: list | None) -> float:
    if not bounds:
        return x
    lo, hi = bounds
    return min(max(x, lo), hi)


class Profile:
    """Values for one unit and one form, from the data file's specs."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.data = data or load_data()
        self._compiled: dict[tuple[str, str], Any] = {}  # (field, expression) -> compiled function

    def has(self, form_code: str) -> bool:
        return form_code in self.data["forms"]

    def skipped(self, form_code: str) -> set[str]:
        """Fields the demo leaves empty (e.g. the one-type answer of earlier versions)."""
        return {code for code, spec in (self.data["forms"].get(form_code) or {}).items() if spec.get("skip")}

    def values(self, form: FormDefinition, *, level: str, unit_key: str, region_key: str = "", year: int = 1,
               members: list[dict] | None = None, children: list[dict] | None = None) -> dict[str, Any]:
        """``unit_key`` identifies the unit (its code), ``region_key`` its province; ``year`` 0 = previous
        period, 1 = current."""
        specs = self.data["forms"].get(form.code) or {}
        out: dict[str, Any] = {}
        ctx = Context(members=members, children=children)
        self._form = form
        for code, spec in specs.items():
            f = form.fields.get(code)
            if f is None or spec.get("skip"):
                continue
            x = None
            while spec and x is None:  # "else": the spec to use where this one cannot apply (a form without a base)
                x = self._one(code, spec, out, ctx, level=level, unit_key=unit_key, region_key=region_key,
                              year=year, children=children)
                spec = spec.get("else")
            if x is None:
                continue
            out[code] = self._round(f, x)
        return out

    # --- one field ---------------------------------------------------------------------------------------------

    def _noise(self, code: str, sd: float, *, level: str, unit_key: str, region_key: str, regional: bool) -> float:
        """A standard-normal draw scaled by sd: the province's draw for a city (plus the city's own, smaller)."""
        if regional and level in REGION_LEVELS and region_key:
            z = _gauss(f"{region_key}/{code}")
            if level == "city":
                z += CITY_SPREAD * _gauss(f"{unit_key}/{code}")
            return sd * z
        return sd * _gauss(f"{unit_key}/{code}")

    def _one(self, code: str, spec: dict, out: dict, ctx: Context, *, level: str, unit_key: str, region_key: str,
             year: int, children: list[dict] | None) -> Any:
        if "fixed" in spec:
            return spec["fixed"]
        if "same_as" in spec:
            return out.get(spec["same_as"])
        growth = spec.get("growth", 1.0) ** year
        regional = spec.get("region", True)
        kw = {"level": level, "unit_key": unit_key, "region_key": region_key, "regional": regional}
        if "driver" in spec:
            median, sd, lo, hi = self.data["drivers"][spec["driver"]][level if level in REGION_LEVELS else "city"]
            x = _clip(median * math.exp(sd * _gauss(f"{unit_key}/{code}")), [lo, hi])
            if children:  # a province holds more people than its cities together
                known = [c.get(code) for c in children if isinstance(c.get(code), (int, float))]
                x = max(x, 1.4 * sum(known))
            return x * (1.005 ** year)
        if "value" in spec:
            mean, sd = spec["value"]
            if spec.get("dist") == "normal":
                x = mean + self._noise(code, sd, **kw)
            else:
                x = mean * math.exp(self._noise(code, sd, **kw))
            return _clip(x * growth, spec.get("clip"))
        if "of" in spec:
            base = out.get(spec["of"])
            if not isinstance(base, (int, float)) or isinstance(base, bool):
                return None
            if "share" in spec:
                mean, sd = spec["share"]
                return base * _clip((mean + self._noise(code, sd, **kw)) * growth, spec.get("clip"))
            mean, sd = spec["per"]
            return base * _clip(mean * math.exp(self._noise(code, sd, **kw)) * growth, spec.get("clip"))
        if "expr" in spec:
            fn = self._expr(code, spec["expr"])
            x = fn(out, ctx)
            if isinstance(x, Missing) or not isinstance(x, (int, float)) or isinstance(x, bool):
                return None
            if spec.get("noise"):
                x *= math.exp(spec["noise"] * _gauss(f"{unit_key}/{code}"))
            return max(0.0, x)
        return None

    def _expr(self, code: str, source: str) -> Any:
        key = (code, source)
        fn = self._compiled.get(key)
        if fn is None:
            fn = self._compiled[key] = compile_expression(source).fn
        return fn

    @staticmethod
    def _round(f: Any, x: Any) -> Any:
        if isinstance(x, bool) or isinstance(x, str):
            return x
        if f.type == "count":
            return max(0, int(round(x)))
        if f.type == "percent":
            return round(min(max(x, 0.0), 100.0), 2)
        if f.type == "decimal":
            return round(max(x, 0.0), 2)
        return x


def key_indicator_ranges() -> list[dict[str, Any]]:
    return list(load_data()["key_indicators"])
