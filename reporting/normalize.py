"""Turning what a clerk types into a stored value, explicitly.

Django's number fields silently accept full-width digits (１２３) but refuse １２３．５, 1,234 and 12%; clerks
paste all of those from spreadsheets and Word documents. Plain Python, no Django.

Stored values: int (count), int/float (decimal, percent), True/False (yes/no), str (text, choice),
"--" (not collected, 未统计), None (cleared = not yet filled).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from accounts.inputs import MESSAGE as CONTROL_MESSAGE
from accounts.inputs import has_control
from engine import NOT_COLLECTED

NUMERIC_TYPES = ("count", "decimal", "percent")
_DASHES = "-－—–―‐‑⁃_"
_SPACES = re.compile(r"[\s\u3000\u00a0\u2009\u200b]+")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_YES = {"是", "有", "yes", "y", "true", "√", "✓", "1"}
_NO = {"否", "无", "没有", "no", "n", "false", "×", "✗", "0"}
MAX_TEXT = 1000


@dataclass(frozen=True)
class Normalized:
    value: object
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _fold(raw: str) -> str:
    """Full-width to half-width (digits, ．，％＋－), drop spaces of any width."""
    text = unicodedata.normalize("NFKC", raw)
    text = text.replace("，", ",").replace("。", ".").replace("．", ".")
    return _SPACES.sub("", text)


def is_missing_marker(raw: str) -> bool:
    folded = _fold(raw)
    return len(folded) >= 2 and all(ch in _DASHES for ch in folded)


def _number(text: str, field_type: str) -> Normalized:
    is_percent = text.endswith("%")
    if is_percent:
        if field_type != "percent":
            return Normalized(None, "该项不是百分比指标，请去掉“%”后填写数值。")
        text = text[:-1]
    if _GROUPED.match(text):
        text = text.replace(",", "")
    elif "," in text:
        return Normalized(None, "千位分隔符位置不正确，请填写如 1,234 或 1234。")
    if not _PLAIN.match(text):
        return Normalized(None, "请填写数字；未开展填“0”，未统计填“--”。")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return Normalized(None, "请填写数字；未开展填“0”，未统计填“--”。")
    if field_type == "count":
        if number < 0:
            return Normalized(None, "该项为计数，不能为负数。")
        if number != number.to_integral_value():
            return Normalized(None, "该项为计数，应填写整数。")
        return Normalized(int(number))
    # Ranges (0–100 for most percentages, but 床位使用率 may exceed 100 with 加床) are the engine's checks,
    # declared per field in the catalog; the normaliser only decides what number was typed.
    if number < 0:
        return Normalized(None, "该项不能为负数。")
    if number == number.to_integral_value() and "." not in text:
        return Normalized(int(number))
    return Normalized(float(number))


def normalize_value(field: dict, raw: object) -> Normalized:
    """Normalise one raw input for a catalog field (dict with at least "type", optionally "choices")."""
    field_type = field.get("type", "text")
    if raw is None:
        return Normalized(None)
    if isinstance(raw, bool):
        if field_type == "yesno":
            return Normalized(raw)
        return Normalized(None, "该项应填写数字。" if field_type in NUMERIC_TYPES else "取值无效。")
    if isinstance(raw, int | float):
        if field_type in NUMERIC_TYPES:
            return _number(repr(raw) if isinstance(raw, float) else str(raw), field_type)
        if field_type == "yesno" and raw in (0, 1):
            return Normalized(bool(raw))
        raw = str(raw)
    if not isinstance(raw, str):
        return Normalized(None, "取值无效。")
    if has_control(raw):  # NUL cannot even be stored; the others are invisible
        return Normalized(None, CONTROL_MESSAGE)
    if raw.strip() == "":
        return Normalized(None)
    if is_missing_marker(raw):
        return Normalized(NOT_COLLECTED)
    if field_type in NUMERIC_TYPES:
        return _number(_fold(raw), field_type)
    if field_type == "yesno":
        folded = _fold(raw).lower()
        if folded in _YES:
            return Normalized(True)
        if folded in _NO:
            return Normalized(False)
        return Normalized(None, "请选择“是”或“否”。")
    if field_type == "choice":
        text = raw.strip()
        choices = field.get("choices") or []
        if text in choices:
            return Normalized(text)
        folded = _fold(text)
        for choice in choices:
            if _fold(choice) == folded:
                return Normalized(choice)
        return Normalized(None, "请从下列选项中选择：" + "、".join(choices))
    text = raw.strip()
    if len(text) > MAX_TEXT:
        return Normalized(None, f"内容过长（不超过{MAX_TEXT}字）。")
    return Normalized(text)
