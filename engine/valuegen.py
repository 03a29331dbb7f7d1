"""Plausible values for a form, generated from its catalog definition and repaired with the engine until clean.

Used by the demo (demo.states) and by tests that need a complete, clean form whatever fields the catalog holds.
No Django here: it works on compiled engine definitions (engine).

How: every field gets a value by type and unit, with a magnitude that depends on the field code (so the same
field is of the same order in every unit: peer comparisons stay calm) and on the level of the unit; "其中"
parts are drawn as a share of their total. Then the engine evaluates the form and each violated check is
repaired: the check's expression is a comparison, and for each field it names we solve the comparison for
that field numerically (the expressions are linear in any one field in practice), keep the candidate that
leaves the fewest violations, and repeat until nothing is violated.
"""

from __future__ import annotations

import hashlib
import math
import random
from typing import Any

from engine import FormDefinition, evaluate
from engine.expr import BoolOp, Call, Compare, Context, Missing, Name, Node, Not

LEVEL_SCALE = {"nation": 60.0, "province": 12.0, "city": 1.0, "urban_alliance": 0.08, "county_alliance": 0.06,
               "member": 0.02}
# Typical size of a city-level value by unit (before the level scale); (low, high) of a log-uniform draw.
COUNT_MAGNITUDE = {
    "个": (20, 400), "人": (500, 20000), "人次": (200000, 3000000), "例": (2000, 30000), "例次": (1000, 20000),
    "天": (300, 3000), "床日": (200000, 1500000), "张": (2000, 20000), "次": (50, 800),
}
DECIMAL_RANGE = {  # not scaled by level: averages and rates
    "元": (150.0, 12000.0), "元/人/年": (30.0, 150.0), "天": (6.0, 11.0), "小时": (2.0, 24.0), "岁": (76.0, 79.5),
    "‰": (3.0, 8.0), "1/10万": (8.0, 20.0), "周": (4.0, 8.0), "次": (2.0, 30.0), "人": (2.0, 6.0),
    "人次": (2.0, 20.0), "": (1.0, 100.0),
}
PERCENT_RANGE = (45.0, 92.0)
MAX_ROUNDS = 60

def _unit_hash(code: str) -> float:
    """A stable number in [0, 1) per field code."""
    return int(hashlib.sha256(code.encode()).hexdigest()[:8], 16) / 0x100000000


def _round(field_type: str, value: float) -> int | float:
    if field_type == "count":
        return max(0, int(round(value)))
    value = max(0.0, value)
    if field_type == "percent":
        value = min(100.0, value)
    return round(value, 2)


