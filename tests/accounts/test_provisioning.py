from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from accounts.models import Role, Unit, UnitLevel, User
from accounts.passwords import DIGITS, LOWER, SYMBOLS, UPPER
from tests.accounts.conftest import web_login

HEADER = ["单位编码", "单位名称", "层级", "上级编码"]
UNITS = [
    ["370000", "山东省", "省级", ""],
    ["370100", "济南市", "市级", "370000"],
    ["3701001", "山东第一医科大学第一附属医院医疗集团", "城市医联体", "370100"],
    ["", "济南市中心医院医疗集团", "城市医联体", "370100"],
    ["", "平阴县人民医院医共体", "县域医共体", "370100"],
    ["370200", "青岛市", "city", "370000"],
    ["", "青岛大学附属医院医疗集团", "urban_alliance", "370200"],
]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        csv.writer(f).writerows([HEADER, *rows])
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = Workbook()
    for row in [HEADER, *rows]:
        wb.active.append(row)
    wb.save(path)
    return path


def provision(tmp_path: Path, units: Path, *extra: str, out: str = "sheet.xlsx") -> list[dict]:
    sheet = tmp_path / out
    call_command("provision_accounts", "--units", str(units), "--out", str(sheet), *extra)
    return read_sheet(sheet)


def read_sheet(path: Path) -> list[dict]:
    ws = load_workbook(path).active
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


@pytest.fixture
def units_csv(tmp_path) -> Path:
    return write_csv(tmp_path / "units.csv", UNITS)


def test_it_creates_the_listed_units_under_the_nation(db, tmp_path, units_csv):
    provision(tmp_path, units_csv)
    sd = Unit.objects.get(code="370000")
    assert (sd.level, sd.parent.code) == (UnitLevel.PROVINCE, "100000")
    assert Unit.objects.get(code="370100").path == "/100000/370000/370100/"
    assert Unit.objects.get(code="3702001").name == "青岛大学附属医院医疗集团"


def test_it_numbers_alliances_without_a_code_after_those_of_their_city(db, tmp_path, units_csv):
    provision(tmp_path, units_csv)
    names = dict(Unit.objects.filter(parent__code="370100").values_list("code", "name"))
    assert names == {"3701001": "山东第一医科大学第一附属医院医疗集团", "3701001-2": "济南市中心医院医疗集团",
                     "3701002": "平阴县人民医院医共体"}
    assert Unit.objects.get(code="3701001-2").level == UnitLevel.URBAN_ALLIANCE


def test_it_creates_filler_and_reviewer_accounts_per_level(db, tmp_path, units_csv):
    rows = provision(tmp_path, units_csv)
    accounts = {(r["用户名"], r["角色"]) for r in rows}
    assert accounts == {
        ("370000", "填报"), ("370000-sh", "审核"), ("370100", "填报"), ("370100-sh", "审核"),
        ("370200", "填报"), ("370200-sh", "审核"),
        ("3701001", "填报"), ("3701001-2", "填报"), ("3701002", "填报"), ("3702001", "填报"),
    }
    reviewer = User.objects.get(username="370100-sh")
    assert (reviewer.role, reviewer.unit.code) == (Role.REVIEWER, "370100")
    assert User.objects.get(username="3701001-2").unit.name == "济南市中心医院医疗集团"


def test_it_writes_a_distribution_sheet_with_bold_frozen_header(db, tmp_path, units_csv):
    provision(tmp_path, units_csv)
    ws = load_workbook(tmp_path / "sheet.xlsx").active
    assert [c.value for c in ws[1]] == ["单位编码", "单位名称", "层级", "用户名", "角色", "初始密码", "说明"]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    rows = read_sheet(tmp_path / "sheet.xlsx")
    jinan = next(r for r in rows if r["用户名"] == "370100")
    assert (jinan["单位编码"], jinan["单位名称"], jinan["层级"]) == ("370100", "济南市", "市级")
    assert {r["说明"] for r in rows} == {"首次登录须修改密码"}
    assert all(isinstance(r["单位编码"], str) for r in rows)


def test_it_gives_every_account_a_random_one_time_password(db, tmp_path, units_csv):
    rows = provision(tmp_path, units_csv)
    passwords = [r["初始密码"] for r in rows]
    assert len(set(passwords)) == len(passwords)
    for row in rows:
        pw, code = row["初始密码"], row["单位编码"]
        assert len(pw) >= 12
        assert any(c in UPPER for c in pw) and any(c in LOWER for c in pw)
        assert any(c in DIGITS for c in pw) and any(c in SYMBOLS for c in pw)
        assert not set(pw) & set("0O1lI")
        assert code not in pw and code[:4] not in pw
        user = User.objects.get(username=row["用户名"])
        assert user.check_password(pw)
        assert user.must_change_password


