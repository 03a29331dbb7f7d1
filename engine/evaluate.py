"""Evaluate one submission against its form definition: checks, indicators, attainment.

The hot path (no violation, all values numbers) is a handful of loops over precompiled closures and flat
tuples prepared by :class:`~engine.compiler.FormDefinition`. Everything that produces text —
violation messages, reasons why an indicator cannot be computed — only runs when there is something to say,
so it may be slow and thorough: messages name the fields by their labels and show the values the clerk
entered ("--" shown as "--"), so the clerk knows exactly what to fix.
"""

from __future__ import annotations

import math
from typing import Any

from .compiler import Check, FormDefinition
from .expr import (
    ABSENT,
    NOT_APPLICABLE,
    NOT_COLLECTED,
    BinOp,
    Bool,
    BoolOp,
    Call,
    Compare,
    Context,
    Missing,
    Name,
    Neg,
    Node,
    Not,
    Num,
    PeerGroup,
    Ref,
    Str,
    _as_number,
    _close,
    _truth,
    is_missing,
    is_unfilled,
)
from .values import format_value

__all__ = ["Result", "Violation", "evaluate", "format_value"]

_EMPTY_CTX = Context()
_INF = math.inf


class Violation:
    """One failed check. ``member`` is the index of the member entry for sub-form checks, else None."""

    __slots__ = ("check", "severity", "message", "fields", "member", "explained", "explanation")

    def __init__(
        self,
        check: str,
        severity: str,
        message: str,
        fields: list[str],
        member: int | None = None,
        explained: bool = False,
        explanation: str | None = None,
    ) -> None:
        self.check = check
        self.severity = severity
        self.message = message
        self.fields = fields
        self.member = member
        self.explained = explained
        self.explanation = explanation

    @property
    def blocking(self) -> bool:
        return self.severity == "hard" or not self.explained

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "fields": list(self.fields),
            "member": self.member,
            "explained": self.explained,
        }

    def __repr__(self) -> str:
        where = f"#{self.member}" if self.member is not None else ""
        return f"Violation({self.check}{where}: {self.message})"


class Result:
    """Outcome of :func:`evaluate`.

    - ``indicators``: code -> value rounded to 4 decimals, or None if not computable (see ``reasons``).
    - ``reasons``: code -> Chinese reason why the indicator is not computable.
    - ``violations``: failed checks (hard and soft), lead form first, then member entries in order.
    - ``attainment``: indicator code -> True/False vs its target, None if not computable
      (only indicators that have a target).
    - ``not_evaluated``: check code (``code#i`` for member entry i) -> why it was not evaluated.
    - ``unfilled``: required fields (condition not false) not yet filled; ``member_unfilled``: per entry.
    - ``member_indicators``: per member entry, the sub-form's own indicators.
    - ``blocking``: any hard violation or an unexplained soft one.
    """

    __slots__ = (
        "indicators",
        "reasons",
        "violations",
        "attainment",
        "not_evaluated",
        "unfilled",
        "member_unfilled",
        "member_indicators",
    )

    def __init__(self) -> None:
        self.indicators: dict[str, float | None] = {}
        self.reasons: dict[str, str] = {}
        self.violations: list[Violation] = []
        self.attainment: dict[str, bool | None] = {}
        self.not_evaluated: dict[str, str] = {}
        self.unfilled: list[str] = []
        self.member_unfilled: dict[int, list[str]] = {}
        self.member_indicators: list[dict[str, float | None]] = []

    @property
    def blocking(self) -> bool:
        for v in self.violations:
            if v.severity == "hard" or not v.explained:
                return True
        return False

    @property
    def complete(self) -> bool:
        return not self.unfilled and not any(self.member_unfilled.values())

    def violation_codes(self) -> list[str]:
        return [v.check for v in self.violations]

    def to_dict(self) -> dict[str, Any]:
        return {
            "indicators": dict(self.indicators),
            "reasons": dict(self.reasons),
            "violations": [v.to_dict() for v in self.violations],
            "attainment": dict(self.attainment),
            "not_evaluated": dict(self.not_evaluated),
            "unfilled": list(self.unfilled),
            "member_unfilled": {str(k): list(v) for k, v in self.member_unfilled.items()},
            "member_indicators": [dict(m) for m in self.member_indicators],
            "blocking": self.blocking,
        }

    def __repr__(self) -> str:
        return f"Result(indicators={self.indicators}, violations={self.violations})"


