"""Safe expression language of the catalog (see docs/ARCHITECTURE.md, "Expression language").

The catalog is data written by people, so its expressions are never handed to ``eval``/``exec`` or compiled
to Python code. Instead an own tokenizer and a Pratt parser build a small tree, and every node is turned once
into a Python closure ``fn(values, ctx) -> value``. Evaluating a form is then a chain of plain function calls
with no parsing, no regex and no attribute magic in the hot path.

Values flowing through the closures are ``int``/``float`` (numbers), ``bool``, ``str`` or :class:`Missing`.
``Missing`` is the "not computable" value: it carries *why* (the field was "--" = 未统计, absent = 未填报,
a zero denominator, no previous period, too few peers ...). Arithmetic propagates it, comparisons return it
(a check that compares a Missing operand is "not evaluated"), and ``and``/``or`` use three-valued (Kleene)
logic with short-circuit, so ``not is_day_surgery or day_surgery_cases == 0`` is true when
``is_day_surgery`` is false even if ``day_surgery_cases`` is not filled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from decimal import Decimal
from typing import Any

__all__ = [
    "ABSENT",
    "NOT_APPLICABLE",
    "Context",
    "Expression",
    "ExpressionError",
    "Missing",
    "PeerGroup",
    "compile_expression",
    "is_missing",
    "is_unfilled",
    "parse",
]

MAX_SOURCE_LENGTH = 4000
MAX_DEPTH = 60
# Relative tolerance for comparisons: values such as 0.1 + 0.2 must "equal" 0.3 in a check, otherwise a clerk
# gets an error message he cannot fix.
EPS = 1e-9
# Minimum number of peers with a known value before median/MAD based comparisons are meaningful.
MIN_PEERS = 5
MAD_SCALE = 1.4826

RESERVED = frozenset({"and", "or", "not", "true", "false", "members", "children"})
FUNCTIONS = frozenset(
    {
        "abs",
        "min",
        "max",
        "prev",
        "change",
        "growth",
        "sum",
        "sum_known",
        "count",
        "peer_median",
        "peer_mad",
        "robust_z",
        "filled",
        "missing",
    }
)


class ExpressionError(ValueError):
    """An expression that cannot be compiled (syntax error, unknown field or function, forbidden construct)."""

    def __init__(self, message: str, source: str | None = None, pos: int | None = None) -> None:
        self.message = message
        self.source = source
        self.pos = pos
        text = message
        if source is not None:
            text = f"{message}：{source!r}" + (f"（第{pos + 1}个字符）" if pos is not None else "")
        super().__init__(text)


# --------------------------------------------------------------------------------------------------------------
# Value helpers
# --------------------------------------------------------------------------------------------------------------


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


# A key not present in a values dict (= not yet filled).
ABSENT: Any = _Sentinel("ABSENT")
# Placed in the *effective* values of an evaluation for a field whose condition is false: the field does not
# apply to this unit, so checks and indicators that need it are not evaluated, and aggregations skip it.
NOT_APPLICABLE: Any = _Sentinel("NOT_APPLICABLE")

# "Not collected" (未统计) as stored and shown: the one "--" constant of the platform (engine.NOT_COLLECTED).
NOT_COLLECTED = "--"
# Strings clerks (and Excel imports) use for "not collected". Recognised without prior normalisation.
_DASH_CHARS = frozenset("-－—–―‐‑‒﹣")


def is_missing(v: Any) -> bool:
    """True if ``v`` means "not collected" (未统计): "--" (also "-", "—", "－－", with blanks) or a Missing.

    Absent / None / "" are *unfilled*, not missing: see :func:`is_unfilled`. Neither is ever zero.
    """
    if isinstance(v, str):
        s = v.strip()
        return bool(s) and all(c in _DASH_CHARS for c in s)
    return isinstance(v, Missing)


def is_unfilled(v: Any) -> bool:
    """True if ``v`` means "not yet filled" (未填报): absent, None or an empty/blank string."""
    if v is None or v is ABSENT:
        return True
    return isinstance(v, str) and not v.strip()


_REASONS = {
    "dash": "未统计（--）",
    "unfilled": "未填报",
    "na": "不适用",
    "zero_div": "分母为0",
    "no_prev": "无上期数据",
    "no_earlier": "无往年数据",
    "no_members": "无成员单位数据",
    "no_children": "无下级单位数据",
    "no_known": "没有已填报的值",
    "peers": f"可比单位不足{MIN_PEERS}家",
    "mad_zero": "可比单位数据离散度为0",
    "type": "不是数值",
}


class Missing:
    """A value that could not be determined, with the reason why.

    ``kind`` is one of the keys of ``_REASONS``; ``field`` the field code responsible (if any); ``node`` the
    expression node responsible (e.g. the denominator); ``member`` the index of the member/child entry;
    ``prev`` marks that the value belongs to an earlier period: True (or 1) the previous one, n periods back.
    """

    __slots__ = ("kind", "field", "node", "member", "prev", "scope")

    def __init__(
        self,
        kind: str,
        field: str | None = None,
        *,
        node: Node | None = None,
        member: int | None = None,
        prev: bool | int = False,
        scope: str | None = None,
    ) -> None:
        self.kind = kind
        self.field = field
        self.node = node
        self.member = member
        self.prev = prev
        self.scope = scope

    @property
    def reason(self) -> str:
        return _REASONS.get(self.kind, self.kind)

    def as_prev(self, periods: int = 1) -> Missing:
        return Missing(self.kind, self.field, node=self.node, member=self.member,
                       prev=True if periods == 1 else periods, scope=self.scope)

    def __repr__(self) -> str:
        return f"Missing({self.kind!r}, {self.field!r})"


def _classify(v: Any, code: str) -> Any:
    """Slow path of a field lookup: everything that is not already an int/float/bool."""
    if v is ABSENT or v is None:
        return Missing("unfilled", code)
    if v is True or v is False:
        return v
    if isinstance(v, str):
        if v == NOT_COLLECTED or is_missing(v):
            return Missing("dash", code)
        if not v.strip():
            return Missing("unfilled", code)
        return v
    if v is NOT_APPLICABLE:
        return Missing("na", code)
    if isinstance(v, Decimal):
        return float(v) if v.is_finite() else Missing("type", code)
    if isinstance(v, Missing):
        return v
    if isinstance(v, (int, float)):  # subclasses (IntEnum ...)
        return float(v)
    return Missing("type", code)


def _as_number(v: Any) -> Any:
    """Coerce an operand for arithmetic: numbers pass, numeric strings convert, everything else is Missing."""
    t = type(v)
    if t is float or t is int:
        return v
    if t is Missing:
        return v
    if t is str:
        try:
            f = float(v.replace(",", "").strip())
        except ValueError:
            return Missing("type")
        return f if math.isfinite(f) else Missing("type")
    if t is bool:
        return Missing("type")
    if isinstance(v, Decimal):
        return float(v)
    return Missing("type")


def _truth(v: Any) -> Any:
    """Truth value for and/or/not: bool, Missing (unknown), or the natural truth of numbers/strings."""
    t = type(v)
    if t is bool or t is Missing:
        return v
    if t is str:
        return bool(v)
    return v != 0


# --------------------------------------------------------------------------------------------------------------
# Evaluation context
# --------------------------------------------------------------------------------------------------------------


class PeerGroup:
    """Values of the same form and period from other units, with cached median/MAD per expression.

    Pass one PeerGroup to many evaluations to compute each median only once (the cache is keyed by the
    expression node, so it is valid for one form definition).
    """

    __slots__ = ("entries", "_cache")

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.entries = entries
        self._cache: dict[Any, Any] = {}

    def stats(self, node: Node) -> Any:
        """(median, mad, n) over the peers' known values of ``node``, or Missing if fewer than MIN_PEERS."""
        hit = self._cache.get(node)
        if hit is not None:
            return hit
        known: list[float] = []
        if isinstance(node, Name):
            code = node.name
            for entry in self.entries:
                v = entry.get(code)
                t = type(v)
                if t is float or t is int:
                    known.append(v)
        else:
            ctx = Context()
            fn = node.fn
            for entry in self.entries:
                v = fn(entry, ctx)
                t = type(v)
                if t is float or t is int:
                    known.append(v)
        if len(known) < MIN_PEERS:
            res: Any = Missing("peers")
        else:
            med = _median(known)
            mad = _median([abs(x - med) for x in known])
            res = (med, mad, len(known))
        self._cache[node] = res
        return res


