"""Field conditions for the browser: the engine's parse tree of a condition as a small JSON tree.

The engine is the only parser of the expression language. A field's `condition` is compiled here into a JSON
tree that `static/js/condition.js` (`evaluateCondition(tree, values)`) evaluates with the engine's semantics,
three-valued: true, false, or null (unknown: an operand is unfilled, "--" or of the wrong type). A condition the
tree cannot express (previous period, members, children, peers) is refused by catalog validation.

Tree nodes (JSON objects):
  {"num": 1.5} {"str": "中医医院"} {"bool": true} {"field": "code"}
  {"neg": node} {"not": node}
  {"arith": "+|-|*|/", "l": node, "r": node}
  {"cmp": "<|<=|>|>=|==|!=", "l": node, "r": node}
  {"and": [node, node]} {"or": [node, node]}
  {"call": "abs|min|max|filled|missing", "args": [node, …]}   (filled/missing take one {"field": …})
"""

from __future__ import annotations

from typing import Any

from .expr import (
    ABSENT,
    BinOp,
    Bool,
    BoolOp,
    Call,
    Compare,
    Expression,
    ExpressionError,
    Missing,
    Name,
    Neg,
    Node,
    Not,
    Num,
    Str,
    _truth,
    compile_expression,
)

BROWSER_FUNCTIONS = frozenset({"abs", "min", "max", "filled", "missing"})


class ConditionError(ExpressionError):
    """A condition the browser tree cannot express."""

    def __init__(self, message: str, source: str = "") -> None:
        ValueError.__init__(self, message)
        self.message = message
        self.source = source
        self.pos = 0

    def __str__(self) -> str:
        return self.message


def _tree(node: Node, source: str) -> dict[str, Any]:
    if isinstance(node, Num):
        return {"num": node.value}
    if isinstance(node, Str):
        return {"str": node.value}
    if isinstance(node, Bool):
        return {"bool": node.value}
    if isinstance(node, Name):
        return {"field": node.name}
    if isinstance(node, Neg):
        return {"neg": _tree(node.operand, source)}
    if isinstance(node, Not):
        return {"not": _tree(node.operand, source)}
    if isinstance(node, BinOp):
        return {"arith": node.op, "l": _tree(node.left, source), "r": _tree(node.right, source)}
    if isinstance(node, Compare):
        return {"cmp": node.op, "l": _tree(node.left, source), "r": _tree(node.right, source)}
    if isinstance(node, BoolOp):
        return {node.op: [_tree(node.left, source), _tree(node.right, source)]}
    if isinstance(node, Call):
        if node.func not in BROWSER_FUNCTIONS:
            raise ConditionError(f"条件中不能使用 {node.func}()（浏览器端只支持 {'、'.join(sorted(BROWSER_FUNCTIONS))}）",
                                 source)
        return {"call": node.func, "args": [_tree(a, source) for a in node.args]}
    raise ConditionError("条件只能引用本表字段（不能引用成员单位、下级单位或上期数据）", source)


def condition_tree(condition: str | Expression) -> dict[str, Any]:
    """The JSON tree of a condition (raises ExpressionError / ConditionError when it cannot be expressed)."""
    expr = condition if isinstance(condition, Expression) else compile_expression(condition)
    return _tree(expr.tree, expr.source)


def condition_value(result: Any) -> bool | None:
    """An evaluated condition as three values: True, False, or None (unknown) — what condition.js returns."""
    if result is True or result is False:
        return result
    if type(result) is Missing or result is ABSENT:
        return None
    truth = _truth(result)
    return None if type(truth) is Missing else bool(truth)


def evaluate_condition(condition: str | Expression, values: dict[str, Any]) -> bool | None:
    """Evaluate a condition with the engine, three-valued (the reference condition.js is tested against)."""
    expr = condition if isinstance(condition, Expression) else compile_expression(condition)
    return condition_value(expr.evaluate(values))


class _Labels:
    """Field labels in the shape engine.evaluate.render_label reads (a form's `label()`)."""

    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels
        self.children_labels: dict[str, str] = {}
        self.subform = None

    def label(self, code: str) -> str:
        return self.labels.get(code, code)


def condition_text(condition: str | None, labels: dict[str, str]) -> str:
    """A field's condition in words for a clerk (offline template hints): 仅当“医院类别”为“中医医院”时填写."""
    if not condition:
        return ""
    from .evaluate import render_label  # evaluate imports the compiler, which imports this module
    from .values import format_value

    try:
        node = compile_expression(condition).tree
    except ExpressionError:
        return "按条件填写"
    if isinstance(node, Compare) and node.op == "==" and isinstance(node.left, Name) \
            and isinstance(node.right, (Str, Bool, Num)):
        return f"仅当“{labels.get(node.left.name, node.left.name)}”为“{format_value(node.right.value)}”时填写"
    return f"仅当{render_label(_Labels(labels), node)}时填写"