# --------------------------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------------------------


def _apply_conditions(form: FormDefinition, values: dict[str, Any]) -> tuple[dict[str, Any], set[str] | None]:
    """Effective values: fields whose condition is false become NOT_APPLICABLE (ignored by checks,
    skipped by aggregations); fields whose condition is not true are not required."""
    if not form.conditional:
        return values, None
    eff: dict[str, Any] | None = None
    not_required: set[str] = set()
    for fn, codes in form.conditional:
        r = fn(values, _EMPTY_CTX)
        if r is True:
            continue
        not_required.update(codes)
        if r is not False:
            r = _truth(r)
        if r is False:
            if eff is None:
                eff = dict(values)
            for code in codes:
                eff[code] = NOT_APPLICABLE
    return (eff if eff is not None else values), not_required


def _explanation(explanations: dict[str, str] | None, code: str, member: int | None) -> str | None:
    if not explanations:
        return None
    text = explanations.get(f"{code}#{member}") if member is not None else None
    if text is None:
        text = explanations.get(code)
    if isinstance(text, str) and text.strip():
        return text.strip()
    return None


def _add(
    out: list[Violation],
    check: Check,
    message: str,
    fields: list[str],
    member: int | None,
    explanations: dict[str, str] | None,
) -> None:
    explanation = _explanation(explanations, check.code, member) if check.severity == "soft" else None
    out.append(
        Violation(check.code, check.severity, message, fields, member, explanation is not None, explanation)
    )


def _field_checks(
    form: FormDefinition,
    vals: dict[str, Any],
    out: list[Violation],
    member: int | None,
    explanations: dict[str, str] | None,
) -> None:
    """The derived checks (type, range, whole number, "其中" part <= total) in tight loops."""
    get = vals.get
    for code, lo, hi, integer, tcheck, rcheck in form.numeric_specs:
        v = get(code)
        t = type(v)
        if t is int:
            if rcheck is not None and ((lo is not None and v < lo) or (hi is not None and v > hi)):
                _add(out, rcheck, _range_message(form, code, v, lo, hi, integer), [code], member, None)
            continue
        if t is float:
            if rcheck is not None and (
                v - v != 0  # nan / inf
                or (lo is not None and v < lo)
                or (hi is not None and v > hi)
                or (integer and v != int(v))
            ):
                _add(out, rcheck, _range_message(form, code, v, lo, hi, integer), [code], member, None)
            continue
        if v is None or v is NOT_APPLICABLE:
            continue
        # slow path: "--", blank, numeric strings, Decimal, wrong types
        if v == NOT_COLLECTED or is_missing(v) or is_unfilled(v):
            continue
        n = _as_number(v)
        if type(n) is Missing or isinstance(v, bool):
            _add(
                out,
                tcheck,
                f"{form.label(code)}（{format_value(v)}）应填写数字；未统计请填“--”",
                [code],
                member,
                None,
            )
            continue
        if rcheck is not None and (
            n - n != 0
            or (lo is not None and n < lo)
            or (hi is not None and n > hi)
            or (integer and n != int(n))
        ):
            _add(out, rcheck, _range_message(form, code, n, lo, hi, integer), [code], member, None)
    for code, check in form.bool_specs:
        v = get(code)
        if v is True or v is False or v is None or v is NOT_APPLICABLE:
            continue
        if is_missing(v) or is_unfilled(v):
            continue
        _add(out, check, f"{form.label(code)}（{format_value(v)}）应选择“是”或“否”", [code], member, None)
    for code, choices, check in form.choice_specs:
        v = get(code)
        if v is None or v is NOT_APPLICABLE or (type(v) is str and v in choices):
            continue
        if is_missing(v) or is_unfilled(v):
            continue
        _add(
            out,
            check,
            f"{form.label(code)}（{format_value(v)}）应为以下之一：{'、'.join(sorted(choices))}",
            [code],
            member,
            None,
        )
    for part, total, check in form.of_specs:
        a = get(part)
        b = get(total)
        ta = type(a)
        tb = type(b)
        if (ta is int or ta is float) and (tb is int or tb is float):
            if a <= b or _close(a, b):
                continue
        else:
            a = _plain_number(a)
            b = _plain_number(b)
            if a is None or b is None or a <= b or _close(a, b):
                continue  # "--", unfilled, not applicable or wrong type (reported by the type check)
        _add(
            out,
            check,
            f"{form.label(part)}（{format_value(a)}）不能大于{form.label(total)}（{format_value(b)}）",
            [part, total],
            member,
            None,
        )