def _median(xs: list[float]) -> float:
    s = sorted(xs)
    n = len(s)
    mid = n // 2
    return float(s[mid]) if n % 2 else (s[mid - 1] + s[mid]) / 2.0


class Context:
    """Everything an expression may look at besides the current values dict."""

    __slots__ = ("members", "children", "previous", "previous_members", "peers", "earlier", "_prev_ctx",
                 "_earlier_ctx")

    def __init__(
        self,
        members: list[dict[str, Any]] | None = None,
        children: list[dict[str, Any]] | None = None,
        previous: dict[str, Any] | None = None,
        previous_members: list[dict[str, Any]] | None = None,
        peers: PeerGroup | None = None,
        earlier: list[tuple[dict[str, Any] | None, list[dict[str, Any]] | None] | None] | None = None,
    ) -> None:
        self.members = members
        self.children = children
        self.previous = previous
        self.previous_members = previous_members
        self.peers = peers
        # The periods before the previous one, nearest first: earlier[0] is two periods back (values, members);
        # None for a period without data.
        self.earlier = earlier
        self._prev_ctx: Context | None = None
        self._earlier_ctx: dict[int, Context] | None = None

    def prev_context(self) -> Context:
        """The context prev(...) evaluates in (members = the previous period's members), built once."""
        pc = self._prev_ctx
        if pc is None:
            pc = self._prev_ctx = Context(members=self.previous_members)
        return pc

    def period(self, n: int) -> tuple[dict[str, Any], Context] | None:
        """The values of the period n back (n >= 2) and the context to evaluate in them, or None."""
        earlier = self.earlier
        if not earlier or n - 2 >= len(earlier) or earlier[n - 2] is None or earlier[n - 2][0] is None:
            return None
        if self._earlier_ctx is None:
            self._earlier_ctx = {}
        pc = self._earlier_ctx.get(n)
        if pc is None:
            pc = self._earlier_ctx[n] = Context(members=earlier[n - 2][1])
        return earlier[n - 2][0], pc


Fn = Callable[[dict[str, Any], Context], Any]

# --------------------------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------------------------

_OPERATORS = ("<=", ">=", "==", "!=", "<", ">", "+", "-", "*", "/", "(", ")", ",", ".")


class Token:
    __slots__ = ("kind", "value", "pos")

    def __init__(self, kind: str, value: Any, pos: int) -> None:
        self.kind = kind  # num | str | name | op | end
        self.value = value
        self.pos = pos

    def __repr__(self) -> str:
        return f"Token({self.kind}, {self.value!r})"


