"""Refuse passwords built from the user's unit code or name (the old platform's Fjzl@<code> pattern)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


class UnitIdentityValidator:
    def validate(self, password: str, user=None) -> None:
        if user is None:
            return
        pw = password.lower()
        tokens: list[str] = []
        username = (getattr(user, "username", "") or "").lower()
        if username:
            tokens.append(username)
            if _digits(username):
                tokens.append(_digits(username))
        unit = getattr(user, "unit", None) if getattr(user, "unit_id", None) else None
        if unit is not None:
            tokens += [unit.code.lower(), _digits(unit.code)]
            name = unit.name
            tokens.append(name)
            for suffix in ("省", "市", "自治区", "人民医院", "医院", "医联体", "医共体"):
                if name.endswith(suffix) and len(name) > len(suffix) + 1:
                    tokens.append(name[: -len(suffix)])
        tokens.append("fjzl")
        for token in tokens:
            # Six digits is a unit code; shorter fragments are too common to refuse.
            if token and len(token) >= 4 and token in pw:
                raise ValidationError("密码不能包含单位编码、单位名称或平台名称，请使用无规律的密码。",
                                      code="password_unit_identity")

    def get_help_text(self) -> str:
        return "密码不能包含单位编码、单位名称或平台名称。"