def test_it_makes_the_new_user_change_the_password_at_first_login(db, tmp_path, units_csv, client):
    rows = provision(tmp_path, units_csv)
    pw = next(r["初始密码"] for r in rows if r["用户名"] == "3701001-2")
    response = web_login(client, "3701001-2", pw)
    assert response.status_code == 302
    assert client.get("/").url.startswith("/accounts/password/")


def test_it_keeps_existing_passwords_when_run_again(db, tmp_path, units_csv):
    provision(tmp_path, units_csv)
    hashes = dict(User.objects.values_list("username", "password"))
    units = Unit.objects.count()
    rows = provision(tmp_path, units_csv, out="again.xlsx")
    assert dict(User.objects.values_list("username", "password")) == hashes
    assert Unit.objects.count() == units  # the code-less alliances are found again, not duplicated
    assert {r["初始密码"] for r in rows} == {None}
    assert {r["说明"] for r in rows} == {"账号已存在，密码未改变"}


def test_it_resets_existing_passwords_only_when_asked(db, tmp_path, units_csv):
    first = {r["用户名"]: r["初始密码"] for r in provision(tmp_path, units_csv)}
    User.objects.update(must_change_password=False)
    rows = provision(tmp_path, units_csv, "--reset-passwords", out="reset.xlsx")
    for row in rows:
        user = User.objects.get(username=row["用户名"])
        assert row["初始密码"] != first[row["用户名"]]
        assert user.check_password(row["初始密码"])
        assert not user.check_password(first[row["用户名"]])
        assert user.must_change_password
        assert row["说明"] == "首次登录须修改密码"


def test_it_adds_a_new_alliance_to_a_city_that_already_has_one(db, tmp_path, units_csv):
    provision(tmp_path, units_csv)
    more = write_csv(tmp_path / "more.csv", [["", "济南市第三人民医院医疗集团", "城市医联体", "370100"],
                                             ["", "商河县人民医院医共体", "县域医共体", "370100"]])
    rows = provision(tmp_path, more, out="more.xlsx")
    assert {r["用户名"] for r in rows} == {"3701001-3", "3701002-2"}
    assert Unit.objects.get(code="3701001-3").name == "济南市第三人民医院医疗集团"


def test_it_reads_xlsx_with_numeric_codes(db, tmp_path):
    units = write_xlsx(tmp_path / "units.xlsx", [[510000, "四川省", "province", None],
                                                 [510100, "成都市", "市级", 510000],
                                                 [None, "四川省人民医院医疗集团", "城市医联体", 510100]])
    rows = provision(tmp_path, units)
    assert {r["用户名"] for r in rows} == {"510000", "510000-sh", "510100", "510100-sh", "5101001"}


def test_it_reads_csv_saved_by_excel_in_gb18030(db, tmp_path):
    units = write_csv(tmp_path / "gbk.csv", [["370000", "山东省", "省级", ""]], encoding="gb18030")
    provision(tmp_path, units)
    assert Unit.objects.get(code="370000").name == "山东省"


def test_it_refuses_a_list_with_errors_and_changes_nothing(db, tmp_path):
    bad = write_csv(tmp_path / "bad.csv", [
        ["370000", "山东省", "省级", ""],
        ["370100", "济南市", "市级", "379900"],
        ["3701001", "某医疗集团", "医联体", "370100"],
        ["370200", "青岛市", "城市医联体", "370000"],
    ])
    with pytest.raises(CommandError) as e:
        provision(tmp_path, bad)
    message = str(e.value)
    assert "第 3 行" in message and "379900" in message
    assert "第 4 行" in message and "医联体" in message
    assert "第 5 行" in message
    assert not Unit.objects.exists()
    assert not User.objects.exists()
    assert not (tmp_path / "sheet.xlsx").exists()


def test_it_refuses_a_file_without_the_required_columns(db, tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("编码,名称\n370000,山东省\n", encoding="utf-8")
    with pytest.raises(CommandError, match="层级"):
        call_command("provision_accounts", "--units", str(path), "--out", str(tmp_path / "x.xlsx"))


def test_it_provisions_all_provinces_and_cities_with_regions(db, tmp_path):
    sheet = tmp_path / "all.xlsx"
    call_command("provision_accounts", "--regions", "--out", str(sheet))
    rows = read_sheet(sheet)
    users = {r["用户名"] for r in rows}
    assert {"100000-sh", "100000-fx", "660000", "660000-sh", "370100", "370100-sh", "542500"} <= users
    assert Unit.objects.filter(level=UnitLevel.PROVINCE).count() == 32
    assert User.objects.get(username="100000-fx").role == Role.ANALYST
    assert all(r["初始密码"] for r in rows)
