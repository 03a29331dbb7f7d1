"""Form definitions and catalogs: load the catalog JSON, validate it, compile it once.

A :class:`FormDefinition` is built from one form dict (docs/ARCHITECTURE.md "Catalog JSON"). Everything that
evaluation needs is prepared here, once: expressions are compiled to closures, message templates are split
into parts, and the *derived* checks that follow from field metadata ("其中" parts, whole numbers,
percentages, non-negative amounts, value types) are generated so the catalog never has to repeat them.

Validation collects every problem of a form (or a whole catalog) and raises one :class:`CatalogError`
listing them all, so whoever edits the JSON sees every mistake at once.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .conditions import condition_tree
from .expr import FUNCTIONS, RESERVED, Expression, ExpressionError, compile_expression

__all__ = [
    "Catalog",
    "CatalogError",
    "Check",
    "Field",
    "FormDefinition",
    "Indicator",
    "Target",
    "canonical_json",
    "load_catalog_dir",
]

FIELD_TYPES = frozenset({"count", "decimal", "percent", "yesno", "text", "choice"})
NUMERIC_TYPES = frozenset({"count", "decimal", "percent"})
SEVERITIES = frozenset({"hard", "soft"})
SCOPES = frozenset({"form", "members", "children"})
# Which other units a form's peer functions compare with: every unit filling the form ("all") or only those
# under the same parent unit ("parent": the cities of one province).
PEER_SCOPES = frozenset({"all", "parent"})
TARGET_OPS = frozenset({">=", "<=", ">", "<", "==", "!="})
UNIT_LEVELS = frozenset({"nation", "province", "city", "urban_alliance", "county_alliance", "member"})
APPROVER_LEVELS = frozenset({"nation", "province", "city"})
# Validation runs at load time only, so a regex is fine here.
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_FORM_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class CatalogError(ValueError):
    """The catalog JSON is invalid. ``problems`` lists every problem found (Chinese + location)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("目录定义有误：\n" + "\n".join(f"- {p}" for p in problems))


