"""Presentation of catalog forms on the data-entry page: section headings, field rows, member cards.

The catalog is data (reporting/catalogs/<slug>/*.json); this module turns one form definition plus stored
values into what the template loops over. It reads nothing from the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from engine import NOT_COLLECTED, ExpressionError, compile_expression
from engine.conditions import condition_tree

from .normalize import NUMERIC_TYPES

MEMBER_TEMPLATE_KEY = "__KEY__"


@lru_cache(maxsize=512)
def _condition(source: str):
    try:
        return compile_expression(source)
    except ExpressionError:
        return None


def condition_holds(source: str | None, values: dict[str, Any]) -> bool:
    """Whether a field with this condition is shown (and required). Unknown operands hide it."""
    if not source:
        return True
    expr = _condition(source)
    if expr is None:  # a condition the engine cannot read: show the field rather than hide input
        return True
    try:
        return expr.evaluate(values) is True
    except Exception:  # noqa: BLE001 - a broken condition must never break the page
        return True


def display_value(value: Any, field_type: str) -> str:
    """The text an input shows for a stored value."""
    if value is None:
        return ""
    if value == NOT_COLLECTED:
        return NOT_COLLECTED
    if field_type == "yesno":
        if value is True:
            return "true"
        if value is False:
            return "false"
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and field_type in NUMERIC_TYPES:
        return repr(value)
    return str(value)


def is_filled(value: Any) -> bool:
    return value is not None and value != ""


@dataclass
class Heading:
    title: str
    level: int  # 0 = 一级标题
    anchor: str
    filled: int = 0
    required: int = 0
    is_heading: bool = True


@dataclass
class Row:
    code: str
    label: str
    unit: str
    type: str
    choices: list[str]
    optional: bool
    condition: str
    help: str
    member: str  # member key, "" on the lead form
    value: Any
    display: str
    visible: bool
    section: str  # anchor of the innermost heading
    sections: list[str] = field(default_factory=list)  # anchors of all headings above the row
    is_heading: bool = False

    @property
    def key(self) -> str:
        """How submission_save names this field in errors/saved lists."""
        return f"{self.member}/{self.code}" if self.member else self.code

    @property
    def dom_id(self) -> str:
        return f"i-{self.member}-{self.code}" if self.member else f"i-{self.code}"

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_TYPES

    @property
    def required(self) -> bool:
        return not self.optional and self.visible

    @property
    def filled(self) -> bool:
        return is_filled(self.value)


def layout(definition: dict, values: dict[str, Any], *, member: str = "",
           anchor_prefix: str = "s") -> list[Heading | Row]:
    """Headings (whenever the section path changes) and rows, in catalog order, with progress per heading."""
    items: list[Heading | Row] = []
    anchors: dict[tuple[str, ...], Heading] = {}
    previous: tuple[str, ...] = ()
    for spec in definition.get("fields", []):
        path = tuple(spec.get("section") or [])
        for depth in range(len(path)):
            prefix = path[: depth + 1]
            if prefix == previous[: depth + 1] and prefix in anchors:
                continue
            heading = anchors.get(prefix)
            if heading is None:
                heading = Heading(title=path[depth], level=depth, anchor=f"{anchor_prefix}{len(anchors) + 1}")
                anchors[prefix] = heading
                items.append(heading)
            else:  # the catalog returns to an earlier section: repeat its title, not its anchor
                items.append(Heading(title=heading.title, level=depth, anchor=""))
        previous = path
        code = spec["code"]
        value = values.get(code)
        row = Row(
            code=code, label=spec.get("label") or code, unit=spec.get("unit") or "", type=spec.get("type", "text"),
            choices=list(spec.get("choices") or []), optional=bool(spec.get("optional")),
            condition=spec.get("condition") or "", help=spec.get("help") or "", member=member, value=value,
            display=display_value(value, spec.get("type", "text")),
            visible=condition_holds(spec.get("condition"), values),
            section=anchors[path].anchor if path else "",
            sections=[anchors[path[: d + 1]].anchor for d in range(len(path))],
        )
        for depth in range(len(path)):
            heading = anchors[path[: depth + 1]]
            if row.required:
                heading.required += 1
                heading.filled += int(row.filled)
        items.append(row)
    return items


def navigation(items: list[Heading | Row]) -> list[Heading]:
    """The distinct headings of a layout, for the sticky section navigator."""
    seen: set[str] = set()
    nav: list[Heading] = []
    for item in items:
        if isinstance(item, Heading) and item.anchor and item.anchor not in seen:
            seen.add(item.anchor)
            nav.append(item)
    return nav


def progress(items: list[Heading | Row]) -> tuple[int, int]:
    """(filled, required) over the rows of a layout."""
    rows = [i for i in items if isinstance(i, Row) and i.required]
    return sum(1 for r in rows if r.filled), len(rows)


@dataclass
class MemberCard:
    key: str
    position: int
    title: str
    unit_code: str
    items: list[Heading | Row]
    filled: int
    required: int


def member_card(sub_definition: dict, key: str, values: dict[str, Any], *, position: int,
                member_label: str, unit_code: str = "") -> MemberCard:
    items = layout(sub_definition, values, member=key, anchor_prefix=f"m{key}-s")
    filled, required = progress(items)
    name = values.get("hospital_name")
    title = name if isinstance(name, str) and name and name != NOT_COLLECTED else f"{member_label}{position}"
    return MemberCard(key=key, position=position, title=title, unit_code=unit_code, items=items, filled=filled,
                      required=required)


def client_fields(definition: dict) -> dict[str, dict]:
    """What entry.js needs to know of each field (conditions, progress, labels for messages).

    `condition_tree`: the condition compiled by the engine (engine.conditions) for static/js/condition.js."""
    return {
        f["code"]: {
            "label": f.get("label") or f["code"],
            "type": f.get("type", "text"),
            "optional": bool(f.get("optional")),
            "condition": f.get("condition") or "",
            "condition_tree": _condition_tree(f.get("condition") or ""),
        }
        for f in definition.get("fields", [])
    }


@lru_cache(maxsize=512)
def _condition_tree(source: str) -> dict | None:
    if not source:
        return None
    try:
        return condition_tree(source)
    except ExpressionError:  # refused by catalog validation; an unreadable condition shows the field
        return None