# A value about 1/10 000 (1/1 000) of last period's was most likely entered in 万 (千) of the field's unit.
_SCALES = ((3000.0, 30000.0, "万", "万分之一"), (300.0, 3000.0, "千", "千分之一"))


def _scale_checks(
    form: FormDefinition,
    vals: dict[str, Any],
    previous: dict[str, Any] | None,
    out: list[Violation],
    member: int | None,
    explanations: dict[str, str] | None,
) -> None:
    """Unit slips: a count entered in 万 or 千 of its unit is about 10⁻⁴ or 10⁻³ of last period's value. The
    message says what probably happened, so the clerk corrects the unit rather than explaining."""
    if not previous:
        return
    for code, check in form.scale_specs:
        x = _plain_number(vals.get(code))
        p = _plain_number(previous.get(code))
        if x is None or p is None or x <= 0 or p <= 0:
            continue
        unit = form.fields[code].unit or ""
        label = form.label(code)
        for ratio, shown, side in ((p / x, format_value(x), "本期"), (x / p, format_value(p), "上期")):
            for lo, hi, prefix, fraction in _SCALES:
                if lo <= ratio < hi:
                    fix = f"，请按“{unit}”填报" if unit else "，请核实"
                    if side == "本期":
                        message = (f"{label}（{shown}{unit}）约为上期（{format_value(p)}{unit}）的{fraction}，"
                                   f"疑似以{prefix}{unit}为单位填写{fix}")
                    else:
                        message = (f"{label}上期数值（{shown}{unit}）约为本期（{format_value(x)}{unit}）的{fraction}，"
                                   f"上期疑似以{prefix}{unit}为单位填写，请核实")
                    _add(out, check, message, [code], member, explanations)
                    break
            else:
                continue
            break


def _plain_number(v: Any) -> float | None:
    if v is None or v is NOT_APPLICABLE or isinstance(v, bool):
        return None
    n = _as_number(v)
    return None if type(n) is Missing else n


def _run_checks(
    form: FormDefinition,
    checks: list[tuple[Check, Any]],
    vals: dict[str, Any],
    ctx: Context,
    result: Result,
    member: int | None,
    explanations: dict[str, str] | None,
) -> None:
    for check, fn in checks:
        r = fn(vals, ctx)
        if r is True:
            continue
        if r is not False:
            r = _truth(r)
            if type(r) is Missing:
                key = check.code if member is None else f"{check.code}#{member}"
                result.not_evaluated[key] = reason_text(form, r)
                continue
            if r is True:
                continue
        message = check_message(form, check, vals, ctx)
        _add(result.violations, check, message, list(check.fields), member, explanations)


def _unfilled(form: FormDefinition, vals: dict[str, Any], not_required: set[str] | None) -> list[str]:
    get = vals.get
    out = []
    for code in form.required:
        v = get(code)
        if v is None or (type(v) is str and not v.strip()):
            if not_required is None or code not in not_required:
                out.append(code)
    return out


def _member_prefix(form: FormDefinition, sub: FormDefinition, entry: dict[str, Any], i: int) -> str:
    name = entry.get(sub.name_field) if sub.name_field else None
    label = form.member_label if form is not sub else sub.member_label
    if isinstance(name, str) and name.strip() and not is_missing(name):
        return f"第{i + 1}个{label}（{name.strip()}）："
    return f"第{i + 1}个{label}："


