"""Export kinds: a kind is a function that yields the sheets of one workbook.

Another app plugs its own export into the same background path (ExportJob, progress bar, download page)::

    from exports.registry import register

    def progress_board(user, task, params):
        rows = (...)  # an iterator of lists, one list per row, in column order
        yield "填报进度", [["单位编码", "单位名称", "状态"]], rows

    register("progress", progress_board, label="进度明细")

in ``<app>/export_kinds.py`` (imported on first use, like admin.py) or any module loaded at startup, and then ``exports.actions.export_request(acting_user=user, task=task, kind="progress", params={...})``.

A builder gets the requesting user (None only for the command line, which is trusted) and must scope its rows
itself. It yields either plain ``(sheet_name, header_rows, row_iter)`` tuples or :class:`Sheet` objects
(which add number formats, column widths, frozen columns and a row count for the progress bar). Cell values:
int/float/Decimal → number, str → text (never a formula, whatever it starts with), True/False → 是/否,
date/datetime → date, None → empty cell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

HeaderRows = Sequence[Sequence[str | None]]


@dataclass
class Sheet:
    name: str
    header_rows: HeaderRows
    rows: Iterable[Sequence[Any]]
    # Per column: an Excel number format for numbers ("#,##0", "0.00", …) or None.
    number_formats: Sequence[str | None] | None = None
    # Per column width in Excel character units; None = fitted from the header and the first rows.
    widths: Sequence[float | None] | None = None
    # Columns left of this index stay visible when scrolling right (the header rows always stay).
    freeze_cols: int = 0
    # In header rows above the last one, equal neighbouring texts are merged into one cell.
    merge_headers: bool = True
    # Columns whose text should wrap (long messages).
    wrap_cols: Sequence[int] = field(default_factory=tuple)


Builder = Callable[[Any, Any, dict], Iterable["Sheet | tuple"]]
Counter = Callable[[Any, Any, dict], int]


@dataclass
class Kind:
    code: str
    builder: Builder
    label: str
    count: Counter | None = None
    menu: bool = False  # offered on the export page (needs no params)
    # Who may start this kind at all (besides the builder's own row scoping); None = every signed-in user.
    allowed: Callable[[Any], bool] | None = None

    def may_start(self, user: Any) -> bool:
        return user is None or self.allowed is None or bool(self.allowed(user))


_KINDS: dict[str, Kind] = {}


def register(kind: str, builder: Builder, *, label: str | None = None, count: Counter | None = None,
             menu: bool = False, allowed: Callable[[Any], bool] | None = None) -> None:
    """Register (or replace) the builder of an export kind. `count(user, task, params)` → rows (optional, for
    the progress bar); `menu=True` offers the kind on the export page, which starts it without params;
    `allowed(user)` → whether that user may start it at all (exports.actions.export_request refuses otherwise)."""
    _KINDS[kind] = Kind(code=kind, builder=builder, label=label or kind, count=count, menu=menu, allowed=allowed)


_discovered = False


def autodiscover() -> None:
    """Register the built-in kinds and import `<app>/export_kinds.py` of every installed app, where other apps
    call register() (as Django's admin discovers admin.py)."""
    global _discovered
    if _discovered:
        return
    from django.utils.module_loading import autodiscover_modules

    from . import builders  # noqa: F401  (registers "task" and "audit")

    autodiscover_modules("export_kinds")
    _discovered = True


def get(kind: str) -> Kind:
    autodiscover()
    try:
        return _KINDS[kind]
    except KeyError:
        raise LookupError(f"未知的导出类型：{kind}") from None


def kinds() -> dict[str, Kind]:
    autodiscover()
    return dict(_KINDS)


def as_sheet(item: Sheet | tuple) -> Sheet:
    if isinstance(item, Sheet):
        return item
    name, header_rows, rows = item[:3]
    return Sheet(name=name, header_rows=header_rows, rows=rows)


def iter_sheets(kind: str, user: Any, task: Any, params: dict | None) -> Iterator[Sheet]:
    for item in get(kind).builder(user, task, params or {}):
        yield as_sheet(item)
