"""Bulk creation of units and their accounts from a unit list, and the distribution sheet of one-time passwords.

The unit list (csv or xlsx) has the columns 单位编码, 单位名称, 层级, 上级编码. 层级 is province / city /
urban_alliance / county_alliance (or 省级 / 市级 / 城市医联体 / 县域医共体; nation / 国家 is accepted too).
An alliance without a code gets the next free code of its city (3701001, 3701001-2, …, see accounts.naming);
a province without a parent goes under the nation (100000).

Accounts: a filler account (username = unit code) for every province, city and alliance; a reviewer account
("<code>-sh") for the nation, provinces and cities; the analyst account ("100000-fx") for the nation. Each new
account gets a random one-time password that must be changed at the first login. Existing accounts keep their
password unless `reset_passwords` is set. Everything is validated before anything is written, and all writes
happen in one transaction through accounts.actions.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from . import actions
from .models import Role, Unit, UnitLevel, User
from .naming import NATION_CODE, alliance_code, analyst_username, filler_username, reviewer_username
from .regions import regions

NATION_NAME = "国家卫生健康委员会"
ONE_TIME_NOTE = "首次登录须修改密码"
UNCHANGED_NOTE = "账号已存在，密码未改变"
SHEET_HEADER = ["单位编码", "单位名称", "层级", "用户名", "角色", "初始密码", "说明"]

COLUMNS = {
    "code": ("单位编码", "编码", "code", "unit_code"),
    "name": ("单位名称", "名称", "name", "unit_name"),
    "level": ("层级", "级别", "level", "unit_level"),
    "parent": ("上级编码", "上级单位编码", "parent", "parent_code"),
}
LEVELS = {
    "nation": UnitLevel.NATION, "国家": UnitLevel.NATION, "国家级": UnitLevel.NATION,
    "province": UnitLevel.PROVINCE, "省级": UnitLevel.PROVINCE, "省": UnitLevel.PROVINCE,
    "city": UnitLevel.CITY, "市级": UnitLevel.CITY, "市": UnitLevel.CITY,
    "urban_alliance": UnitLevel.URBAN_ALLIANCE, "城市医联体": UnitLevel.URBAN_ALLIANCE,
    "county_alliance": UnitLevel.COUNTY_ALLIANCE, "县域医共体": UnitLevel.COUNTY_ALLIANCE,
}
PARENT_LEVEL = {
    UnitLevel.PROVINCE: UnitLevel.NATION,
    UnitLevel.CITY: UnitLevel.PROVINCE,
    UnitLevel.URBAN_ALLIANCE: UnitLevel.CITY,
    UnitLevel.COUNTY_ALLIANCE: UnitLevel.CITY,
}
LEVEL_ORDER = [UnitLevel.NATION, UnitLevel.PROVINCE, UnitLevel.CITY, UnitLevel.URBAN_ALLIANCE,
               UnitLevel.COUNTY_ALLIANCE]
ALLIANCES = (UnitLevel.URBAN_ALLIANCE, UnitLevel.COUNTY_ALLIANCE)


class ProvisioningError(Exception):
    """The unit list cannot be provisioned; `problems` are Chinese messages, one per offending row."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass
class UnitRow:
    line: int  # row number in the file (header = 1); 0 for units taken from regions.json
    code: str
    name: str
    level: str
    parent_code: str


@dataclass
class SheetRow:
    unit_code: str
    unit_name: str
    unit_level: str
    username: str
    role: str
    password: str
    note: str

    def cells(self) -> list[str]:
        return [self.unit_code, self.unit_name, UnitLevel(self.unit_level).label, self.username,
                Role(self.role).label, self.password, self.note]


@dataclass
class ProvisioningResult:
    units_created: list[Unit] = field(default_factory=list)
    units_existing: list[Unit] = field(default_factory=list)
    users_created: list[User] = field(default_factory=list)
    passwords_reset: list[User] = field(default_factory=list)
    users_unchanged: list[User] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sheet: list[SheetRow] = field(default_factory=list)


# --- reading -------------------------------------------------------------------------------------------------

def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed into Excel comes back as 370100.0
    return str(value).strip()


def _rows_from_table(table: Iterable[Sequence[object]]) -> list[UnitRow]:
    rows = iter(table)
    header = [_cell(h).lower() for h in next(rows, [])]
    index: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for i, h in enumerate(header):
            if h in names:
                index[key] = i
                break
    missing = [COLUMNS[k][0] for k in ("code", "name", "level") if k not in index]
    if missing:
        raise ProvisioningError([f"表头缺少列：{'、'.join(missing)}（须有 单位编码、单位名称、层级、上级编码）"])
    out: list[UnitRow] = []
    for line, values in enumerate(rows, start=2):
        values = list(values)

        def get(key: str, values: list[object] = values) -> str:
            i = index.get(key)
            return _cell(values[i]) if i is not None and i < len(values) else ""

        if not any(_cell(v) for v in values):
            continue
        out.append(UnitRow(line=line, code=get("code"), name=get("name"), level=get("level"),
                           parent_code=get("parent")))
    return out