class ValueGenerator:
    """Generate and repair values of one form (and its member sub-form)."""

    def __init__(self, form: FormDefinition, *, level: str, rng: random.Random, name: str = "",
                 org_code: str = "") -> None:
        self.form = form
        self.level = level
        self.rng = rng
        self.name = name
        self.org_code = org_code

    # --- first draft ------------------------------------------------------------------------------------------

    def draft(self, form: FormDefinition | None = None, *, level: str | None = None, name: str | None = None,
              org_code: str | None = None, lead: bool = True) -> dict[str, Any]:
        form = form or self.form
        scale = LEVEL_SCALE.get(level or self.level, 1.0)
        values: dict[str, Any] = {}
        # totals before their parts
        order = sorted(form.field_list, key=lambda f: self._depth(form, f.code))
        for f in order:
            values[f.code] = self._value(form, f, values, scale, name if name is not None else self.name,
                                         org_code if org_code is not None else self.org_code, lead)
        return {k: v for k, v in values.items() if v is not None}

    @staticmethod
    def _depth(form: FormDefinition, code: str) -> int:
        depth, cur = 0, form.fields[code].of
        while cur is not None and depth < 20:
            depth += 1
            cur = form.fields[cur].of if cur in form.fields else None
        return depth

    def _value(self, form: FormDefinition, f: Any, values: dict, scale: float, name: str, org_code: str,
               lead: bool) -> Any:
        rng = self.rng
        if f.type == "yesno":
            return True
        if f.type == "choice":
            choices = list(f.choices or [])
            if not choices:
                return None
            if "牵头医院" in choices and "成员单位" in choices:
                return "牵头医院" if lead else "成员单位"
            return choices[0]
        if f.type == "text":
            label = f.label or ""
            if "代码" in label or "编码" in label:
                return org_code or ("12" + "".join(str(rng.randrange(10)) for _ in range(16)))
            if "名称" in label or "医院" in label:
                return name or "示例医院"
            return "按要求开展"
        if f.of is not None and f.of in values and isinstance(values[f.of], int | float):
            share = 0.3 + 0.5 * _unit_hash(f.code + "/share") + rng.uniform(-0.05, 0.05)
            return _round(f.type, values[f.of] * share)
        if f.type == "percent":
            lo, hi = PERCENT_RANGE
            base = lo + (hi - lo) * _unit_hash(f.code)
            return _round("percent", base * rng.uniform(0.95, 1.05))
        if f.type == "decimal":
            lo, hi = DECIMAL_RANGE.get(f.unit or "", DECIMAL_RANGE[""])
            base = lo + (hi - lo) * _unit_hash(f.code)
            value = base * rng.uniform(0.9, 1.1)
        else:
            lo, hi = COUNT_MAGNITUDE.get(f.unit or "", (10, 300))
            base = math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * _unit_hash(f.code))
            value = max(1.0, base * scale * rng.uniform(0.8, 1.2))
        if f.min is not None:
            value = max(value, float(f.min))
        if f.max is not None:
            value = min(value, float(f.max))
        return _round(f.type, value)

    def grow(self, previous: dict[str, Any], factor: float) -> dict[str, Any]:
        """This period's values from the previous period's: counts and amounts grow by about `factor`."""
        out: dict[str, Any] = {}
        for code, value in previous.items():
            f = self.form.fields.get(code) or (self.form.subform.fields.get(code) if self.form.subform else None)
            if f is None:
                continue
            if f.type in ("count", "decimal") and isinstance(value, int | float) and not isinstance(value, bool):
                out[code] = _round(f.type, value * factor * self.rng.uniform(0.98, 1.02))
            else:
                out[code] = value
        return out

    # --- repair -----------------------------------------------------------------------------------------------

    def repair(self, values: dict[str, Any], members: list[dict[str, Any]] | None = None,
               **context: Any) -> tuple[dict[str, Any], list[dict[str, Any]] | None, list[Any]]:
        """Change values until the engine reports no violation (or no change helps any more).

        `context`: children / previous / previous_members / peers as evaluate() takes them.
        Returns (values, members, remaining violations).
        """
        self._context = context

        state = (dict(values), [dict(m) for m in members] if members is not None else None)
        result = self._run(state)
        for _ in range(MAX_ROUNDS):
            if not result.violations:
                break
            step = self._improve(state, result, depth=1)
            if step is None:
                break
            state, result = step
        del self._context
        return state[0], state[1], list(result.violations)

    def _run(self, state: tuple[dict, list | None]) -> Any:
        form = self.form
        return evaluate(form, state[0], members=state[1] if form.subform is not None else None, **self._context)

    def _improve(self, state: tuple[dict, list | None], result: Any, depth: int) -> tuple[tuple, Any] | None:
        """One greedy step: the first violation some change improves; with depth, changes that only pay off
        after a few more greedy steps (a total raised, then its own total raised …)."""
        current = _score(result)
        for v in result.violations:
            best = None
            for cand in self._candidates(v, state):
                r = self._run(cand)
                if _score(r) < current and (best is None or _score(r) < _score(best[1])):
                    best = (cand, r)
            if best is not None:
                return best
        if depth <= 0:
            return None
        for v in result.violations[:6]:
            for cand in self._candidates(v, state):
                st, r = cand, self._run(cand)
                for _ in range(4):
                    if _score(r) < current:
                        break
                    nxt = self._improve(st, r, depth - 1)
                    if nxt is None:
                        break
                    st, r = nxt
                if _score(r) < current:
                    return st, r
        return None

    def _candidates(self, v: Any, state: tuple[dict, list | None]) -> list[tuple[dict, list | None]]:
        values, members = state
        form = self.form
        context = self._context
        if v.member is not None and members is not None and form.subform is not None:
            sub = form.subform
            i = v.member
            out = []
            for cand in self._changes(sub, sub.check(v.check), members[i], Context()):
                mems = list(members)
                mems[i] = cand
                out.append((values, mems))
            return out
        ctx = Context(members, context.get("children"), context.get("previous"), context.get("previous_members"),
                      None)
        return [(cand, members) for cand in self._changes(form, form.check(v.check), values, ctx)]

    def _changes(self, form: FormDefinition, check: Any, values: dict[str, Any], ctx: Context) -> list[dict]:
        if check is None:
            return []
        candidates: list[dict[str, Any]] = []
        if check.expr is None:  # a derived check: type / whole number / percentage / part <= total
            for code in check.fields:
                f = form.fields.get(code)
                if f is None:
                    continue
                if check.kind == "of" and code == check.fields[0] and isinstance(values.get(f.of), int | float):
                    candidates.append({**values, code: _round(f.type, values[f.of] * 0.6)})
                elif check.kind == "of" and code != check.fields[0]:
                    part = values.get(check.fields[0])
                    if isinstance(part, int | float):
                        candidates.append({**values, code: _round(f.type, part * 1.4 + 1)})
                else:
                    candidates.append({**values, code: self._value(form, f, values, LEVEL_SCALE.get(self.level, 1),
                                                                  self.name, self.org_code, True)})
        else:
            for change in _solutions(form, check.expr.tree, values, ctx):
                if any(values.get(k) != v for k, v in change.items()):
                    candidates.append({**values, **change})
        return candidates


def _score(result: Any) -> int:
    return sum(10 if v.severity == "hard" else 1 for v in result.violations)


# --- solving one comparison for one field ------------------------------------------------------------------------

