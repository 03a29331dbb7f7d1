"""Input hygiene shared by every app: text that enters the platform never carries control characters.

NUL (U+0000) cannot be stored by PostgreSQL at all (a 500, and the entry page would retry it forever); the other
C0/C1 control characters (tab, line feed and carriage return excepted) are invisible, break exports and have no
business in a form. They are refused with a Chinese message naming the field, wherever text enters: form values
(reporting.normalize), explanations, comments, filters and every JSON or form body (config.errors middleware,
the API's JSON parser).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
MESSAGE = "含有不允许的控制字符（如 NUL），请删除后重新填写。"


def has_control(text: str) -> bool:
    return bool(CONTROL.search(text))


def field_message(label: str) -> str:
    return f"“{label}”{MESSAGE}" if label else MESSAGE


def find_control(data: Any, path: str = "") -> Iterator[str]:
    """The paths ("values.name", "members.k1.org_code", "explanations") of strings (keys or values) in a parsed
    JSON document that carry control characters."""
    if isinstance(data, str):
        if has_control(data):
            yield path
    elif isinstance(data, dict):
        for key, value in data.items():
            key_text = str(key)
            here = f"{path}.{key_text}" if path else key_text
            if has_control(key_text):
                yield here
            else:
                yield from find_control(value, here)
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            yield from find_control(value, f"{path}[{i}]" if path else f"[{i}]")