def _earlier(form: FormDefinition, earlier: list | None) -> list | None:
    """Earlier periods with the same condition handling as the previous one."""
    if not earlier:
        return None
    sub = form.subform
    out: list = []
    for period in earlier:
        if period is None or period[0] is None:
            out.append(None)
            continue
        values, members = period
        if members is not None and sub is not None:
            members = [_apply_conditions(sub, m)[0] for m in members]
        out.append((_apply_conditions(form, values)[0], members))
    return out


def evaluate(
    form: FormDefinition,
    values: dict[str, Any],
    *,
    members: list[dict[str, Any]] | None = None,
    children: list[dict[str, Any]] | None = None,
    previous: dict[str, Any] | None = None,
    previous_members: list[dict[str, Any]] | None = None,
    peers: list[dict[str, Any]] | PeerGroup | None = None,
    explanations: dict[str, str] | None = None,
    member_peers: list[dict[str, Any]] | PeerGroup | None = None,
    earlier: list[tuple[dict[str, Any] | None, list[dict[str, Any]] | None] | None] | None = None,
) -> Result:
    """Run all checks of ``form`` (derived and catalog checks, member sub-form checks per entry) and compute
    its indicators. Never raises for bad data: unknown values make checks "not evaluated" and indicators
    "not computable" with a reason.

    ``peers``: value dicts of the same form and period from other units (or a shared :class:`PeerGroup`).
    ``explanations``: soft check code -> 填写说明 (for a member entry ``"code#i"``, falling back to ``code``).
    ``earlier``: the periods before ``previous``, nearest first, as (values, members) or None, for
    ``prev(x, n)``, ``change(x, n)`` and ``growth(x, n)`` with n >= 2.

    Member entries are checked with their own previous-period entry (matched by the sub-form's text fields
    such as name / organisation code, by position if it has none) and, for peer functions, with
    ``member_peers`` if given, else with the other entries of the same submission.
    """
    result = Result()
    if values is None:
        values = {}
    vals, not_required = _apply_conditions(form, values)
    sub = form.subform

    eff_members: list[dict[str, Any]] | None = None
    member_not_required: list[set[str] | None] = []
    if members is not None:
        if sub is not None:
            eff_members = []
            for m in members:
                mv, nr = _apply_conditions(sub, m if m is not None else {})
                eff_members.append(mv)
                member_not_required.append(nr)
        else:
            eff_members = list(members)
    prev_vals = _apply_conditions(form, previous)[0] if previous is not None else None
    prev_members = previous_members
    if previous_members is not None and sub is not None:
        prev_members = [_apply_conditions(sub, m)[0] for m in previous_members]
    if peers is not None and not isinstance(peers, PeerGroup):
        peers = _peer_group(peers)
    ctx = Context(eff_members, children, prev_vals, prev_members, peers, earlier=_earlier(form, earlier))

    violations = result.violations
    _field_checks(form, vals, violations, None, explanations)
    _run_checks(form, form.form_checks, vals, ctx, result, None, explanations)
    if form.scale_specs:
        _scale_checks(form, vals, prev_vals, violations, None, explanations)
    if form.member_checks:
        _run_checks(form, form.member_checks, vals, ctx, result, None, explanations)
    if form.children_checks:
        _run_checks(form, form.children_checks, vals, ctx, result, None, explanations)
    result.unfilled = _unfilled(form, vals, not_required)

    # member sub-form: its own checks, derived checks and indicators, once per entry
    if sub is not None and members is not None:
        assert eff_members is not None
        mctxs = _member_contexts(sub, eff_members, prev_members, member_peers)
        for i, raw in enumerate(members):
            mvals = eff_members[i]
            mctx = mctxs[i]
            n_before = len(violations)
            _field_checks(sub, mvals, violations, i, explanations)
            _run_checks(sub, sub.form_checks, mvals, mctx, result, i, explanations)
            if sub.scale_specs:
                _scale_checks(sub, mvals, mctx.previous, violations, i, explanations)
            if len(violations) > n_before:
                prefix = _member_prefix(form, sub, raw if raw is not None else {}, i)
                for v in violations[n_before:]:
                    v.message = prefix + v.message
            mu = _unfilled(sub, mvals, member_not_required[i])
            if mu:
                result.member_unfilled[i] = mu
            if sub.indicator_fns:
                mind: dict[str, float | None] = {}
                for ind, fn, _target in sub.indicator_fns:
                    mind[ind.code] = _indicator_value(fn(mvals, mctx))
                result.member_indicators.append(mind)

    # indicators
    indicators = result.indicators
    for ind, fn, target in form.indicator_fns:
        r = fn(vals, ctx)
        t = type(r)
        if (t is float or t is int) and r - r == 0:
            x: float | None = round(r + 0.0, 4) + 0.0  # + 0.0 turns -0.0 into 0.0 and ints into floats
        else:
            x = None
            if t is Missing:
                result.reasons[ind.code] = reason_text(form, r)
            elif t is float:
                result.reasons[ind.code] = "计算结果不是有限数值"
            else:
                result.reasons[ind.code] = "计算结果不是数值"
        indicators[ind.code] = x
        if target is not None:
            result.attainment[ind.code] = target.attained(x)
    return result


