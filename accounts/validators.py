"""Refuse passwords built from the user's identity (the old platform's Fjzl@<code> pattern).

Django's own validators accept "Fjzl@350100abc": it is long enough, not in the common list, not all digits,
and not similar enough to the username. Here a password is refused when it contains
- the platform's abbreviation "fjzl" (any case),
- an administrative division code (any GB/T 2260 province or city code, e.g. 350100), with or without a user,
- the user's username or its digits, the unit's code or its digits, the unit's name or its stem (山东省 → 山东).
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.core.exceptions import ValidationError

from .naming import NATION_CODE
from .regions import regions

PLATFORM_TOKENS = ("fjzl",)
NAME_SUFFIXES = ("省", "市", "自治区", "自治州", "地区", "盟", "人民医院", "医院", "医疗集团", "医联体", "医共体")
# Shorter fragments are too common in random passwords to refuse.
MIN_TOKEN = 4


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


@lru_cache(maxsize=1)
def _division_codes() -> frozenset[str]:
    codes = {NATION_CODE}
    for p in regions()["provinces"]:
        codes.add(p["code"])
        codes.update(c["code"] for c in p["cities"])
    return frozenset(codes)


def _contains_division_code(password: str) -> bool:
    codes = _division_codes()
    for run in re.findall(r"\d{6,}", password):
        if any(run[i:i + 6] in codes for i in range(len(run) - 5)):
            return True
    return False


def identity_tokens(user: object | None) -> list[str]:
    """Lower-cased fragments of the user's identity a password must not contain."""
    tokens: list[str] = list(PLATFORM_TOKENS)
    if user is None:
        return tokens
    username = (getattr(user, "username", "") or "").lower()
    if username:
        tokens += [username, _digits(username)]
        tokens += [part for part in re.split(r"[-_.@]", username) if part]
    unit = getattr(user, "unit", None) if getattr(user, "unit_id", None) else None
    if unit is not None:
        tokens += [unit.code.lower(), _digits(unit.code)]
        tokens += name_fragments((unit.name or "").strip().lower())
    return [t for t in tokens if t]


def name_fragments(name: str) -> list[str]:
    """A unit name, its stems without the usual suffixes, and the place name it starts with.

    平阴县人民医院医共体 → 平阴县人民医院医共体, 平阴县人民医院, 平阴县人民, 平阴县, 平阴.
    """
    if not name:
        return []
    found = [name]
    place = re.match(r"^(.{2,}?[省市县区旗州])", name)
    if place and place.group(1) != name:
        found.append(place.group(1))
    for fragment in list(found):
        stem = fragment
        stripped = True
        while stripped:
            stripped = False
            for suffix in NAME_SUFFIXES + ("县", "区", "旗"):
                if stem.endswith(suffix) and len(stem) > len(suffix) + 1:
                    stem = stem[: -len(suffix)]
                    found.append(stem)
                    stripped = True
                    break
    return list(dict.fromkeys(found))


def _is_refused(token: str, password: str) -> bool:
    # Chinese names are short but distinctive: two characters (济南) already identify the unit.
    if re.search(r"[\u4e00-\u9fff]", token):
        return len(token) >= 2 and token in password
    return len(token) >= MIN_TOKEN and token in password


class UnitIdentityValidator:
    """Password validator (AUTH_PASSWORD_VALIDATORS) refusing the unit's code/name, the username, "fjzl"."""

    message = "密码不能包含用户名、单位编码、行政区划代码、单位名称或平台名称缩写（fjzl），请使用无规律的密码。"

    def validate(self, password: str, user: object | None = None) -> None:
        pw = password.lower()
        if _contains_division_code(pw) or any(_is_refused(t, pw) for t in identity_tokens(user)):
            raise ValidationError(self.message, code="password_unit_identity")

    def get_help_text(self) -> str:
        return "密码不能包含用户名、单位编码、行政区划代码、单位名称或平台名称缩写。"
