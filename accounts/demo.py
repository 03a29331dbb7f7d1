"""The demo hierarchy: 2 provinces × 2 cities, each city with urban and county alliances and their members."""

from __future__ import annotations

from dataclasses import dataclass

from . import actions
from .models import Role, Unit, UnitLevel, User
from .naming import NATION_CODE, alliance_code, analyst_username, member_code, reviewer_username
from .regions import province

DEMO_CITIES = {"370000": ["370100", "370200"], "510000": ["510100", "512000"]}
# (city code, level) -> lead hospital names; a second entry shows the "-2" sequence numbering.
URBAN_LEADS = {
    "370100": ["山东第一医科大学第一附属医院医疗集团", "济南市中心医院医疗集团"],
    "370200": ["青岛大学附属医院医疗集团"],
    "510100": ["四川省人民医院医疗集团"],
    "512000": ["资阳市第一人民医院医疗集团"],
}
COUNTY_LEADS = {
    "370100": ["平阴县人民医院医共体"],
    "370200": ["平度市人民医院医共体"],
    "510100": ["简阳市人民医院医共体"],
    "512000": ["安岳县人民医院医共体"],
}
URBAN_MEMBERS = ["第二人民医院", "中医医院", "社区卫生服务中心"]
COUNTY_MEMBERS = ["城关镇卫生院", "东关镇卫生院", "西河乡卫生院"]
DEMO_EMAIL_DOMAIN = "demo.invalid"  # RFC 2606: never delivered anywhere


def demo_email(username: str) -> str:
    return f"{username}@{DEMO_EMAIL_DOMAIN}"


@dataclass
class DemoAccount:
    username: str
    role: str
    unit: Unit | None

    def as_json(self) -> dict:
        return {
            "username": self.username,
            "role": self.role,
            "unit_code": self.unit.code if self.unit else None,
            "unit_name": self.unit.name if self.unit else None,
            "unit_level": self.unit.level if self.unit else None,
            "parent_code": self.unit.parent.code if self.unit and self.unit.parent_id else None,
            "email": demo_email(self.username),
        }


def _unit(code: str, name: str, level: str, parent: Unit | None, **extra) -> Unit:
    unit = Unit.objects.filter(code=code).first()
    return unit or actions.unit_create(acting_user=None, code=code, name=name, level=level, parent=parent, **extra)


def _account(username: str, unit: Unit | None, role: str, password: str) -> DemoAccount:
    user = User.objects.filter(username=username).first()
    if user is None:
        actions.user_create(acting_user=None, username=username, unit=unit, role=role, password=password,
                            must_change_password=False)
    else:
        # Re-running the seed resets demo passwords, so the printed logins always work.
        actions.user_password_set(acting_user=None, user=user, password=password)
    return DemoAccount(username, role, unit)


def build_hierarchy(password: str) -> list[DemoAccount]:
    accounts: list[DemoAccount] = []
    nation = _unit(NATION_CODE, "国家卫生健康委员会", UnitLevel.NATION, None)
    accounts.append(_account(reviewer_username(nation.code), nation, Role.REVIEWER, password))
    accounts.append(_account(analyst_username(nation.code), nation, Role.ANALYST, password))
    accounts.append(_account("admin", nation, Role.ADMIN, password))
    for prov_code, city_codes in DEMO_CITIES.items():
        p = province(prov_code)
        prov = _unit(p["code"], p["name"], UnitLevel.PROVINCE, nation)
        accounts.append(_account(prov.code, prov, Role.FILLER, password))
        accounts.append(_account(reviewer_username(prov.code), prov, Role.REVIEWER, password))
        cities = {c["code"]: c for c in p["cities"]}
        for city_code in city_codes:
            city = _unit(city_code, cities[city_code]["name"], UnitLevel.CITY, prov)
            accounts.append(_account(city.code, city, Role.FILLER, password))
            accounts.append(_account(reviewer_username(city.code), city, Role.REVIEWER, password))
            for level, leads, members in (
                (UnitLevel.URBAN_ALLIANCE, URBAN_LEADS[city_code], URBAN_MEMBERS),
                (UnitLevel.COUNTY_ALLIANCE, COUNTY_LEADS[city_code], COUNTY_MEMBERS),
            ):
                for seq, lead_name in enumerate(leads, start=1):
                    code = alliance_code(city.code, level, seq)
                    alliance = _unit(code, lead_name, level, city)
                    accounts.append(_account(code, alliance, Role.FILLER, password))
                    prefix = lead_name.split("医院")[0][:3] if level == UnitLevel.URBAN_ALLIANCE else lead_name[:2]
                    for mseq, member_name in enumerate(members, start=1):
                        _unit(member_code(code, mseq), f"{prefix}{member_name}", UnitLevel.MEMBER, alliance,
                              is_tcm="中医" in member_name)
    return accounts


def give_emails(accounts: list[DemoAccount]) -> None:
    """Every demo account gets its address (3701001@demo.invalid). seed_demo calls this after the demo's
    workflow history is laid out, so that history sends no mail."""
    users = {u.username: u for u in User.objects.filter(username__in=[a.username for a in accounts])}
    for a in accounts:
        user = users.get(a.username)
        if user is not None and user.email != demo_email(a.username):
            actions.user_email_set(acting_user=None, user=user, email=demo_email(a.username))