def _member_contexts(
    sub: FormDefinition,
    members: list[dict[str, Any]],
    previous_members: list[dict[str, Any]] | None,
    member_peers: list[dict[str, Any]] | PeerGroup | None,
) -> list[Context]:
    """One context per member entry: its previous-period entry and its peers (only if the sub-form uses them)."""
    n = len(members)
    if not (sub.uses_prev or sub.uses_peers):
        return [_EMPTY_CTX] * n
    prevs: list[dict[str, Any] | None] = [None] * n
    if sub.uses_prev and previous_members:
        prevs = _match_previous(sub, members, previous_members)
    groups: list[PeerGroup | None] = [None] * n
    if sub.uses_peers:
        if member_peers is not None:
            shared = member_peers if isinstance(member_peers, PeerGroup) else PeerGroup(member_peers)
            groups = [shared] * n
        else:
            # peers are *other* units: each entry is compared with its siblings, not with itself
            groups = [PeerGroup(members[:i] + members[i + 1 :]) for i in range(n)]
    return [Context(previous=prevs[i], peers=groups[i]) for i in range(n)]


def _match_previous(
    sub: FormDefinition, members: list[dict[str, Any]], previous_members: list[dict[str, Any]]
) -> list[dict[str, Any] | None]:
    """Pair each member entry with last period's entry of the same hospital (by name / code), not by position:
    entries are added, removed and reordered between periods."""
    keys = sub.key_fields
    if not keys:
        return [previous_members[i] if i < len(previous_members) else None for i in range(len(members))]
    index: dict[tuple[str, str], dict[str, Any]] = {}
    for p in previous_members:
        for k in keys:
            v = p.get(k)
            if type(v) is str and (v := v.strip()) and v != NOT_COLLECTED:
                index.setdefault((k, v), p)
    out: list[dict[str, Any] | None] = []
    for m in members:
        found = None
        for k in keys:
            v = m.get(k)
            if type(v) is str and (v := v.strip()) and v != NOT_COLLECTED:
                found = index.get((k, v))
                if found is not None:
                    break
        out.append(found)
    return out


# Bulk re-evaluation passes the *same* peers list to every submission of a form; building the PeerGroup
# (and so the medians) once per list instead of once per evaluation turns O(n²) into O(n). One slot, keyed
# by the list's identity and length (the slot keeps the list alive, so the identity cannot be reused).
# Pass a new list (or a new PeerGroup) after changing peer values in place.
_peer_slot: tuple[Any, int, PeerGroup] | None = None


def _peer_group(entries: list[dict[str, Any]]) -> PeerGroup:
    global _peer_slot
    slot = _peer_slot
    if slot is not None and slot[0] is entries and slot[1] == len(entries):
        return slot[2]
    group = PeerGroup(entries)
    _peer_slot = (entries, len(entries), group)
    return group


def _indicator_value(r: Any) -> float | None:
    t = type(r)
    if (t is float or t is int) and r - r == 0:
        return round(r + 0.0, 4) + 0.0
    return None


