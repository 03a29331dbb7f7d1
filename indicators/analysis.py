"""Aggregating stored engine results for the analysts' charts: distribution and target attainment."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import median

from reporting.models import Status

REPORTED = (Status.SUBMITTED, Status.APPROVED, Status.RECHECKED)


@dataclass
class IndicatorSummary:
    code: str
    label: str
    unit: str
    target: dict | None
    values: list[float] = field(default_factory=list)
    attained: int = 0
    judged: int = 0  # units with a computable value, for indicators that have a target
    not_computable: int = 0
    by_group: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    attained_by_group: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))

    def as_dict(self, group_names: dict[str, str]) -> dict:
        values = sorted(self.values)

        def q(p: float) -> float | None:
            if not values:
                return None
            return round(values[min(len(values) - 1, int(p * (len(values) - 1) + 0.5))], 4)

        return {
            "code": self.code, "label": self.label, "unit": self.unit, "target": self.target,
            "n": len(values), "not_computable": self.not_computable,
            "median": round(median(values), 4) if values else None, "p25": q(0.25), "p75": q(0.75),
            "attainment_rate": round(100 * self.attained / self.judged, 1) if self.judged else None,
            "groups": [
                {"code": g, "name": group_names.get(g, g), "median": round(median(v), 4) if v else None,
                 "n": len(v),
                 "attainment_rate": (round(100 * sum(self.attained_by_group[g]) / len(self.attained_by_group[g]), 1)
                                     if self.attained_by_group.get(g) else None)}
                for g, v in sorted(self.by_group.items())
            ],
        }


def summarise(indicators: list[dict], rows: Iterable[tuple[str, dict]], group_names: dict[str, str]) -> list[dict]:
    """`indicators`: the form's indicator definitions; `rows`: (group code, stored result) per submission."""
    summaries = {i["code"]: IndicatorSummary(i["code"], i["label"], i.get("unit", ""), i.get("target"))
                 for i in indicators}
    for group, result in rows:
        values = (result or {}).get("indicators", {})
        attainment = (result or {}).get("attainment", {})
        for code, summary in summaries.items():
            value = values.get(code)
            if value is None:
                summary.not_computable += 1
                continue
            summary.values.append(value)
            summary.by_group[group].append(value)
            if summary.target is not None and attainment.get(code) is not None:
                summary.judged += 1
                summary.attained += bool(attainment[code])
                summary.attained_by_group[group].append(bool(attainment[code]))
    return [s.as_dict(group_names) for s in summaries.values()]