def read_unit_file(path: str | Path) -> list[UnitRow]:
    """Read a unit list from .csv (UTF-8 or the GB18030 Excel writes on Chinese Windows) or .xlsx."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            return _rows_from_table(wb.worksheets[0].iter_rows(values_only=True))
        finally:
            wb.close()
    if path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                continue
            return _rows_from_table(csv.reader(text.splitlines()))
        raise ProvisioningError(["无法识别文件编码，请另存为 UTF-8 编码的 CSV 或 xlsx。"])
    raise ProvisioningError([f"不支持的文件类型：{path.suffix or path.name}（请使用 .csv 或 .xlsx）"])


def region_rows() -> list[UnitRow]:
    """The nation, the 32 provinces and their prefecture-level cities from accounts/data/regions.json."""
    rows = [UnitRow(0, NATION_CODE, NATION_NAME, UnitLevel.NATION, "")]
    for p in regions()["provinces"]:
        rows.append(UnitRow(0, p["code"], p["name"], UnitLevel.PROVINCE, NATION_CODE))
        rows += [UnitRow(0, c["code"], c["name"], UnitLevel.CITY, p["code"]) for c in p["cities"]]
    return rows


# --- validating ----------------------------------------------------------------------------------------------

def _where(row: UnitRow) -> str:
    return f"第 {row.line} 行" if row.line else f"区划 {row.code}"


def validate_rows(rows: list[UnitRow]) -> list[UnitRow]:
    """Normalise levels and parents and check the whole list against itself and the database.

    Returns the rows in creation order (parents first); raises ProvisioningError listing every problem.
    """
    problems: list[str] = []
    by_code: dict[str, UnitRow] = {}
    for row in rows:
        level = LEVELS.get(row.level.strip().lower()) or LEVELS.get(row.level.strip())
        if level is None:
            problems.append(f"{_where(row)}：层级“{row.level}”无法识别（应为 省级、市级、城市医联体 或 县域医共体）")
            continue
        row.level = level
        if not row.name:
            problems.append(f"{_where(row)}：单位名称为空")
        if level == UnitLevel.PROVINCE and not row.parent_code:
            row.parent_code = NATION_CODE
        if level == UnitLevel.NATION:
            row.parent_code = ""
        elif not row.parent_code:
            problems.append(f"{_where(row)}：缺少上级编码")
        if not row.code and level not in ALLIANCES:
            problems.append(f"{_where(row)}：缺少单位编码（只有医联体、医共体可不填，由系统生成）")
        if row.code:
            if row.code in by_code:
                problems.append(f"{_where(row)}：单位编码 {row.code} 与第 {by_code[row.code].line} 行重复")
                continue
            by_code[row.code] = row

    existing = {u.code: u for u in Unit.objects.filter(code__in={r.code for r in rows if r.code}
                                                       | {r.parent_code for r in rows if r.parent_code})}
    for row in rows:
        if row.level not in LEVEL_ORDER:
            continue
        unit = existing.get(row.code) if row.code else None
        if unit is not None and unit.level != row.level:
            problems.append(f"{_where(row)}：单位 {row.code} 已存在，但层级为{unit.get_level_display()}，"
                            f"与文件中的{UnitLevel(row.level).label}不符")
        if unit is not None and unit.parent_id and row.parent_code and unit.parent.code != row.parent_code:
            problems.append(f"{_where(row)}：单位 {row.code} 已存在，上级为 {unit.parent.code}，"
                            f"与文件中的 {row.parent_code} 不符")
        if row.level == UnitLevel.NATION or not row.parent_code:
            continue
        parent_level = None
        if row.parent_code in by_code:
            parent_level = by_code[row.parent_code].level
        elif row.parent_code in existing:
            parent_level = existing[row.parent_code].level
        elif row.parent_code == NATION_CODE:
            parent_level = UnitLevel.NATION  # created on the fly
        if parent_level is None:
            problems.append(f"{_where(row)}：上级编码 {row.parent_code} 既不在文件中，也不在系统中")
        elif parent_level != PARENT_LEVEL[row.level]:
            problems.append(f"{_where(row)}：{UnitLevel(row.level).label}的上级应为"
                            f"{UnitLevel(PARENT_LEVEL[row.level]).label}，而 {row.parent_code} 是"
                            f"{UnitLevel(parent_level).label}")
    if problems:
        raise ProvisioningError(problems)
    return sorted(rows, key=lambda r: (LEVEL_ORDER.index(r.level), r.line))


# --- writing -------------------------------------------------------------------------------------------------

def _next_alliance_code(city: Unit, level: str, reserved: set[str]) -> str:
    seq = 1
    while True:
        code = alliance_code(city.code, level, seq)
        if code not in reserved and not Unit.objects.filter(code=code).exists():
            return code
        seq += 1


def accounts_for(unit: Unit) -> list[tuple[str, str]]:
    """(username, role) of the accounts a unit of this level gets."""
    if unit.level == UnitLevel.NATION:
        return [(reviewer_username(unit.code), Role.REVIEWER), (analyst_username(unit.code), Role.ANALYST)]
    if unit.level in (UnitLevel.PROVINCE, UnitLevel.CITY):
        return [(filler_username(unit.code), Role.FILLER), (reviewer_username(unit.code), Role.REVIEWER)]
    if unit.level in ALLIANCES:
        return [(filler_username(unit.code), Role.FILLER)]
    return []


def _provision_account(result: ProvisioningResult, unit: Unit, username: str, role: str, *,
                       acting_user: User | None, reset_passwords: bool) -> None:
    user = User.objects.filter(username=username).first()
    if user is None:
        user, password = actions.user_create_with_one_time_password(
            acting_user=acting_user, username=username, unit=unit, role=role)
        result.users_created.append(user)
        note = ONE_TIME_NOTE
    elif user.unit_id != unit.pk or user.role != role:
        raise ProvisioningError([f"用户名 {username} 已被其他单位或角色使用（{user.unit or '无单位'}，"
                                 f"{user.get_role_display()}），请先在管理后台处理"])
    elif reset_passwords:
        password = actions.user_password_reset(acting_user=acting_user, user=user)
        result.passwords_reset.append(user)
        note = ONE_TIME_NOTE
    else:
        password = ""
        result.users_unchanged.append(user)
        note = UNCHANGED_NOTE
    result.sheet.append(SheetRow(unit.code, unit.name, unit.level, username, role, password, note))


@transaction.atomic
def provision(rows: list[UnitRow], *, acting_user: User | None = None, reset_passwords: bool = False,
              create_accounts: bool = True, progress: Callable[[int, int], None] | None = None
              ) -> ProvisioningResult:
    """Create the listed units (and the nation if needed) and their accounts.

    `progress(done, total)` is called after each account: hashing a password with Argon2 takes a noticeable
    fraction of a second, so a nationwide run takes minutes.
    """
    ordered = validate_rows(rows)
    result = ProvisioningResult()
    reserved = {r.code for r in ordered if r.code}
    units: dict[str, Unit] = {}

    def get_unit(code: str) -> Unit:
        if code not in units:
            found = Unit.objects.filter(code=code).first()
            if found is None and code == NATION_CODE:
                found = actions.unit_create(acting_user=acting_user, code=NATION_CODE, name=NATION_NAME,
                                            level=UnitLevel.NATION, parent=None)
                result.units_created.append(found)
            if found is None:
                raise ProvisioningError([f"上级编码 {code} 不存在"])
            units[code] = found
        return units[code]

    touched: list[Unit] = []
    for row in ordered:
        parent = get_unit(row.parent_code) if row.parent_code else None
        unit = None
        if row.code:
            unit = Unit.objects.filter(code=row.code).first()
        elif parent is not None:
            # Re-running a list whose alliances had no code finds them again by name instead of duplicating.
            unit = Unit.objects.filter(parent=parent, level=row.level, name=row.name).first()
            row.code = unit.code if unit else _next_alliance_code(parent, row.level, reserved)
            reserved.add(row.code)
        if unit is None:
            unit = actions.unit_create(acting_user=acting_user, code=row.code, name=row.name, level=row.level,
                                       parent=parent)
            result.units_created.append(unit)
        else:
            result.units_existing.append(unit)
            if unit.name != row.name:
                result.warnings.append(f"{_where(row)}：单位 {unit.code} 已存在，名称“{unit.name}”未改为“{row.name}”")
        units[unit.code] = unit
        touched.append(unit)

    if create_accounts:
        planned = [(unit, username, role) for unit in touched for username, role in accounts_for(unit)]
        for done, (unit, username, role) in enumerate(planned, start=1):
            _provision_account(result, unit, username, role, acting_user=acting_user,
                               reset_passwords=reset_passwords)
            if progress is not None:
                progress(done, len(planned))
    return result


def write_distribution_sheet(sheet: list[SheetRow], path: str | Path) -> Path:
    """The xlsx handed to the units: one row per account with its one-time password."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = "账号分发"
    ws.append(SHEET_HEADER)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for row in sheet:
        ws.append(row.cells())
    for i, width in enumerate([14, 36, 12, 14, 10, 18, 22], start=1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = width
        for cell in ws[letter][1:]:
            cell.number_format = "@"  # codes and passwords are text, never numbers or dates
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
