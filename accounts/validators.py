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
from pathlib import Path

from django.contrib.auth import password_validation as django_validators
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
        fragments = name_fragments((unit.name or "").strip().lower())
        # The names of the units above (济南 for an alliance in 济南市, 山东 for 济南市) and the pinyin of all of
        # them (Jinan@2019, shandong123 are as guessable as the characters).
        for ancestor in _ancestor_names(unit):
            fragments += name_fragments(ancestor.lower())
        tokens += fragments
        tokens += [p for f in fragments for p in pinyin_forms(f)]
    return [t for t in dict.fromkeys(tokens) if t]


def _ancestor_names(unit: object) -> list[str]:
    path = getattr(unit, "path", "") or ""
    codes = [c for c in path.strip("/").split("/") if c and c != getattr(unit, "code", None)]
    if not codes or not getattr(unit, "pk", None):
        return []
    from .models import Unit

    return list(Unit.objects.filter(code__in=codes).exclude(level="nation").values_list("name", flat=True))


def pinyin_forms(text: str) -> list[str]:
    """The toneless pinyin of the Chinese characters in `text` (济南市 → jinanshi) and its initials (jns)."""
    if not re.search(r"[\u4e00-\u9fff]", text):
        return []
    from pypinyin import Style, lazy_pinyin

    syllables = [s for s in lazy_pinyin(text, style=Style.NORMAL, errors="ignore") if s.isascii() and s.isalpha()]
    return ["".join(syllables).lower(), "".join(s[0] for s in syllables).lower()]


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
        forms = {pw, *password_cores(password)}
        if _contains_division_code(pw) or any(_is_refused(t, f) for t in identity_tokens(user) for f in forms):
            raise ValidationError(self.message, code="password_unit_identity")

    def get_help_text(self) -> str:
        return "密码不能包含用户名、单位编码、行政区划代码、单位名称或平台名称缩写。"


# --- Common passwords and Chinese messages for Django's validators --------------------------------------------

LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s", "7": "t",
                      "+": "t"})
MIN_DISTINCT = 5
ZH_LIST = Path(__file__).resolve().parent / "data" / "common_passwords_zh.txt"


def password_cores(password: str) -> set[str]:
    """The word a decorated password is built on: Password@123, P@ssw0rd2019 and 1qaz2wsx! all come down to a
    common word once the digits and symbols around it are stripped and look-alike characters read back."""
    low = password.lower().strip()
    stripped = re.sub(r"^[\d\W_]+|[\d\W_]+$", "", low)
    read_back = stripped.translate(LEET)
    cores = {stripped, read_back, re.sub(r"[^a-z]", "", stripped), re.sub(r"[^a-z]", "", read_back)}
    return {c for c in cores if len(c) >= 3}


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    django_list = django_validators.CommonPasswordValidator().passwords
    lines = ZH_LIST.read_text(encoding="utf-8").splitlines()
    chinese = {line.strip().lower() for line in lines if line.strip() and not line.startswith("#")}
    return frozenset(django_list | chinese)


class CommonPasswordValidator:
    """Django's 20,000 common passwords plus Chinese ones (accounts/data/common_passwords_zh.txt), matched as
    the whole password and as the word under its decoration (password_cores)."""

    message = "该密码过于常见（或只是在常见密码前后加了数字、符号），容易被猜中，请换一个。"

    def validate(self, password: str, user: object | None = None) -> None:
        common = _common_passwords()
        if len(set(password)) < MIN_DISTINCT:
            raise ValidationError("密码过于简单（重复字符太多），请换一个。", code="password_too_simple")
        if password.lower().strip() in common or any(core in common for core in password_cores(password)):
            raise ValidationError(self.message, code="password_too_common")

    def get_help_text(self) -> str:
        return "不能使用常见密码（如 Password@123、woaini1314、qwer1234）。"


class MinimumLengthValidator(django_validators.MinimumLengthValidator):
    def get_error_message(self) -> str:
        return f"密码太短，至少需要 {self.min_length} 个字符。"

    def get_help_text(self) -> str:
        return f"密码至少 {self.min_length} 个字符。"


class NumericPasswordValidator(django_validators.NumericPasswordValidator):
    def get_error_message(self) -> str:
        return "密码不能全部是数字。"

    def get_help_text(self) -> str:
        return "密码不能全部是数字。"


class UserAttributeSimilarityValidator(django_validators.UserAttributeSimilarityValidator):
    def validate(self, password: str, user: object | None = None) -> None:
        try:
            super().validate(password, user)
        except ValidationError:
            raise ValidationError("密码与用户名、姓名或电子邮箱过于相似。",
                                  code="password_too_similar") from None

    def get_help_text(self) -> str:
        return "密码不能与用户名、姓名或电子邮箱相似。"
