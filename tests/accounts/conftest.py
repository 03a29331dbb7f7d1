"""A small hierarchy built directly through accounts.actions (no catalog needed) and login helpers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts import actions
from accounts.models import Role, Unit, UnitLevel, User

PASSWORD = "Tq#8wnVb-x4Rm"


@dataclass
class Tree:
    nation: Unit
    shandong: Unit
    jinan: Unit
    qingdao: Unit
    jinan_urban: Unit
    jinan_county: Unit
    jinan_member: Unit
    qingdao_urban: Unit
    sichuan: Unit
    chengdu: Unit
    users: dict[str, User]

    def user(self, username: str) -> User:
        return self.users[username]


def _unit(code: str, name: str, level: str, parent: Unit | None) -> Unit:
    return actions.unit_create(acting_user=None, code=code, name=name, level=level, parent=parent)


def _user(username: str, unit: Unit | None, role: str, *, must_change: bool = False) -> User:
    return actions.user_create(acting_user=None, username=username, unit=unit, role=role, password=PASSWORD,
                               must_change_password=must_change)


@pytest.fixture(autouse=True)
def _clean_cache():
    """Throttle counters live in the cache; each test starts from zero."""
    cache.clear()


@pytest.fixture
def tree(db) -> Tree:
    nation = _unit("100000", "国家卫生健康委员会", UnitLevel.NATION, None)
    sd = _unit("370000", "山东省", UnitLevel.PROVINCE, nation)
    jinan = _unit("370100", "济南市", UnitLevel.CITY, sd)
    qingdao = _unit("370200", "青岛市", UnitLevel.CITY, sd)
    jinan_urban = _unit("3701001", "济南市中心医院医疗集团", UnitLevel.URBAN_ALLIANCE, jinan)
    jinan_county = _unit("3701002", "平阴县人民医院医共体", UnitLevel.COUNTY_ALLIANCE, jinan)
    jinan_member = _unit("3701001-M01", "济南市第二人民医院", UnitLevel.MEMBER, jinan_urban)
    qingdao_urban = _unit("3702001", "青岛大学附属医院医疗集团", UnitLevel.URBAN_ALLIANCE, qingdao)
    sc = _unit("510000", "四川省", UnitLevel.PROVINCE, nation)
    chengdu = _unit("510100", "成都市", UnitLevel.CITY, sc)
    users = [
        _user("admin", nation, Role.ADMIN),
        _user("100000-sh", nation, Role.REVIEWER),
        _user("100000-fx", nation, Role.ANALYST),
        _user("370000", sd, Role.FILLER),
        _user("370000-sh", sd, Role.REVIEWER),
        _user("370100", jinan, Role.FILLER),
        _user("370100-sh", jinan, Role.REVIEWER),
        _user("370200-sh", qingdao, Role.REVIEWER),
        _user("3701001", jinan_urban, Role.FILLER),
        _user("3701002", jinan_county, Role.FILLER),
        _user("3702001", qingdao_urban, Role.FILLER),
        _user("510000-sh", sc, Role.REVIEWER),
        _user("510100", chengdu, Role.FILLER),
        _user("nobody", None, Role.FILLER),
    ]
    return Tree(nation, sd, jinan, qingdao, jinan_urban, jinan_county, jinan_member, qingdao_urban, sc, chengdu,
                {u.username: u for u in users})


def web_login(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    """Log in through the login page (as a browser does, so django-axes sees the request)."""
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def api_token(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post("/api/auth/token/", {"username": username, "password": password}, REMOTE_ADDR=ip)