# --------------------------------------------------------------------------------------------------------------
# Text: values, reasons, messages (slow path only)
# --------------------------------------------------------------------------------------------------------------


def reason_text(form: FormDefinition, m: Missing) -> str:
    """Why a value could not be determined, in Chinese, naming the field by its label."""
    pre = "" if not m.prev else ("上期" if m.prev is True or m.prev == 1 else f"{m.prev}期前")
    kind = m.kind
    if kind == "zero_div":
        den = render_label(form, m.node) if m.node is not None else "分母"
        return f"{pre}分母为0（{den}为0）"
    if kind == "no_prev":
        return "无上期数据"
    if kind == "no_earlier":
        return f"无往年数据（{m.prev}期前）" if not isinstance(m.prev, bool) else "无往年数据"
    if kind == "peers":
        return f"{m.reason}，无法进行同级比较"
    if m.field is not None:
        if m.scope == "members":
            sub = form.subform
            label = sub.label(m.field) if sub is not None else m.field
            if kind == "no_known":
                return f"{pre}各{form.member_label}的{label}均未填报或未统计"
            who = f"第{m.member + 1}个{form.member_label}的" if m.member is not None else ""
            return f"{pre}{who}{label}{m.reason}"
        if m.scope == "children":
            label = form.children_labels.get(m.field) or form.label(m.field)
            if kind == "no_known":
                return f"{pre}各下级单位的{label}均未填报或未统计"
            who = f"第{m.member + 1}个下级单位的" if m.member is not None else ""
            return f"{pre}{who}{label}{m.reason}"
        return f"{pre}{form.label(m.field)}{m.reason}"
    return f"{pre}{m.reason}"


_OP_TEXT = {"+": "+", "-": "-", "*": "×", "/": "÷"}
_CMP_SYMBOL = {"<=": "≤", "<": "<", ">=": "≥", ">": ">", "==": "=", "!=": "≠"}
_CMP_PHRASE = {
    "<=": "不能大于",
    "<": "应小于",
    ">=": "不能小于",
    ">": "应大于",
    "==": "应等于",
    "!=": "不应等于",
}
_CMP_INVERSE = {"<=": ">", "<": ">=", ">=": "<", ">": "<=", "==": "!=", "!=": "=="}


def _ref_label(form: FormDefinition, ref: Ref) -> tuple[str, str]:
    """(who, field label) for members.x / children.x."""
    if ref.scope == "members":
        who = form.member_label
        sub = form.subform
        label = (sub.label(ref.name) if sub is not None else ref.name) if ref.name else ""
    else:
        who = "下级单位"
        label = (form.children_labels.get(ref.name) or form.label(ref.name)) if ref.name else ""
    return who, label or ""


def render_label(form: FormDefinition, node: Node) -> str:
    """An expression in words/labels, e.g. "出院患者人次数 + 住院患者人次数"."""
    if isinstance(node, Name):
        return form.label(node.name)
    if isinstance(node, (Num, Bool)):
        return format_value(node.value)
    if isinstance(node, Str):
        return f"“{node.value}”"
    if isinstance(node, Neg):
        return "-" + _paren(form, node.operand, node.prec)
    if isinstance(node, BinOp):
        left = _paren(form, node.left, node.prec)
        # a - (b + c), a / (b * c): the right side needs parentheses at equal precedence
        right = _paren(form, node.right, node.prec + (1 if node.op in "-/" else 0))
        return f"{left} {_OP_TEXT[node.op]} {right}"
    if isinstance(node, Compare):
        return f"{render_label(form, node.left)}{_CMP_SYMBOL[node.op]}{render_label(form, node.right)}"
    if isinstance(node, BoolOp):
        joiner = "且" if node.op == "and" else "或"
        return joiner.join(_paren(form, p, node.prec) for p in node.flatten())
    if isinstance(node, Not):
        return "非" + _paren(form, node.operand, 100)
    if isinstance(node, Call):
        return _call_label(form, node)
    if isinstance(node, Ref):
        who, label = _ref_label(form, node)
        return f"各{who}{label}"
    return "?"


