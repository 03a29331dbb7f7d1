"""The old platform's username scheme, extended with a sequence number.

Province and city: their GB/T 2260 code (370000, 370100). A city's urban alliance: city code + "1"
(3701001); its county alliance: city code + "2" (3701002). A second alliance of the same kind in the same
city: 3701001-2, the third 3701001-3, and so on. Member units: alliance code + "-M" + two digits.
"""

from __future__ import annotations

from .models import UnitLevel

ALLIANCE_DIGIT = {UnitLevel.URBAN_ALLIANCE: "1", UnitLevel.COUNTY_ALLIANCE: "2"}
NATION_CODE = "100000"


def alliance_code(city_code: str, level: str, seq: int) -> str:
    base = f"{city_code}{ALLIANCE_DIGIT[level]}"
    return base if seq <= 1 else f"{base}-{seq}"


def member_code(alliance_code_: str, seq: int) -> str:
    return f"{alliance_code_}-M{seq:02d}"


def filler_username(unit_code: str) -> str:
    return unit_code


def reviewer_username(unit_code: str) -> str:
    return f"{unit_code}-sh"


def analyst_username(unit_code: str = NATION_CODE) -> str:
    return f"{unit_code}-fx"
