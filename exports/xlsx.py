"""Streaming xlsx writing: rows go to disk as they are written (xlsxwriter constant_memory).

Nothing in an export ever becomes a formula: every text goes through write_string (which stores a string
cell whatever it starts with), and texts starting with = + - @ (or their full-width forms, tab, CR, LF) also
get Excel's "quote prefix" cell attribute, so editing the cell in Excel keeps it text too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from django.utils import timezone

from .registry import Sheet

DANGEROUS_FIRST = frozenset("=+-@\t\r\n＝＋－＠")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
SAMPLE_ROWS = 60
MAX_WIDTH = 60.0
MIN_WIDTH = 6.0

YES, NO = "是", "否"


def is_dangerous(text: str) -> bool:
    """True when a spreadsheet program would read this text as the start of a formula."""
    return bool(text) and text[0] in DANGEROUS_FIRST


def display_width(text: str) -> float:
    """Approximate Excel column width of a text: CJK and full-width characters count double."""
    width = 0.0
    for ch in text:
        width += 2.0 if ord(ch) > 0x2E80 else 1.1
    return width


def sheet_name(name: str, used: set[str]) -> str:
    """An Excel-legal, unique (case-insensitive) sheet name of at most 31 characters."""
    base = _SHEET_BAD.sub("_", name).strip("'") or "Sheet"
    base = base[:31]
    candidate, n = base, 2
    while candidate.lower() in used:
        suffix = f"({n})"
        candidate = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(candidate.lower())
    return candidate


class StreamingWorkbook:
    """One workbook written sheet after sheet, row after row, to a path or a binary file object."""

    def __init__(self, target: str | IO[bytes], *, progress: Callable[[int], None] | None = None,
                 progress_every: int = 1000) -> None:
        self.wb = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_numbers": False,
                                               "strings_to_formulas": False, "strings_to_urls": False,
                                               "default_date_format": "yyyy-mm-dd hh:mm"})
        self.progress = progress
        self.progress_every = max(1, progress_every)
        self.rows_written = 0
        self._used_names: set[str] = set()
        self._formats: dict[tuple, Any] = {}
        self.header_format = self._format(("header",), {"bold": True, "bg_color": "#E7EEF7", "border": 1,
                                                        "align": "center", "valign": "vcenter",
                                                        "text_wrap": True})
        self.section_format = self._format(("section",), {"bold": True, "bg_color": "#D0DCEC", "border": 1,
                                                          "align": "center", "valign": "vcenter",
                                                          "text_wrap": True})
        self.quote_format = self._format(("quote",), {"quote_prefix": True})
        self.wrap_format = self._format(("wrap",), {"text_wrap": True, "valign": "top"})
        self.wrap_quote_format = self._format(("wrapquote",), {"text_wrap": True, "valign": "top",
                                                               "quote_prefix": True})
        self.datetime_format = self._format(("datetime",), {"num_format": "yyyy-mm-dd hh:mm"})
        self.date_format = self._format(("date",), {"num_format": "yyyy-mm-dd"})

    def _format(self, key: tuple, props: dict) -> Any:
        fmt = self._formats.get(key)
        if fmt is None:
            fmt = self._formats[key] = self.wb.add_format(props)
        return fmt

    def number_format(self, num_format: str | None) -> Any:
        if not num_format:
            return None
        return self._format(("num", num_format), {"num_format": num_format})

    # -- writing ----------------------------------------------------------------------------------------------

    def add_sheet(self, sheet: Sheet) -> int:
        """Write one sheet completely; returns the number of data rows."""
        ws = self.wb.add_worksheet(sheet_name(sheet.name, self._used_names))
        header_rows = [list(r) for r in sheet.header_rows]
        ncols = max((len(r) for r in header_rows), default=0)
        widths = [0.0] * ncols
        self._write_headers(ws, header_rows, sheet.merge_headers, widths)
        first_data_row = len(header_rows)
        if header_rows:
            ws.freeze_panes(first_data_row, sheet.freeze_cols)
        num_formats = [self.number_format(f) for f in (sheet.number_formats or [])]
        wrap = set(sheet.wrap_cols)
        count = self._write_rows(ws, sheet.rows, first_data_row, num_formats, wrap, widths)
        for col in range(len(widths)):
            fixed = sheet.widths[col] if sheet.widths and col < len(sheet.widths) else None
            width = fixed if fixed else min(MAX_WIDTH, max(MIN_WIDTH, widths[col] + 1.5))
            ws.set_column(col, col, width)
        return count

    def _write_headers(self, ws: Any, header_rows: list[list], merge: bool, widths: list[float]) -> None:
        last = len(header_rows) - 1
        for r, row in enumerate(header_rows):
            fmt = self.header_format if r == last else self.section_format
            if r != last:
                ws.set_row(r, 30)  # section paths are long: two lines, merged over their columns
            else:
                longest = max((display_width(str(t)) for t in row if t), default=10)
                # Long labels wrap over up to four lines instead of making a column very wide.
                lines = min(4, max(1, int(longest // 24) + 1))
                ws.set_row(r, 15 * lines + 6)
            c = 0
            while c < len(row):
                text = "" if row[c] is None else str(row[c])
                end = c
                if merge and r != last and text:
                    while end + 1 < len(row) and row[end + 1] == row[c]:
                        end += 1
                if end > c:
                    ws.merge_range(r, c, r, end, "", fmt)
                ws.write_string(r, c, text, fmt)
                if r == last and text:
                    widths[c] = max(widths[c], min(display_width(text), 24.0))
                c = end + 1

    def _write_rows(self, ws: Any, rows: Iterable[Sequence[Any]], start: int, num_formats: list,
                    wrap: set[int], widths: list[float]) -> int:
        write_number, write_string = ws.write_number, ws.write_string
        quote, wrap_fmt, wrap_quote = self.quote_format, self.wrap_format, self.wrap_quote_format
        nfmt = len(num_formats)
        dangerous = DANGEROUS_FIRST
        r = start
        count = 0
        progress, every = self.progress, self.progress_every
        sample_until = start + SAMPLE_ROWS
        for row in rows:
            c = -1
            for value in row:
                c += 1
                if value is None:
                    continue
                cls = value.__class__
                if cls is int or cls is float:
                    try:
                        write_number(r, c, value, num_formats[c] if c < nfmt else None)
                    except TypeError:  # NaN / infinity: not a number Excel can hold
                        write_string(r, c, str(value))
                elif cls is str:
                    if value and value[0] in dangerous:
                        write_string(r, c, value, wrap_quote if c in wrap else quote)
                    else:
                        write_string(r, c, value, wrap_fmt if c in wrap else None)
                else:
                    self._write_other(ws, r, c, value, num_formats[c] if c < nfmt else None)
            if r < sample_until:
                self._sample_widths(row, widths, wrap)
            r += 1
            count += 1
            if progress is not None and count % every == 0:
                self.rows_written += every
                progress(self.rows_written)
        if progress is not None:
            self.rows_written += count % every
        else:
            self.rows_written += count
        return count

    def _write_other(self, ws: Any, r: int, c: int, value: Any, num_format: Any) -> None:
        if value is True or value is False:
            ws.write_string(r, c, YES if value else NO)
        elif isinstance(value, bool):
            ws.write_string(r, c, YES if value else NO)
        elif isinstance(value, int | float | Decimal):
            try:
                ws.write_number(r, c, float(value), num_format)
            except TypeError:
                ws.write_string(r, c, str(value))
        elif isinstance(value, dt.datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value).replace(tzinfo=None)
            ws.write_datetime(r, c, value, self.datetime_format)
        elif isinstance(value, dt.date):
            ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), self.date_format)
        else:
            text = str(value)
            ws.write_string(r, c, text, self.quote_format if is_dangerous(text) else None)

    @staticmethod
    def _sample_widths(row: Sequence[Any], widths: list[float], wrap: set[int]) -> None:
        for c, value in enumerate(row):
            if value is None:
                continue
            if c >= len(widths):
                widths.extend([0.0] * (c + 1 - len(widths)))
            if isinstance(value, str):
                w = display_width(value)
                if c in wrap:
                    w = min(w, 40.0)
            elif isinstance(value, dt.datetime):
                w = 16.0
            elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
                w = len(f"{value:,.2f}") if isinstance(value, float) else len(f"{value:,}")
            else:
                w = 4.0
            if w > widths[c]:
                widths[c] = w

    def close(self) -> None:
        if self.progress is not None:
            self.progress(self.rows_written)
        self.wb.close()


def write_workbook(target: str | IO[bytes], sheets: Iterable[Sheet], *,
                   progress: Callable[[int], None] | None = None, progress_every: int = 1000) -> int:
    """Write the sheets to `target` one after the other; returns the number of data rows written."""
    book = StreamingWorkbook(target, progress=progress, progress_every=progress_every)
    try:
        for sheet in sheets:
            book.add_sheet(sheet)
        if not book._used_names:
            book.add_sheet(Sheet(name="无数据", header_rows=[["没有可导出的数据"]], rows=[]))
    finally:
        book.close()
    return book.rows_written