def canonical_json(data: Any) -> str:
    """The canonical JSON text a content hash is computed over (same as reporting.catalog_loader)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Field:
    __slots__ = (
        "code",
        "label",
        "section",
        "unit",
        "type",
        "choices",
        "optional",
        "condition",
        "of",
        "help",
        "min",
        "max",
        "condition_source",
        "unit_scale",
    )

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.code: str = data.get("code", "")
        self.label: str = data.get("label") or self.code
        self.section: list[str] = list(data.get("section") or [])
        self.unit: str = data.get("unit") or ""
        self.type: str = data.get("type", "")
        self.choices: list[str] | None = data.get("choices")
        self.optional: bool = bool(data.get("optional", False))
        self.condition: Expression | None = None  # compiled by FormDefinition
        self.condition_source: str | None = data.get("condition") or None
        self.of: str | None = data.get("of")
        self.help: str = data.get("help") or ""
        # Optional extension: "min"/"max" override the default range of numeric fields (e.g. a growth rate
        # in % may be negative or above 100). Absent = the default for the type.
        self.min: float | None = data.get("min", 0 if self.type in NUMERIC_TYPES else None)
        self.max: float | None = data.get("max", 100 if self.type == "percent" else None)
        # Optional: compare the value with the previous period's for a slip of unit (entered in 万 or 千).
        self.unit_scale: bool = bool(data.get("unit_scale", False))

    def __repr__(self) -> str:
        return f"Field({self.code!r})"


class Target:
    """A target of an indicator. ``note`` says, in words a user reads next to the target, where the platform
    reads the document more strictly or loosely than its wording ("90%左右" judged as ≥ 90)."""

    __slots__ = ("op", "value", "source", "note")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.op: str = data.get("op", "")
        self.value: float = data.get("value")  # type: ignore[assignment]
        self.source: str = data.get("source") or ""
        self.note: str = data.get("note") or ""

    def attained(self, x: float | None) -> bool | None:
        if x is None:
            return None
        op, t = self.op, self.value
        if op == ">=":
            return x >= t
        if op == "<=":
            return x <= t
        if op == ">":
            return x > t
        if op == "<":
            return x < t
        if op == "==":
            return x == t
        return x != t


class Indicator:
    __slots__ = ("code", "label", "expr", "unit", "definition", "target")

    def __init__(self, data: Mapping[str, Any], expr: Expression | None, target: Target | None) -> None:
        self.code: str = data.get("code", "")
        self.label: str = data.get("label") or self.code
        self.expr = expr
        self.unit: str = data.get("unit") or ""
        self.definition: str = data.get("definition") or ""
        self.target = target

    def __repr__(self) -> str:
        return f"Indicator({self.code!r})"


class Check:
    """One check. ``kind`` is "expr" for the catalog's own checks; derived checks have kind
    "of" | "int" | "pct" | "nonneg" | "type" and no expression (they run in a batched loop)."""

    __slots__ = ("code", "severity", "scope", "expr", "message", "source", "fields", "kind")

    def __init__(
        self,
        code: str,
        severity: str,
        scope: str,
        expr: Expression | None,
        message: list[tuple[str, str]] | None,
        source: str,
        fields: tuple[str, ...],
        kind: str = "expr",
    ) -> None:
        self.code = code
        self.severity = severity
        self.scope = scope
        self.expr = expr
        self.message = message  # parsed template: [("text", s) | ("value", code) | ("label", code)]
        self.source = source
        self.fields = fields
        self.kind = kind

    @property
    def derived(self) -> bool:
        return self.kind != "expr"

    def __repr__(self) -> str:
        return f"Check({self.code!r})"


def _parse_template(template: str) -> list[tuple[str, str]]:
    """Split "{code}（{code.label}）..." into parts; "{{" and "}}" are literal braces.

    Templates are filled by our own code (never str.format), so "{x.__class__}" cannot reach attributes.
    """
    parts: list[tuple[str, str]] = []
    buf: list[str] = []
    i, n = 0, len(template)
    while i < n:
        c = template[i]
        if c == "{" and template.startswith("{{", i):
            buf.append("{")
            i += 2
            continue
        if c == "}" and template.startswith("}}", i):
            buf.append("}")
            i += 2
            continue
        if c == "{":
            j = template.find("}", i)
            if j < 0:
                raise ValueError("“{”缺少对应的“}”")
            key = template[i + 1 : j].strip()
            if buf:
                parts.append(("text", "".join(buf)))
                buf = []
            if key.endswith(".label"):
                parts.append(("label", key[: -len(".label")]))
            else:
                parts.append(("value", key))
            i = j + 1
            continue
        if c == "}":
            raise ValueError("多余的“}”")
        buf.append(c)
        i += 1
    if buf:
        parts.append(("text", "".join(buf)))
    return parts


class FormDefinition:
    """One form (or member sub-form) of the catalog, validated and compiled.

    ``subform``: the compiled member sub-form, so ``members.x`` can be validated and member entries checked.
    ``children_names``: field codes available as ``children.x`` (None = do not validate them).
    """

    def __init__(
        self,
        data: Mapping[str, Any],
        *,
        subform: FormDefinition | None = None,
        children_names: Collection[str] | None = None,
        children_labels: Mapping[str, str] | None = None,
    ) -> None:
        problems: list[str] = []
        # labels of children.x fields (from the subordinate forms), used in reasons and messages
        self.children_labels: dict[str, str] = dict(children_labels or {})
        if not isinstance(data, Mapping):
            raise CatalogError(["表单定义应为 JSON 对象"])
        self.data: dict[str, Any] = dict(data)
        self.code: str = str(data.get("code") or "")
        self.title: str = data.get("title") or self.code
        self.filled_by: str = data.get("filled_by") or ""
        self.unit_level: str = data.get("unit_level") or ""
        self.subform_code: str | None = data.get("subform")
        self.parent: str | None = data.get("parent")
        self.member_label: str = data.get("member_label") or "成员单位"
        self.peer_scope: str = data.get("peer_scope") or "all"
        # The level of the units whose reviewers approve this form (null: the level above the filling unit).
        self.approver_level: str | None = data.get("approver_level")
        self.subform: FormDefinition | None = subform
        self.content_hash: str = hashlib.sha256(canonical_json(self.data).encode("utf-8")).hexdigest()
        where = f"表单 {self.code or '?'}"

        if not _FORM_CODE_RE.match(self.code):
            problems.append(f"{where}：表单代码“{self.code}”不合规（应为小写字母开头的字母、数字、下划线）")
        if self.peer_scope not in PEER_SCOPES:
            problems.append(f"{where}：peer_scope“{self.peer_scope}”应为 all 或 parent")
        if self.unit_level and self.unit_level not in UNIT_LEVELS:
            problems.append(f"{where}：unit_level“{self.unit_level}”未知")
        if self.approver_level is not None and self.approver_level not in APPROVER_LEVELS:
            problems.append(f"{where}：approver_level“{self.approver_level}”未知（应为 nation、province 或 city）")
        if subform is not None and subform.code != self.subform_code:
            problems.append(f"{where}：子表应为“{self.subform_code}”，实际传入“{subform.code}”")

        # ---- fields -------------------------------------------------------------------------------------
        self.fields: dict[str, Field] = {}
        raw_fields = data.get("fields")
        if not isinstance(raw_fields, list):
            problems.append(f"{where}：fields 应为数组")
            raw_fields = []
        for i, fd in enumerate(raw_fields):
            if not isinstance(fd, Mapping):
                problems.append(f"{where} fields[{i}]：应为 JSON 对象")
                continue
            f = Field(fd)
            loc = f"{where} 字段 {f.code or f'fields[{i}]'}"
            if not isinstance(f.code, str) or not _CODE_RE.match(f.code):
                problems.append(f"{loc}：字段代码不合规（应匹配 ^[a-z][a-z0-9_]*$）")
                continue
            if f.code in RESERVED or f.code in FUNCTIONS:
                problems.append(f"{loc}：“{f.code}”是表达式保留字，不能作为字段代码")
            if f.code in self.fields:
                problems.append(f"{loc}：字段代码重复")
                continue
            if f.type not in FIELD_TYPES:
                problems.append(f"{loc}：类型“{f.type}”未知（应为 {'、'.join(sorted(FIELD_TYPES))}）")
            if f.type == "choice" and (
                not isinstance(f.choices, list)
                or not f.choices
                or not all(isinstance(c, str) for c in f.choices)
            ):
                problems.append(f"{loc}：choice 类型需要非空的 choices 字符串数组")
            if f.unit_scale and f.type not in ("count", "decimal"):
                problems.append(f"{loc}：unit_scale 只能用于计数或数值字段")
            for key, bound in (("min", f.min), ("max", f.max)):
                if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float))):
                    problems.append(f"{loc}：{key} 应为数字")
            self.fields[f.code] = f
        names = frozenset(self.fields)
        self.field_list: list[Field] = list(self.fields.values())

        for f in self.field_list:
            loc = f"{where} 字段 {f.code}"
            if f.of is not None:
                total = self.fields.get(f.of)
                if total is None:
                    problems.append(f"{loc}：of 指向的字段“{f.of}”不存在")
                elif f.of == f.code:
                    problems.append(f"{loc}：of 不能指向自身")
                elif f.type not in NUMERIC_TYPES or total.type not in NUMERIC_TYPES:
                    problems.append(f"{loc}：of 只能用于数值字段（{f.type} / {total.type}）")
            cond = f.condition_source
            if cond:
                try:
                    f.condition = compile_expression(cond, names=names)
                except ExpressionError as e:
                    problems.append(f"{loc} condition：{e}")
                else:
                    if f.condition.uses_members or f.condition.uses_children or f.condition.uses_peers:
                        problems.append(f"{loc} condition：条件只能引用本表字段")
                    else:
                        try:  # the page evaluates conditions in the browser from this tree
                            condition_tree(f.condition)
                        except ExpressionError as e:
                            problems.append(f"{loc} condition：{e}")
        # of-chains must not loop (a of b of a)
        for f in self.field_list:
            seen = {f.code}
            cur = f.of
            while cur is not None and cur in self.fields:
                if cur in seen:
                    problems.append(f"{where} 字段 {f.code}：of 形成循环")
                    break
                seen.add(cur)
                cur = self.fields[cur].of

        member_names = frozenset(subform.fields) if subform is not None else None

        # ---- checks -------------------------------------------------------------------------------------
        def compile_rule(source: str | None, loc: str) -> Expression | None:
            """Compile a check's or indicator's expression against this form; a problem is collected, not raised."""
            try:
                return compile_expression(source or "", names=names, member_names=member_names,
                                          children_names=children_names)
            except ExpressionError as e:
                problems.append(f"{loc} expr：{e}")
                return None

        self.checks: list[Check] = []
        raw_checks = data.get("checks") or []
        if not isinstance(raw_checks, list):
            problems.append(f"{where}：checks 应为数组")
            raw_checks = []
        seen_codes: set[str] = set()
        for i, cd in enumerate(raw_checks):
            if not isinstance(cd, Mapping):
                problems.append(f"{where} checks[{i}]：应为 JSON 对象")
                continue
            code = cd.get("code") or ""
            loc = f"{where} 审核规则 {code or f'checks[{i}]'}"
            if not code or not isinstance(code, str):
                problems.append(f"{loc}：缺少 code")
                continue
            if code in seen_codes:
                problems.append(f"{loc}：规则代码重复")
            seen_codes.add(code)
            severity = cd.get("severity", "hard")
            scope = cd.get("scope", "form")
            if severity not in SEVERITIES:
                problems.append(f"{loc}：severity“{severity}”应为 hard 或 soft")
            if scope not in SCOPES:
                problems.append(f"{loc}：scope“{scope}”应为 form、members 或 children")
            if scope == "members" and not self.subform_code:
                problems.append(f"{loc}：scope 为 members，但本表没有成员子表")
            expr = compile_rule(cd.get("expr"), loc)
            if expr is not None:
                if expr.uses_members and scope != "members":
                    problems.append(f"{loc}：表达式引用了 members，scope 应为 members")
                if expr.uses_children and scope != "children":
                    problems.append(f"{loc}：表达式引用了 children，scope 应为 children")
                if expr.uses_members and not self.subform_code:
                    problems.append(f"{loc}：本表没有成员子表，不能引用 members")
            template = None
            if cd.get("message"):
                try:
                    template = _parse_template(cd["message"])
                except ValueError as e:
                    problems.append(f"{loc} message：{e}")
                else:
                    for kind, key in template:
                        if kind != "text" and key not in names:
                            problems.append(f"{loc} message：占位符“{{{key}}}”不是本表字段")
            fields = tuple(sorted(expr.names)) if expr is not None else ()
            self.checks.append(
                Check(code, severity, scope, expr, template, cd.get("source") or "", fields, "expr")
            )

        # ---- indicators ---------------------------------------------------------------------------------
        self.indicators: list[Indicator] = []
        raw_inds = data.get("indicators") or []
        if not isinstance(raw_inds, list):
            problems.append(f"{where}：indicators 应为数组")
            raw_inds = []
        for i, ind in enumerate(raw_inds):
            if not isinstance(ind, Mapping):
                problems.append(f"{where} indicators[{i}]：应为 JSON 对象")
                continue
            code = ind.get("code") or ""
            loc = f"{where} 指标 {code or f'indicators[{i}]'}"
            if not code:
                problems.append(f"{loc}：缺少 code")
                continue
            if code in seen_codes:
                problems.append(f"{loc}：代码重复")
            seen_codes.add(code)
            expr = compile_rule(ind.get("expr"), loc)
            if expr is not None and expr.uses_members and not self.subform_code:
                problems.append(f"{loc}：本表没有成员子表，不能引用 members")
            target = None
            if ind.get("target"):
                t = ind["target"]
                if not isinstance(t, Mapping):
                    problems.append(f"{loc} target：应为 JSON 对象")
                else:
                    target = Target(t)
                    if target.op not in TARGET_OPS:
                        problems.append(f"{loc} target：op“{target.op}”未知")
                    if isinstance(target.value, bool) or not isinstance(target.value, (int, float)):
                        problems.append(f"{loc} target：value 应为数字")
                    if not isinstance(t.get("note") or "", str):
                        problems.append(f"{loc} target：note 应为文字")
            self.indicators.append(Indicator(ind, expr, target))

        # ---- derived checks (one generator, from field metadata) ------------------------------------------
        self.derived_checks: list[Check] = self._derive_checks()
        for c in self.derived_checks:
            if c.code in seen_codes:
                problems.append(f"{where}：规则代码“{c.code}”与自动生成的规则重复")
            seen_codes.add(c.code)

        if problems:
            raise CatalogError(problems)
        self._prepare()

    # ------------------------------------------------------------------------------------------------------

    def _derive_checks(self) -> list[Check]:
        out: list[Check] = []
        c = self.code
        for f in self.field_list:
            if f.type in NUMERIC_TYPES or f.type in ("yesno", "choice"):
                out.append(
                    Check(f"{c}.type.{f.code}", "hard", "form", None, None, "字段类型", (f.code,), "type")
                )
            # Range check codes depend only on the type, so overriding min/max never renames a check.
            kind = {"count": "int", "percent": "pct", "decimal": "nonneg"}.get(f.type)
            if kind is not None and (f.type == "count" or f.min is not None or f.max is not None):
                out.append(
                    Check(f"{c}.{kind}.{f.code}", "hard", "form", None, None, "字段取值范围", (f.code,), kind)
                )
            if f.of is not None:
                out.append(
                    Check(f"{c}.of.{f.code}", "hard", "form", None, None, "“其中”项", (f.code, f.of), "of")
                )
            if f.unit_scale:
                out.append(
                    Check(f"{c}.scale.{f.code}", "soft", "form", None, None,
                          "合理性审核：与上期相差约千倍或万倍，多为填报单位（万、千）有误", (f.code,), "scale")
                )
        return out

    def _prepare(self) -> None:
        """Precompute the flat tuples the evaluator loops over (no attribute lookups in the hot path)."""
        by_code = {ch.code: ch for ch in self.derived_checks}
        c = self.code
        # numeric fields: (code, lo, hi, integer, type-check, range-check)
        self.numeric_specs: list[tuple[str, float | None, float | None, bool, Check, Check | None]] = []
        self.bool_specs: list[tuple[str, Check]] = []
        self.choice_specs: list[tuple[str, frozenset[str], Check]] = []
        for f in self.field_list:
            if f.type in NUMERIC_TYPES:
                kind = {"count": "int", "percent": "pct", "decimal": "nonneg"}[f.type]
                rng = by_code.get(f"{c}.{kind}.{f.code}")
                self.numeric_specs.append(
                    (f.code, f.min, f.max, f.type == "count", by_code[f"{c}.type.{f.code}"], rng)
                )
            elif f.type == "yesno":
                self.bool_specs.append((f.code, by_code[f"{c}.type.{f.code}"]))
            elif f.type == "choice":
                self.choice_specs.append((f.code, frozenset(f.choices or ()), by_code[f"{c}.type.{f.code}"]))
        self.of_specs: list[tuple[str, str, Check]] = [
            (f.code, f.of, by_code[f"{c}.of.{f.code}"]) for f in self.field_list if f.of is not None
        ]
        self.scale_specs: list[tuple[str, Check]] = [
            (f.code, by_code[f"{c}.scale.{f.code}"]) for f in self.field_list if f.unit_scale
        ]
        # fields sharing a condition (e.g. every "中医医院填写" field) are decided by one evaluation
        groups: dict[str, tuple[Any, list[str]]] = {}
        for f in self.field_list:
            if f.condition is not None:
                groups.setdefault(f.condition.source.strip(), (f.condition.fn, []))[1].append(f.code)
        self.conditional: list[tuple[Any, list[str]]] = list(groups.values())
        self.required: list[str] = [f.code for f in self.field_list if not f.optional]
        self.form_checks = [(ch, ch.expr.fn) for ch in self.checks if ch.scope == "form" and ch.expr]
        self.member_checks = [(ch, ch.expr.fn) for ch in self.checks if ch.scope == "members" and ch.expr]
        self.children_checks = [(ch, ch.expr.fn) for ch in self.checks if ch.scope == "children" and ch.expr]
        self.indicator_fns = [(ind, ind.expr.fn, ind.target) for ind in self.indicators if ind.expr]
        # the field that names a member entry in messages ("第3个成员单位（某某医院）")
        self.name_field: str | None = next((f.code for f in self.field_list if f.type == "text"), None)
        # text fields identify a member entry across periods (name, organisation code) for prev()
        self.key_fields: list[str] = [f.code for f in self.field_list if f.type == "text"]
        exprs = [ch.expr for ch in self.checks if ch.expr] + [ind.expr for ind in self.indicators if ind.expr]
        self.uses_prev: bool = any(e.uses_prev for e in exprs) or bool(self.scale_specs)
        # how many periods back prev(x, n) / change / growth reach (the loader fetches that many)
        self.prev_depth: int = max((e.prev_depth for e in exprs), default=1 if self.scale_specs else 0)
        self.uses_peers: bool = any(e.uses_peers for e in exprs)

    # ------------------------------------------------------------------------------------------------------

    def condition_trees(self) -> dict[str, dict]:
        """field code -> the JSON tree of its condition, for static/js/condition.js (engine.conditions)."""
        return {f.code: condition_tree(f.condition) for f in self.field_list if f.condition is not None}

    @property
    def all_checks(self) -> list[Check]:
        return self.checks + self.derived_checks

    def check(self, code: str) -> Check | None:
        for ch in self.all_checks:
            if ch.code == code:
                return ch
        return None

    def label(self, code: str) -> str:
        f = self.fields.get(code)
        return f.label if f is not None else code

    def __repr__(self) -> str:
        return f"FormDefinition({self.code!r})"


class Catalog:
    """A set of forms (one catalog folder), with sub-form/parent links resolved and validated."""

    def __init__(self, forms: Iterable[Mapping[str, Any]], *, slug: str = "", name: str = "") -> None:
        self.slug = slug
        self.name = name
        raw = list(forms)
        problems: list[str] = []
        by_code: dict[str, Mapping[str, Any]] = {}
        for i, d in enumerate(raw):
            if not isinstance(d, Mapping):
                problems.append(f"第{i + 1}个表单：应为 JSON 对象")
                continue
            code = d.get("code")
            if not code:
                problems.append(f"第{i + 1}个表单：缺少 code")
                continue
            if code in by_code:
                problems.append(f"表单代码“{code}”重复")
                continue
            by_code[code] = d
        # links: a lead form's subform must exist and point back
        for code, d in by_code.items():
            sub = d.get("subform")
            if sub:
                sd = by_code.get(sub)
                if sd is None:
                    problems.append(f"表单 {code}：子表“{sub}”不在目录中")
                elif sd.get("parent") not in (None, code):
                    problems.append(f"表单 {code}：子表“{sub}”的 parent 为“{sd.get('parent')}”，应为“{code}”")
            parent = d.get("parent")
            if parent:
                pd = by_code.get(parent)
                if pd is None:
                    problems.append(f"表单 {code}：parent“{parent}”不在目录中")
                elif pd.get("subform") != code:
                    problems.append(f"表单 {code}：parent“{parent}”的 subform 不是“{code}”")

        def field_codes(d: Mapping[str, Any]) -> set[str]:
            return {f.get("code") for f in d.get("fields") or [] if isinstance(f, Mapping) and f.get("code")}

        self.forms: dict[str, FormDefinition] = {}
        # sub-forms first, so lead forms can validate members.x against them
        order = sorted(by_code, key=lambda c: 0 if by_code[c].get("parent") else 1)
        for code in order:
            d = by_code[code]
            # children.x: a field of at least one other form of the catalog (a roll-up over subordinate units)
            children_names: set[str] = set()
            children_labels: dict[str, str] = {}
            for other, od in by_code.items():
                if other != code:
                    children_names |= field_codes(od)
                    for fd in od.get("fields") or []:
                        if isinstance(fd, Mapping) and fd.get("code") and fd.get("label"):
                            children_labels.setdefault(fd["code"], fd["label"])
            sub = self.forms.get(d.get("subform") or "")
            try:
                self.forms[code] = FormDefinition(
                    d, subform=sub, children_names=children_names, children_labels=children_labels
                )
            except CatalogError as e:
                problems.extend(e.problems)
        # check / indicator codes are unique within the whole catalog
        owner: dict[str, str] = {}
        for code, form in self.forms.items():
            for item in [*form.all_checks, *form.indicators]:
                if item.code in owner and owner[item.code] != code:
                    problems.append(f"规则/指标代码“{item.code}”在表单 {owner[item.code]} 和 {code} 中重复")
                owner.setdefault(item.code, code)
        if problems:
            raise CatalogError(problems)

    def __getitem__(self, code: str) -> FormDefinition:
        return self.forms[code]

    def get(self, code: str) -> FormDefinition | None:
        return self.forms.get(code)

    def __iter__(self) -> Iterator[FormDefinition]:
        return iter(self.forms.values())

    def __len__(self) -> int:
        return len(self.forms)

    def __contains__(self, code: object) -> bool:
        return code in self.forms


def load_catalog_dir(path: str | Path) -> Catalog:
    """Load ``manifest.json`` and the form files it lists from a catalog folder (plain json, no Django)."""
    folder = Path(path)
    manifest_path = folder / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise CatalogError([f"找不到 {manifest_path}"]) from e
    except json.JSONDecodeError as e:
        raise CatalogError([f"{manifest_path}：JSON 格式错误：{e}"]) from e
    problems: list[str] = []
    forms: list[dict[str, Any]] = []
    files = manifest.get("forms") if isinstance(manifest, dict) else None
    if not isinstance(files, list) or not files:
        raise CatalogError([f"{manifest_path}：forms 应为非空的文件名数组"])
    for name in files:
        p = folder / name
        try:
            forms.append(json.loads(p.read_text(encoding="utf-8")))
        except FileNotFoundError:
            problems.append(f"manifest 列出的文件 {name} 不存在")
        except json.JSONDecodeError as e:
            problems.append(f"{name}：JSON 格式错误：{e}")
    if problems:
        raise CatalogError(problems)
    return Catalog(forms, slug=manifest.get("slug", ""), name=manifest.get("name", ""))