def _paren(form: FormDefinition, node: Node, prec: int) -> str:
    text = render_label(form, node)
    return f"（{text}）" if node.prec < prec else text


def _call_label(form: FormDefinition, node: Call) -> str:
    f = node.func
    args = node.args
    if f in ("sum", "sum_known", "count", "min", "max") and len(args) == 1 and isinstance(args[0], Ref):
        who, label = _ref_label(form, args[0])
        if f == "count":
            return f"{who}数" if not label else f"已填报{label}的{who}数"
        if f == "sum":
            return f"各{who}{label}之和"
        if f == "sum_known":
            return f"各{who}{label}之和（已填报的）"
        return f"各{who}{label}的{'最小值' if f == 'min' else '最大值'}"
    inner = [render_label(form, a) for a in args]
    if f == "abs":
        return f"|{inner[0]}|"
    if f in ("min", "max"):
        return "、".join(inner) + ("中的较小值" if f == "min" else "中的较大值")
    if f == "prev":
        n = args[1].value if len(args) == 2 and isinstance(args[1], Num) else 1
        return f"上期{inner[0]}" if n == 1 else f"{n:g}期前{inner[0]}"
    if f in ("change", "growth"):
        n = args[1].value if len(args) == 2 and isinstance(args[1], Num) else 1
        return f"{inner[0]}{n:g}期{'变化' if f == 'change' else '增长率'}"
    if f == "peer_median":
        return f"同级单位{inner[0]}的中位数"
    if f == "peer_mad":
        return f"同级单位{inner[0]}的绝对中位差"
    if f == "robust_z":
        return f"{inner[0]}的稳健Z值"
    if f == "filled":
        return f"{inner[0]}已填报"
    if f == "missing":
        return f"{inner[0]}未统计"
    return f"{f}({', '.join(inner)})"


def _render_values(form: FormDefinition, node: Node, vals: dict[str, Any], ctx: Context) -> str:
    """The same expression with the values filled in: "3 + 1"."""
    if isinstance(node, Name):
        return format_value(vals.get(node.name, ABSENT))
    if isinstance(node, (Num, Bool, Str)):
        return render_label(form, node)
    if isinstance(node, Neg):
        return "-" + _render_values(form, node.operand, vals, ctx)
    if isinstance(node, BinOp):
        left = _render_values(form, node.left, vals, ctx)
        right = _render_values(form, node.right, vals, ctx)
        if node.left.prec < node.prec:
            left = f"({left})"
        if node.right.prec < node.prec + (1 if node.op in "-/" else 0):
            right = f"({right})"
        return f"{left} {_OP_TEXT[node.op]} {right}"
    if isinstance(node, Call) and node.func == "abs" and _is_computed(node.args[0]):
        return f"|{_render_values(form, node.args[0], vals, ctx)}|"
    return format_value(node.fn(vals, ctx))


def _is_computed(node: Node) -> bool:
    """Sides worth showing with their arithmetic ("3 + 1 = 4") rather than just the result."""
    if isinstance(node, (BinOp, Neg)):
        return True
    return isinstance(node, Call) and node.func == "abs" and _is_computed(node.args[0])


def _describe(form: FormDefinition, node: Node, vals: dict[str, Any], ctx: Context) -> str:
    """One side of a comparison, labelled and with its value: "B + C（3 + 1 = 4）", "A（120）", "0"."""
    if isinstance(node, Name):
        return f"{form.label(node.name)}（{format_value(vals.get(node.name, ABSENT))}）"
    if isinstance(node, (Num, Str, Bool)):
        return render_label(form, node)
    value = format_value(node.fn(vals, ctx))
    if _is_computed(node):
        return f"{render_label(form, node)}（{_render_values(form, node, vals, ctx)} = {value}）"
    return f"{render_label(form, node)}（{value}）"