def _names(node: Node) -> list[str]:
    """Field names a comparison can be solved for (not inside prev()/peer functions/aggregates)."""
    out: list[str] = []

    def walk(n: Node) -> None:
        if isinstance(n, Name):
            if n.name not in out:
                out.append(n.name)
            return
        if isinstance(n, Call) and n.func in ("prev", "peer_median", "peer_mad", "sum", "sum_known", "count"):
            return
        for c in n.children_nodes():
            walk(c)

    walk(node)
    return out


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or isinstance(x, Missing):
        return None
    if isinstance(x, int | float):
        return float(x)
    return None


def _solutions(form: FormDefinition, node: Node, values: dict[str, Any], ctx: Context) -> list[dict[str, Any]]:
    """Candidate changes (each a dict code -> value) that make `node` true."""
    if isinstance(node, BoolOp):
        if node.op == "and":
            # satisfy the first false operand; the repair loop comes back for the next one
            for part in node.flatten():
                if part.fn(values, ctx) is not True:
                    return _solutions(form, part, values, ctx)
            return []
        out: list[dict[str, Any]] = []
        # or: comparisons first (keep yes/no answers as they are when a number can do)
        parts = sorted(node.flatten(), key=lambda p: 0 if isinstance(p, Compare) else 1)
        for part in parts:
            out.extend(_solutions(form, part, values, ctx))
        return out
    if isinstance(node, Not):
        inner = node.operand
        if isinstance(inner, Name) and form.fields.get(inner.name) and form.fields[inner.name].type == "yesno":
            return [{inner.name: False}]
        return []
    if isinstance(node, Name):
        f = form.fields.get(node.name)
        if f is not None and f.type == "yesno":
            return [{node.name: True}]
        return []
    if not isinstance(node, Compare):
        return []
    left, right, op = node.left, node.right, node.op
    if isinstance(left, Call) and left.func == "abs" and op in ("<=", "<") and left.args:
        # abs(x) <= k: aim at x == 0
        target_node: Node = left.args[0]
        return _solve(form, target_node, None, "==", values, ctx)
    return _solve(form, left, right, op, values, ctx)


def _solve(form: FormDefinition, left: Node, right: Node | None, op: str, values: dict[str, Any],
           ctx: Context) -> list[dict[str, Any]]:
    def diff(vals: dict[str, Any]) -> float | None:
        lv = _num(left.fn(vals, ctx))
        if right is None:
            return lv
        rv = _num(right.fn(vals, ctx))
        if lv is None or rv is None:
            return None
        return lv - rv

    names = _names(left) + [n for n in (_names(right) if right is not None else []) if n not in _names(left)]
    out: list[dict[str, Any]] = []
    rv = _num(right.fn(values, ctx)) if right is not None else 0.0
    slack = abs(rv or 0.0) * 0.08
    for code in names:
        f = form.fields.get(code)
        if f is None or f.type not in ("count", "decimal", "percent"):
            continue
        current = _num(values.get(code))
        x0 = current if current is not None else 1.0
        x1 = x0 + max(1.0, abs(x0) * 0.5)
        d0 = diff({**values, code: x0})
        d1 = diff({**values, code: x1})
        if d0 is None or d1 is None or d1 == d0:
            continue
        slope = (d1 - d0) / (x1 - x0)
        if op in ("<=", "<"):
            target = -slack if slack else (-1.0 if op == "<" else 0.0)
        elif op in (">=", ">"):
            target = slack if slack else (1.0 if op == ">" else 0.0)
        elif op == "!=":
            target = 1.0
        else:
            target = 0.0
        x = x0 + (target - d0) / slope
        for candidate in (x, x0 + (0.0 - d0) / slope if target else None):
            if candidate is None or candidate != candidate or candidate < 0:
                continue
            if f.type == "percent" and candidate > 100:
                continue
            rounded = _round(f.type, candidate)
            if f.type == "count":
                # rounding must keep the comparison true
                for r in (rounded, math.floor(candidate), math.ceil(candidate)):
                    out.append({code: max(0, int(r))})
            else:
                out.append({code: rounded})
    return out



_INVERSE = {"<=": ">", "<": ">=", ">=": "<", ">": "<=", "==": "!=", "!=": "=="}


def break_one(form: FormDefinition, values: dict[str, Any], members: list[dict[str, Any]] | None, severity: str,
              **context: Any) -> tuple[dict[str, Any], str] | None:
    """Change one value of a clean form so that exactly one check of `severity` fails (and nothing harder).

    Returns (values, check code) or None when no check of that severity can be broken alone."""
    ctx = Context(members, context.get("children"), context.get("previous"), context.get("previous_members"), None)

    def run(vals: dict[str, Any]) -> Any:
        return evaluate(form, vals, members=members if form.subform is not None else None, **context)

    for check in form.checks:
        if check.severity != severity or check.scope != "form" or check.expr is None:
            continue
        node = check.expr.tree
        if not isinstance(node, Compare) or node.op not in _INVERSE:
            continue
        if isinstance(node.left, Call) and node.left.func == "abs":
            continue
        if check.expr.uses_prev or check.expr.uses_peers:
            continue
        for change in _solve(form, node.left, node.right, _INVERSE[node.op], values, ctx):
            cand = {**values, **change}
            result = run(cand)
            codes = {v.check for v in result.violations}
            if codes == {check.code}:
                return cand, check.code
    return None