def tokenize(source: str) -> list[Token]:
    """Split an expression into tokens; anything outside the language is refused here already."""
    tokens: list[Token] = []
    i = 0
    n = len(source)
    while i < n:
        c = source[i]
        if c in " \t\r\n":
            i += 1
            continue
        if c.isascii() and (c.isdigit() or (c == "." and i + 1 < n and source[i + 1].isdigit())):
            j = i
            while j < n and source[j].isascii() and source[j].isdigit():
                j += 1
            is_float = False
            if j < n and source[j] == ".":
                is_float = True
                j += 1
                while j < n and source[j].isascii() and source[j].isdigit():
                    j += 1
            if j < n and source[j] in "eE":
                k = j + 1
                if k < n and source[k] in "+-":
                    k += 1
                if k < n and source[k].isascii() and source[k].isdigit():
                    is_float = True
                    j = k
                    while j < n and source[j].isascii() and source[j].isdigit():
                        j += 1
            text = source[i:j]
            if j < n and (source[j].isalpha() or source[j] == "_"):
                raise ExpressionError("数字后不能直接跟字母", source, j)
            tokens.append(Token("num", float(text) if is_float else int(text), i))
            i = j
            continue
        if c == "'" or c == '"':
            # Strings have no escapes: a quote inside a string is written twice ('' or "").
            j = i + 1
            parts: list[str] = []
            while True:
                if j >= n:
                    raise ExpressionError("字符串缺少结束引号", source, i)
                if source[j] == c:
                    if j + 1 < n and source[j + 1] == c:
                        parts.append(c)
                        j += 2
                        continue
                    break
                parts.append(source[j])
                j += 1
            tokens.append(Token("str", "".join(parts), i))
            i = j + 1
            continue
        if c.isascii() and (c.isalpha() or c == "_"):
            j = i
            while j < n and source[j].isascii() and (source[j].isalnum() or source[j] == "_"):
                j += 1
            word = source[i:j]
            if word.startswith("_"):
                # No field code starts with "_", and this is exactly where "__import__"-style tricks begin.
                raise ExpressionError(f"标识符不能以下划线开头（{word}）", source, i)
            tokens.append(Token("name", word, i))
            i = j
            continue
        for op in _OPERATORS:
            if source.startswith(op, i):
                tokens.append(Token("op", op, i))
                i += len(op)
                break
        else:
            if c == "=":
                raise ExpressionError("比较相等请用“==”", source, i)
            raise ExpressionError(f"不允许的字符“{c}”", source, i)
    tokens.append(Token("end", None, n))
    return tokens


# --------------------------------------------------------------------------------------------------------------
# Tree
# --------------------------------------------------------------------------------------------------------------


class Node:
    """Base of the expression tree. ``fn`` is filled in by the compiler."""

    __slots__ = ("pos", "fn")
    # binding power for rendering parentheses (higher binds tighter)
    prec = 100

    def children_nodes(self) -> tuple[Node, ...]:
        return ()

    def walk(self):
        yield self
        for c in self.children_nodes():
            yield from c.walk()


class Num(Node):
    __slots__ = ("value",)

    def __init__(self, value: int | float, pos: int) -> None:
        self.value = value
        self.pos = pos


class Str(Node):
    __slots__ = ("value",)

    def __init__(self, value: str, pos: int) -> None:
        self.value = value
        self.pos = pos


class Bool(Node):
    __slots__ = ("value",)

    def __init__(self, value: bool, pos: int) -> None:
        self.value = value
        self.pos = pos


class Name(Node):
    __slots__ = ("name",)

    def __init__(self, name: str, pos: int) -> None:
        self.name = name
        self.pos = pos


class Ref(Node):
    """``members``, ``members.x``, ``children``, ``children.x`` (only valid as a function argument)."""

    __slots__ = ("scope", "name")

    def __init__(self, scope: str, name: str | None, pos: int) -> None:
        self.scope = scope
        self.name = name
        self.pos = pos


class Neg(Node):
    __slots__ = ("operand",)
    prec = 7

    def __init__(self, operand: Node, pos: int) -> None:
        self.operand = operand
        self.pos = pos

    def children_nodes(self) -> tuple[Node, ...]:
        return (self.operand,)


class Not(Node):
    __slots__ = ("operand",)
    prec = 3

    def __init__(self, operand: Node, pos: int) -> None:
        self.operand = operand
        self.pos = pos

    def children_nodes(self) -> tuple[Node, ...]:
        return (self.operand,)


class BinOp(Node):
    __slots__ = ("op", "left", "right")

    def __init__(self, op: str, left: Node, right: Node, pos: int) -> None:
        self.op = op
        self.left = left
        self.right = right
        self.pos = pos

    @property
    def prec(self) -> int:  # type: ignore[override]
        return 5 if self.op in "+-" else 6

    def children_nodes(self) -> tuple[Node, ...]:
        return (self.left, self.right)


class Compare(Node):
    __slots__ = ("op", "left", "right")
    prec = 4

    def __init__(self, op: str, left: Node, right: Node, pos: int) -> None:
        self.op = op
        self.left = left
        self.right = right
        self.pos = pos

    def children_nodes(self) -> tuple[Node, ...]:
        return (self.left, self.right)


class BoolOp(Node):
    __slots__ = ("op", "left", "right")

    def __init__(self, op: str, left: Node, right: Node, pos: int) -> None:
        self.op = op
        self.left = left
        self.right = right
        self.pos = pos

    @property
    def prec(self) -> int:  # type: ignore[override]
        return 2 if self.op == "and" else 1

    def children_nodes(self) -> tuple[Node, ...]:
        return (self.left, self.right)

    def flatten(self) -> list[Node]:
        """Operands of a chain of the same operator: a and b and c -> [a, b, c]."""
        out: list[Node] = []
        for side in (self.left, self.right):
            if isinstance(side, BoolOp) and side.op == self.op:
                out.extend(side.flatten())
            else:
                out.append(side)
        return out


class Call(Node):
    __slots__ = ("func", "args")

    def __init__(self, func: str, args: list[Node], pos: int) -> None:
        self.func = func
        self.args = args
        self.pos = pos

    def children_nodes(self) -> tuple[Node, ...]:
        return tuple(self.args)


# --------------------------------------------------------------------------------------------------------------
# Parser (Pratt)
# --------------------------------------------------------------------------------------------------------------