def _statement(form: FormDefinition, node: Node, vals: dict[str, Any], ctx: Context) -> str:
    """A condition that holds, in words (used for "当…时")."""
    if isinstance(node, Name):
        v = vals.get(node.name, ABSENT)
        if isinstance(v, bool):
            return f"{form.label(node.name)}为“{format_value(v)}”"
        return f"{form.label(node.name)}为{format_value(v)}"
    if isinstance(node, Not) and isinstance(node.operand, Name):
        return f"{form.label(node.operand.name)}为“否”"
    if isinstance(node, Compare):
        return f"{_describe(form, node.left, vals, ctx)}{_CMP_SYMBOL[node.op]}{_describe(form, node.right, vals, ctx)}"
    return f"{render_label(form, node)}成立"


def _failure(form: FormDefinition, node: Node, vals: dict[str, Any], ctx: Context) -> str:
    """Why ``node`` (which evaluated to false) fails, as an instruction to the clerk."""
    if isinstance(node, Compare):
        return f"{_describe(form, node.left, vals, ctx)}{_CMP_PHRASE[node.op]}{_describe(form, node.right, vals, ctx)}"
    if isinstance(node, Not):
        inner = node.operand
        if isinstance(inner, Compare):
            inv = Compare(_CMP_INVERSE[inner.op], inner.left, inner.right, inner.pos)
            return _failure(form, inv, vals, ctx)
        if isinstance(inner, Name):
            return f"{form.label(inner.name)}应为“否”"
        return f"不应出现：{_statement(form, inner, vals, ctx)}"
    if isinstance(node, Name):
        return f"{form.label(node.name)}应为“是”"
    if isinstance(node, BoolOp) and node.op == "and":
        parts = [p for p in node.flatten() if p.fn(vals, ctx) is False or _truth(p.fn(vals, ctx)) is False]
        return "；".join(_failure(form, p, vals, ctx) for p in parts) or f"应满足：{render_label(form, node)}"
    if isinstance(node, BoolOp):
        conditions: list[str] = []
        requirements: list[str] = []
        for p in node.flatten():
            if isinstance(p, Not):
                # "not A or B" reads "when A, B"
                conditions.append(_statement(form, p.operand, vals, ctx))
            elif isinstance(p, Name) and isinstance(vals.get(p.name), bool):
                conditions.append(f"{form.label(p.name)}为“否”")
            else:
                requirements.append(_failure(form, p, vals, ctx))
        if not requirements:
            return "以下条件至少应满足一项：" + "；".join(
                _failure(form, p, vals, ctx) for p in node.flatten()
            )
        req = requirements[0] if len(requirements) == 1 else "以下至少应满足一项：" + "；".join(requirements)
        if conditions:
            return f"当{'且'.join(conditions)}时，{req}"
        return req
    if isinstance(node, Call) and node.func == "filled" and isinstance(node.args[0], Name):
        return f"{form.label(node.args[0].name)}应填报"
    if isinstance(node, Call) and node.func == "missing" and isinstance(node.args[0], Name):
        return f"{form.label(node.args[0].name)}应为“--”"
    return f"应满足：{render_label(form, node)}"


def check_message(form: FormDefinition, check: Check, vals: dict[str, Any], ctx: Context) -> str:
    """The message of a failed catalog check: its template filled in, or one generated from the expression."""
    if check.message is not None:
        out = []
        for kind, key in check.message:
            if kind == "text":
                out.append(key)
            elif kind == "label":
                out.append(form.label(key))
            else:
                out.append(format_value(vals.get(key, ABSENT)))
        return "".join(out)
    assert check.expr is not None
    return _failure(form, check.expr.tree, vals, ctx)


def _range_message(
    form: FormDefinition, code: str, v: Any, lo: float | None, hi: float | None, integer: bool
) -> str:
    shown = f"{form.label(code)}（{format_value(v)}）"
    if integer:
        if lo is None and hi is None:
            return f"{shown}应为整数"
        if hi is None:
            return f"{shown}应为不小于{format_value(lo if lo is not None else 0)}的整数"
        return f"{shown}应为{format_value(lo)}～{format_value(hi)}之间的整数"
    if lo is not None and hi is not None:
        return f"{shown}应在{format_value(lo)}～{format_value(hi)}之间"
    if lo is not None:
        return f"{shown}不能小于{format_value(lo)}"
    return f"{shown}不能大于{format_value(hi)}"