_INFIX_BP = {
    "or": 1,
    "and": 2,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "==": 4,
    "!=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
}
_COMPARE = frozenset({"<", "<=", ">", ">=", "==", "!="})


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0

    def error(self, message: str, tok: Token | None = None) -> ExpressionError:
        tok = tok or self.tokens[self.i]
        return ExpressionError(message, self.source, tok.pos)

    def peek(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect_op(self, op: str) -> Token:
        tok = self.next()
        if tok.kind != "op" or tok.value != op:
            raise self.error(f"此处应为“{op}”", tok)
        return tok

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise self.error("表达式为空")
        node = self.expression(0)
        tok = self.peek()
        if tok.kind != "end":
            raise self.error(f"多余的内容“{tok.value}”", tok)
        return node

    def _infix_op(self, tok: Token) -> str | None:
        if tok.kind == "op" and tok.value in _INFIX_BP:
            return tok.value
        if tok.kind == "name" and tok.value in ("and", "or"):
            return tok.value
        return None

    def expression(self, min_bp: int) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error("表达式嵌套过深")
        left = self.prefix()
        while True:
            tok = self.peek()
            op = self._infix_op(tok)
            if op is None:
                break
            bp = _INFIX_BP[op]
            if bp <= min_bp:
                break
            self.next()
            # left-associative: the right operand binds strictly tighter
            right = self.expression(bp)
            if op in _COMPARE:
                if isinstance(left, Compare) or isinstance(right, Compare):
                    raise self.error("比较运算不能连写，请用 and 连接", tok)
                left = Compare(op, left, right, tok.pos)
            elif op in ("and", "or"):
                left = BoolOp(op, left, right, tok.pos)
            else:
                left = BinOp(op, left, right, tok.pos)
            # a < b < c: the loop would see a second comparison at the same power; refuse it explicitly
            nxt = self.peek()
            nop = self._infix_op(nxt)
            if op in _COMPARE and nop in _COMPARE:
                raise self.error("比较运算不能连写，请用 and 连接", nxt)
        self.depth -= 1
        return left

    def prefix(self) -> Node:
        tok = self.next()
        if tok.kind == "num":
            return Num(tok.value, tok.pos)
        if tok.kind == "str":
            return Str(tok.value, tok.pos)
        if tok.kind == "op":
            if tok.value == "(":
                node = self.expression(0)
                self.expect_op(")")
                return node
            if tok.value == "-":
                operand = self.expression(6)  # binds tighter than * and /
                if isinstance(operand, Num):
                    return Num(-operand.value, tok.pos)
                return Neg(operand, tok.pos)
            if tok.value == "+":
                return self.expression(6)
            raise self.error(f"此处不能出现“{tok.value}”", tok)
        if tok.kind == "name":
            word = tok.value
            if word == "true":
                return Bool(True, tok.pos)
            if word == "false":
                return Bool(False, tok.pos)
            if word == "not":
                return Not(self.expression(3), tok.pos)
            if word in ("and", "or"):
                raise self.error(f"“{word}”前缺少运算对象", tok)
            nxt = self.peek()
            if nxt.kind == "op" and nxt.value == "(":
                return self.call(tok)
            if word in ("members", "children"):
                if nxt.kind == "op" and nxt.value == ".":
                    self.next()
                    field = self.next()
                    if field.kind != "name" or field.value in RESERVED:
                        raise self.error(f"“{word}.”后应为字段代码", field)
                    after = self.peek()
                    if after.kind == "op" and after.value in (".", "("):
                        raise self.error("不允许的属性或调用", after)
                    return Ref(word, field.value, tok.pos)
                return Ref(word, None, tok.pos)
            if nxt.kind == "op" and nxt.value == ".":
                raise self.error("只有 members.字段 和 children.字段 可以使用“.”", nxt)
            return Name(word, tok.pos)
        raise self.error("表达式不完整", tok)

    def call(self, name_tok: Token) -> Node:
        func = name_tok.value
        if func not in FUNCTIONS:
            raise self.error(f"未知函数“{func}”", name_tok)
        self.expect_op("(")
        args: list[Node] = []
        if not (self.peek().kind == "op" and self.peek().value == ")"):
            while True:
                args.append(self.expression(0))
                tok = self.peek()
                if tok.kind == "op" and tok.value == ",":
                    self.next()
                    continue
                break
        self.expect_op(")")
        after = self.peek()
        if after.kind == "op" and after.value in (".", "("):
            raise self.error("不允许的属性或调用", after)
        return Call(func, args, name_tok.pos)


def parse(source: str) -> Node:
    """Parse an expression into a tree (no compilation, no name checks)."""
    if not isinstance(source, str):
        raise ExpressionError("表达式应为字符串")
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(f"表达式过长（超过{MAX_SOURCE_LENGTH}个字符）")
    return _Parser(source).parse()


# --------------------------------------------------------------------------------------------------------------
# Compiler: tree -> closures
# --------------------------------------------------------------------------------------------------------------


def _is_num_type(t: type) -> bool:
    return t is float or t is int


def _compile_name(code: str) -> Fn:
    def f(values: dict[str, Any], ctx: Context) -> Any:
        v = values.get(code, ABSENT)
        t = type(v)
        if t is float or t is int or t is bool:
            return v
        return _classify(v, code)

    return f


def _const(value: Any) -> Fn:
    def f(values: dict[str, Any], ctx: Context) -> Any:
        return value

    return f


# Operand kinds of a binary node. Field lookups and constants are done inline in the parent's closure instead
# of through a child closure: most operands are leaves, and a Python call costs more than the branch.
_NAME, _CONST, _FN = 0, 1, 2


def _operand(node: Node) -> tuple[int, Any, Fn]:
    if isinstance(node, Name):
        return _NAME, node.name, node.fn
    if isinstance(node, (Num, Str, Bool)):
        return _CONST, node.value, node.fn
    return _FN, None, node.fn


def _compile_arith(node: BinOp, lf: Fn, rf: Fn) -> Fn:
    op = node.op
    right_node = node.right
    lk, lx, _ = _operand(node.left)
    rk, rx, _ = _operand(node.right)

    # One closure per operator keeps the hot path to inline lookups and two type checks; anything unusual
    # ("--", unfilled, strings, bools) goes through _classify/_as_number and may become Missing.
    def fetch_slow(v: Any, kind: int, code: Any) -> Any:
        return _as_number(_classify(v, code) if kind == _NAME else v)

    if op == "+":

        def f(values: dict[str, Any], ctx: Context) -> Any:
            a = values.get(lx, ABSENT) if lk == _NAME else (lx if lk == _CONST else lf(values, ctx))
            ta = type(a)
            if ta is not float and ta is not int:
                a = fetch_slow(a, lk, lx)
                if type(a) is Missing:
                    return a
            b = values.get(rx, ABSENT) if rk == _NAME else (rx if rk == _CONST else rf(values, ctx))
            tb = type(b)
            if tb is not float and tb is not int:
                b = fetch_slow(b, rk, rx)
                if type(b) is Missing:
                    return b
            return a + b

    elif op == "-":

        def f(values: dict[str, Any], ctx: Context) -> Any:
            a = values.get(lx, ABSENT) if lk == _NAME else (lx if lk == _CONST else lf(values, ctx))
            ta = type(a)
            if ta is not float and ta is not int:
                a = fetch_slow(a, lk, lx)
                if type(a) is Missing:
                    return a
            b = values.get(rx, ABSENT) if rk == _NAME else (rx if rk == _CONST else rf(values, ctx))
            tb = type(b)
            if tb is not float and tb is not int:
                b = fetch_slow(b, rk, rx)
                if type(b) is Missing:
                    return b
            return a - b

    elif op == "*":

        def f(values: dict[str, Any], ctx: Context) -> Any:
            a = values.get(lx, ABSENT) if lk == _NAME else (lx if lk == _CONST else lf(values, ctx))
            ta = type(a)
            if ta is not float and ta is not int:
                a = fetch_slow(a, lk, lx)
                if type(a) is Missing:
                    return a
            b = values.get(rx, ABSENT) if rk == _NAME else (rx if rk == _CONST else rf(values, ctx))
            tb = type(b)
            if tb is not float and tb is not int:
                b = fetch_slow(b, rk, rx)
                if type(b) is Missing:
                    return b
            return a * b

    else:

        def f(values: dict[str, Any], ctx: Context) -> Any:
            a = values.get(lx, ABSENT) if lk == _NAME else (lx if lk == _CONST else lf(values, ctx))
            ta = type(a)
            if ta is not float and ta is not int:
                a = fetch_slow(a, lk, lx)
                if type(a) is Missing:
                    return a
            b = values.get(rx, ABSENT) if rk == _NAME else (rx if rk == _CONST else rf(values, ctx))
            tb = type(b)
            if tb is not float and tb is not int:
                b = fetch_slow(b, rk, rx)
                if type(b) is Missing:
                    return b
            if b == 0:
                return Missing("zero_div", node=right_node)
            return a / b

    return f


def _compare_slow(op: str, a: Any, b: Any) -> Any:
    """Comparison when at least one operand is not a plain number."""
    if type(a) is Missing:
        return a
    if type(b) is Missing:
        return b
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        if ta is bool and tb is bool and op in ("==", "!="):
            return (a == b) if op == "==" else (a != b)
        if op in ("==", "!="):
            return op == "!="
        return Missing("type")
    if ta is str and tb is str:
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        return Missing("type")
    # one side a number, the other a string (or both odd): compare numerically if the string is a number
    na, nb = _as_number(a), _as_number(b)
    if type(na) is Missing or type(nb) is Missing:
        if op in ("==", "!="):
            return op == "!="
        return Missing("type")
    return _compare_num(op, na, nb)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= EPS * max(1.0, abs(a), abs(b))


def _compare_num(op: str, a: float, b: float) -> bool:
    if op == "<=":
        return a <= b or _close(a, b)
    if op == ">=":
        return a >= b or _close(a, b)
    if op == "<":
        return a < b and not _close(a, b)
    if op == ">":
        return a > b and not _close(a, b)
    if op == "==":
        return a == b or _close(a, b)
    return not (a == b or _close(a, b))


def _compile_compare(node: Compare, lf: Fn, rf: Fn) -> Fn:
    op = node.op
    lk, lx, _ = _operand(node.left)
    rk, rx, _ = _operand(node.right)

    def slow(a: Any, b: Any) -> Any:
        if lk == _NAME:
            a = _classify(a, lx) if type(a) is not bool else a
        if rk == _NAME:
            b = _classify(b, rx) if type(b) is not bool else b
        return _compare_slow(op, a, b)

    # Specialised closures for the common operators keep the all-numbers case to a couple of comparisons.
    if op == "<=":

        def f(values: dict[str, Any], ctx: Context) -> Any:
            a = values.get(lx, ABSENT) if lk == _NAME else (lx if lk == _CONST else lf(values, ctx))
            b = values.get(rx, ABSENT) if rk == _NAME else (rx if rk == _CONST else rf(values, ctx))
            ta = type(a)
            tb = type(b)
            if (ta is float or ta is int) and (tb is float or tb is int):
                return a <= b or _close(a, b)
            return slow(a, b)

    elif op == ">=":

        def f(values: dict[str, Any], ctx: Context) -> Any:
            a = values.get(lx, ABSENT) if lk == _NAME else (lx if lk == _CONST else lf(values, ctx))
            b = values.get(rx, ABSENT) if rk == _NAME else (rx if rk == _CONST else rf(values, ctx))
            ta = type(a)
            tb = type(b)
            if (ta is float or ta is int) and (tb is float or tb is int):
                return a >= b or _close(a, b)
            return slow(a, b)

    elif op == "==":

        def f(values: dict[str, Any], ctx: Context) -> Any:
            a = values.get(lx, ABSENT) if lk == _NAME else (lx if lk == _CONST else lf(values, ctx))
            b = values.get(rx, ABSENT) if rk == _NAME else (rx if rk == _CONST else rf(values, ctx))
            ta = type(a)
            tb = type(b)
            if (ta is float or ta is int) and (tb is float or tb is int):
                return a == b or _close(a, b)
            return slow(a, b)

    else:

        def f(values: dict[str, Any], ctx: Context) -> Any:
            a = values.get(lx, ABSENT) if lk == _NAME else (lx if lk == _CONST else lf(values, ctx))
            b = values.get(rx, ABSENT) if rk == _NAME else (rx if rk == _CONST else rf(values, ctx))
            ta = type(a)
            tb = type(b)
            if (ta is float or ta is int) and (tb is float or tb is int):
                return _compare_num(op, a, b)
            return slow(a, b)

    return f


def _range_pattern(node: BoolOp) -> tuple[str, str, Any, str, Any] | None:
    """Recognise "x >= lo and x <= hi" (x a field, lo/hi numbers): the most frequent plausibility check."""
    left, right = node.left, node.right
    if not (isinstance(left, Compare) and isinstance(right, Compare)):
        return None
    if not (
        isinstance(left.left, Name) and isinstance(right.left, Name) and left.left.name == right.left.name
    ):
        return None
    if not (isinstance(left.right, Num) and isinstance(right.right, Num)):
        return None
    if left.op not in ("<=", ">=", "<", ">") or right.op not in ("<=", ">=", "<", ">"):
        return None
    return left.left.name, left.op, left.right.value, right.op, right.right.value


def _compile_range(pattern: tuple[str, str, Any, str, Any], general: Fn) -> Fn:
    code, op1, c1, op2, c2 = pattern
    if op1 == ">=" and op2 == "<=":

        def between(values: dict[str, Any], ctx: Context) -> Any:
            v = values.get(code, ABSENT)
            t = type(v)
            if t is float or t is int:
                return (v >= c1 or _close(v, c1)) and (v <= c2 or _close(v, c2))
            return general(values, ctx)

        return between

    def f(values: dict[str, Any], ctx: Context) -> Any:
        v = values.get(code, ABSENT)
        t = type(v)
        if t is float or t is int:
            return _compare_num(op1, v, c1) and _compare_num(op2, v, c2)
        return general(values, ctx)

    return f


def _compile_and(lf: Fn, rf: Fn) -> Fn:
    # Kleene logic: false and anything = false (short-circuit); unknown and false = false; else unknown.
    def f(values: dict[str, Any], ctx: Context) -> Any:
        a = lf(values, ctx)
        if a is False:
            return False
        if a is not True:
            a = _truth(a)
            if a is False:
                return False
        b = rf(values, ctx)
        if b is not True and b is not False:
            b = _truth(b)
        if a is True:
            return b
        return False if b is False else a

    return f


def _compile_or(lf: Fn, rf: Fn) -> Fn:
    def f(values: dict[str, Any], ctx: Context) -> Any:
        a = lf(values, ctx)
        if a is True:
            return True
        if a is not False:
            a = _truth(a)
            if a is True:
                return True
        b = rf(values, ctx)
        if b is not True and b is not False:
            b = _truth(b)
        if a is False:
            return b
        return True if b is True else a

    return f


def _compile_not(of: Fn) -> Fn:
    def f(values: dict[str, Any], ctx: Context) -> Any:
        a = of(values, ctx)
        if a is True:
            return False
        if a is False:
            return True
        a = _truth(a)
        return a if type(a) is Missing else not a

    return f


def _compile_neg(of: Fn) -> Fn:
    def f(values: dict[str, Any], ctx: Context) -> Any:
        a = _as_number(of(values, ctx))
        return a if type(a) is Missing else -a

    return f


def _entry_value(entry: dict[str, Any], code: str) -> Any:
    v = entry.get(code, ABSENT)
    t = type(v)
    if t is float or t is int or t is bool:
        return v
    return _classify(v, code)


def _entries(ctx: Context, scope: str) -> list[dict[str, Any]] | None:
    return ctx.members if scope == "members" else ctx.children


def _no_entries(scope: str) -> Missing:
    return Missing("no_members" if scope == "members" else "no_children", scope=scope)


def _compile_aggregate(func: str, ref: Ref) -> Fn:
    scope = ref.scope
    code = ref.name
    if func == "count":
        if code is None:

            def count_entries(values: dict[str, Any], ctx: Context) -> Any:
                entries = _entries(ctx, scope)
                return _no_entries(scope) if entries is None else len(entries)

            return count_entries

        def count_known(values: dict[str, Any], ctx: Context) -> Any:
            entries = _entries(ctx, scope)
            if entries is None:
                return _no_entries(scope)
            n = 0
            for e in entries:
                v = _entry_value(e, code)
                if type(v) is not Missing:
                    n += 1
            return n

        return count_known

    assert code is not None
    strict = func in ("sum", "min", "max")

    def agg(values: dict[str, Any], ctx: Context) -> Any:
        entries = _entries(ctx, scope)
        if entries is None:
            return _no_entries(scope)
        known: list[Any] = []
        for i, e in enumerate(entries):
            v = e.get(code, ABSENT)
            t = type(v)
            if t is not float and t is not int:
                if v is NOT_APPLICABLE:
                    continue  # the field does not apply to this entry (its condition is false)
                v = _as_number(_classify(v, code))
                if type(v) is Missing:
                    if strict:
                        return Missing(v.kind, code, member=i, scope=scope)
                    continue
            known.append(v)
        if func == "sum":
            return sum(known)
        if not known:
            return Missing("no_known", code, scope=scope)
        if func == "sum_known":
            return sum(known)
        return min(known) if func == "min" else max(known)

    return agg


class _Compiler:
    def __init__(
        self,
        source: str,
        names: Collection[str] | None,
        member_names: Collection[str] | None,
        children_names: Collection[str] | None,
    ) -> None:
        self.source = source
        self.names = names
        self.member_names = member_names
        self.children_names = children_names
        self.found_names: set[str] = set()
        self.found_members: set[str] = set()
        self.found_children: set[str] = set()
        self.uses_members = False
        self.uses_children = False
        self.uses_prev = False
        self.prev_depth = 0  # the furthest period back prev()/change()/growth() look (1 = the previous one)
        self.uses_peers = False

    def error(self, message: str, node: Node) -> ExpressionError:
        return ExpressionError(message, self.source, node.pos)

    def build(self, node: Node, *, in_prev: bool = False, in_peer: bool = False) -> Fn:
        fn = self._build(node, in_prev, in_peer)
        node.fn = fn
        return fn

    def _build(self, node: Node, in_prev: bool, in_peer: bool) -> Fn:
        if isinstance(node, Num):
            return _const(node.value)
        if isinstance(node, Str):
            return _const(node.value)
        if isinstance(node, Bool):
            return _const(node.value)
        if isinstance(node, Name):
            name = node.name
            if name in RESERVED or name in FUNCTIONS:
                raise self.error(f"“{name}”是保留字，不能作为字段代码", node)
            if self.names is not None and name not in self.names:
                raise self.error(f"未知字段“{name}”", node)
            self.found_names.add(name)
            return _compile_name(name)
        if isinstance(node, Ref):
            raise self.error(
                f"“{node.scope}{'.' + node.name if node.name else ''}”只能用在 sum、sum_known、count、min、max 中",
                node,
            )
        if isinstance(node, Neg):
            return _compile_neg(self.build(node.operand, in_prev=in_prev, in_peer=in_peer))
        if isinstance(node, Not):
            return _compile_not(self.build(node.operand, in_prev=in_prev, in_peer=in_peer))
        if isinstance(node, BinOp):
            lf = self.build(node.left, in_prev=in_prev, in_peer=in_peer)
            rf = self.build(node.right, in_prev=in_prev, in_peer=in_peer)
            return _compile_arith(node, lf, rf)
        if isinstance(node, Compare):
            lf = self.build(node.left, in_prev=in_prev, in_peer=in_peer)
            rf = self.build(node.right, in_prev=in_prev, in_peer=in_peer)
            return _compile_compare(node, lf, rf)
        if isinstance(node, BoolOp):
            lf = self.build(node.left, in_prev=in_prev, in_peer=in_peer)
            rf = self.build(node.right, in_prev=in_prev, in_peer=in_peer)
            if node.op == "and":
                general = _compile_and(lf, rf)
                pattern = _range_pattern(node)
                return _compile_range(pattern, general) if pattern is not None else general
            return _compile_or(lf, rf)
        if isinstance(node, Call):
            return self._call(node, in_prev, in_peer)
        raise self.error("不支持的表达式", node)  # pragma: no cover

    def _ref(self, node: Node, func: str, *, allow_bare: bool) -> Ref:
        if not isinstance(node, Ref) or (node.name is None and not allow_bare):
            want = "members 或 children（或其字段）" if allow_bare else "members.字段 或 children.字段"
            raise self.error(f"{func}() 的参数应为 {want}", node)
        if node.scope == "members":
            self.uses_members = True
            if node.name is not None:
                if self.member_names is not None and node.name not in self.member_names:
                    raise self.error(f"成员子表中没有字段“{node.name}”", node)
                self.found_members.add(node.name)
        else:
            self.uses_children = True
            if node.name is not None:
                if self.children_names is not None and node.name not in self.children_names:
                    raise self.error(f"下级单位的表中没有字段“{node.name}”", node)
                self.found_children.add(node.name)
        node.fn = _const(None)
        return node

    def _periods(self, node: Node, func: str) -> int:
        """The n of prev(x, n) / change(x, n) / growth(x, n): a whole number literal >= 1."""
        if not isinstance(node, Num) or node.value != int(node.value) or node.value < 1:
            raise self.error(f"{func}() 的第二个参数应为不小于1的整数（往前的期数）", node)
        return int(node.value)

    def _call(self, node: Call, in_prev: bool, in_peer: bool) -> Fn:
        func = node.func
        args = node.args

        def arity(n: int) -> None:
            if len(args) != n:
                raise self.error(f"{func}() 需要{n}个参数，实际为{len(args)}个", node)

        if func in ("sum", "sum_known"):
            arity(1)
            if in_peer:
                raise self.error(f"{func}() 不能用在同级比较函数中", node)
            return _compile_aggregate(func, self._ref(args[0], func, allow_bare=False))
        if func == "count":
            arity(1)
            if in_peer:
                raise self.error("count() 不能用在同级比较函数中", node)
            return _compile_aggregate(func, self._ref(args[0], func, allow_bare=True))
        if func in ("min", "max"):
            if not args:
                raise self.error(f"{func}() 至少需要1个参数", node)
            if len(args) == 1 and isinstance(args[0], Ref):
                return _compile_aggregate(func, self._ref(args[0], func, allow_bare=False))
            fns = [self.build(a, in_prev=in_prev, in_peer=in_peer) for a in args]
            pick = min if func == "min" else max

            def minmax(values: dict[str, Any], ctx: Context) -> Any:
                out = []
                for fn in fns:
                    v = _as_number(fn(values, ctx))
                    if type(v) is Missing:
                        return v
                    out.append(v)
                return pick(out)

            return minmax
        if func == "abs":
            arity(1)
            af = self.build(args[0], in_prev=in_prev, in_peer=in_peer)

            def abs_(values: dict[str, Any], ctx: Context) -> Any:
                v = af(values, ctx)
                t = type(v)
                if t is float or t is int:
                    return -v if v < 0 else v
                v = _as_number(v)
                return v if type(v) is Missing else abs(v)

            return abs_
        if func in ("filled", "missing"):
            arity(1)
            arg = args[0]
            if not isinstance(arg, Name):
                raise self.error(f"{func}() 的参数应为字段代码", node)
            self.build(arg, in_prev=in_prev, in_peer=in_peer)
            code = arg.name
            if func == "filled":
                # "--" is a filled answer (the clerk said "not collected"); absent/blank/not-applicable is not.
                def filled(values: dict[str, Any], ctx: Context) -> Any:
                    v = values.get(code, ABSENT)
                    return not (is_unfilled(v) or v is NOT_APPLICABLE)

                return filled

            def missing(values: dict[str, Any], ctx: Context) -> Any:
                return is_missing(values.get(code, ABSENT))

            return missing
        if func in ("change", "growth"):
            # change(x, n) = x - prev(x, n); growth(x, n) = (x - prev(x, n)) / prev(x, n) * 100 (n defaults to 1):
            # compiled as that arithmetic, so missing values and a zero base propagate as everywhere else.
            if len(args) not in (1, 2):
                raise self.error(f"{func}() 需要1或2个参数，实际为{len(args)}个", node)
            n = self._periods(args[1], func) if len(args) == 2 else 1
            back = Call("prev", [args[0], Num(n, node.pos)], node.pos)
            diff = BinOp("-", args[0], back, node.pos)
            tree = diff if func == "change" else BinOp("*", BinOp("/", diff, back, node.pos), Num(100, node.pos),
                                                       node.pos)
            return self.build(tree, in_prev=in_prev, in_peer=in_peer)
        if func == "prev" and len(args) == 2:
            n = self._periods(args[1], func)
            if n > 1:
                if in_prev:
                    raise self.error("prev() 不能嵌套", node)
                if in_peer:
                    raise self.error("prev() 不能用在同级比较函数中", node)
                self.uses_prev = True
                self.prev_depth = max(self.prev_depth, n)
                af = self.build(args[0], in_prev=True, in_peer=in_peer)

                def prev_n(values: dict[str, Any], ctx: Context) -> Any:
                    found = ctx.period(n)
                    if found is None:
                        return Missing("no_earlier", prev=n)
                    v = af(found[0], found[1])
                    return v.as_prev(n) if type(v) is Missing else v

                return prev_n
            args = args[:1]
        if func == "prev":
            arity(1)
            if in_prev:
                raise self.error("prev() 不能嵌套", node)
            if in_peer:
                raise self.error("prev() 不能用在同级比较函数中", node)
            self.uses_prev = True
            self.prev_depth = max(self.prev_depth, 1)
            af = self.build(args[0], in_prev=True, in_peer=in_peer)

            if isinstance(args[0], Name):
                code = args[0].name

                # prev(field), by far the most frequent form: one lookup in the previous values
                def prev_field(values: dict[str, Any], ctx: Context) -> Any:
                    p = ctx.previous
                    if p is None:
                        return Missing("no_prev", prev=True)
                    v = p.get(code, ABSENT)
                    t = type(v)
                    if t is float or t is int:
                        return v
                    v = _classify(v, code)
                    return v.as_prev() if type(v) is Missing else v

                return prev_field

            def prev(values: dict[str, Any], ctx: Context) -> Any:
                p = ctx.previous
                if p is None:
                    return Missing("no_prev", prev=True)
                v = af(p, ctx.prev_context())
                return v.as_prev() if type(v) is Missing else v

            return prev
        if func in ("peer_median", "peer_mad", "robust_z"):
            arity(1)
            if in_peer:
                raise self.error(f"{func}() 不能嵌套", node)
            if in_prev:
                raise self.error(f"{func}() 不能用在 prev() 中", node)
            self.uses_peers = True
            arg = args[0]
            af = self.build(arg, in_prev=in_prev, in_peer=True)

            def stats(ctx: Context) -> Any:
                peers = ctx.peers
                if peers is None:
                    return Missing("peers")
                return peers.stats(arg)

            if func == "peer_median":

                def peer_median(values: dict[str, Any], ctx: Context) -> Any:
                    s = stats(ctx)
                    return s if type(s) is Missing else s[0]

                return peer_median
            if func == "peer_mad":

                def peer_mad(values: dict[str, Any], ctx: Context) -> Any:
                    s = stats(ctx)
                    return s if type(s) is Missing else s[1]

                return peer_mad

            def robust_z(values: dict[str, Any], ctx: Context) -> Any:
                x = _as_number(af(values, ctx))
                if type(x) is Missing:
                    return x
                s = stats(ctx)
                if type(s) is Missing:
                    return s
                med, mad, _n = s
                if mad == 0:
                    return Missing("mad_zero")
                return (x - med) / (MAD_SCALE * mad)

            return robust_z
        raise self.error(f"未知函数“{func}”", node)  # pragma: no cover - parser refuses already


class Expression:
    """A compiled expression: ``evaluate(values, ctx)`` plus what it refers to."""

    __slots__ = (
        "source",
        "tree",
        "fn",
        "names",
        "member_names",
        "children_names",
        "uses_members",
        "uses_children",
        "uses_prev",
        "uses_peers",
        "prev_depth",
    )

    def __init__(self, source: str, tree: Node, compiler: _Compiler) -> None:
        self.source = source
        self.tree = tree
        self.fn: Fn = tree.fn
        self.names = frozenset(compiler.found_names)
        self.member_names = frozenset(compiler.found_members)
        self.children_names = frozenset(compiler.found_children)
        self.uses_members = compiler.uses_members
        self.uses_children = compiler.uses_children
        self.uses_prev = compiler.uses_prev
        self.uses_peers = compiler.uses_peers
        self.prev_depth = compiler.prev_depth

    def evaluate(self, values: dict[str, Any], ctx: Context | None = None) -> Any:
        return self.fn(values, ctx if ctx is not None else Context())

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def compile_expression(
    source: str,
    *,
    names: Collection[str] | None = None,
    member_names: Collection[str] | None = None,
    children_names: Collection[str] | None = None,
) -> Expression:
    """Parse and compile ``source`` once.

    ``names`` / ``member_names`` / ``children_names``: if given, identifiers (``x``, ``members.x``,
    ``children.x``) must be among them, otherwise :class:`ExpressionError`.
    """
    tree = parse(source)
    compiler = _Compiler(source, names, member_names, children_names)
    compiler.build(tree)
    return Expression(source, tree, compiler)
