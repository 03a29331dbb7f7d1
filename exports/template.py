"""The offline template of one form: download as xlsx, fill in Excel/WPS, upload again.

Sheet "填报表": a row per field (字段编码 · 栏目 · 指标名称 · 单位 · 填报值 · 说明), current values filled in;
only the 填报值 column is editable. A form with a member sub-form (表3/表4) has a second sheet with a row per
member entry (column A its key, one column per field; field codes in the hidden first row) and room for new
members below. A very hidden sheet "__meta__" carries a signed marker (django.core.signing): unit, form, task,
form version hash, the revision and the values as downloaded. Uploading checks the marker (missing, altered,
another unit/form/task, outdated form version → the whole file is refused) and sends only the values changed
in the file, with the downloaded value as the base, so edits made on the web page meanwhile are never
silently overwritten (submission_save reports them as conflicts).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any

import xlsxwriter
from django.core import signing
from django.utils import timezone
from xlsxwriter.utility import xl_rowcol_to_cell

from engine import NOT_COLLECTED
from engine.conditions import condition_text
from reporting.catalog_loader import member_definition
from reporting.models import Submission, TaskForm
from reporting.normalize import normalize_value

from .builders import header_label, section_text
from .xlsx import is_dangerous

SALT = "exports.template.v1"
META_SHEET = "__meta__"
LEAD_SHEET = "填报表"
LEAD_HEADER_ROW = 2  # zero-based: title, hint, header
LEAD_FIRST_ROW = 3
MEMBER_FIRST_ROW = 3  # zero-based: codes (hidden), sections, labels
EXTRA_MEMBER_ROWS = 30
MAX_ROWS = 3000
MAX_UNZIPPED = 40 * 1024 * 1024
TOKEN_CHUNK = 30000
TYPE_HINTS = {"count": "整数", "decimal": "数值", "percent": "百分比数值（0～100，可不带%）", "yesno": "填“是”或“否”",
              "text": "文字"}
NUMBER_FORMATS = {"count": "#,##0", "decimal": "#,##0.00##", "percent": "0.00##"}


class TemplateRefused(Exception):
    """The whole file is refused; the message (Chinese) says why. Nothing was saved."""


@dataclass
class CellIssue:
    sheet: str
    cell: str
    label: str
    message: str

    def as_dict(self) -> dict:
        return {"sheet": self.sheet, "cell": self.cell, "label": self.label, "message": self.message}


@dataclass
class ParsedTemplate:
    """What an upload wants to change, with where each value came from (for the error report)."""

    changes: list[dict] = field(default_factory=list)  # submission_save changes
    # Members to add first: a key reserved in the template, or "new:<row>" for a row typed below them.
    new_members: list[str] = field(default_factory=list)
    locations: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # "key/code" → (sheet, cell, label)
    issues: list[CellIssue] = field(default_factory=list)
    base_revision: int | None = None


# --- definitions --------------------------------------------------------------------------------------------

def member_sheet_name(definition: dict) -> str:
    label = definition.get("member_label") or "成员单位"
    label = re.sub(r"[（(].*?[）)]", "", label).strip() or "成员单位"
    return re.sub(r"[\[\]:*?/\\]", "_", label)[:31]


def field_hint(spec: dict, labels: dict[str, str]) -> str:
    parts = []
    kind = spec.get("type", "text")
    if kind == "choice":
        parts.append("可选：" + "、".join(spec.get("choices") or []))
    else:
        parts.append(TYPE_HINTS.get(kind, ""))
    if spec.get("optional"):
        parts.append("选填")
    if spec.get("of"):
        parts.append(f"其中项，不大于“{labels.get(spec['of'], spec['of'])}”")
    cond = condition_text(spec.get("condition"), labels)
    if cond:
        parts.append(cond)
    if spec.get("help"):
        parts.append(spec["help"])
    return "；".join(p for p in parts if p)


# --- building -----------------------------------------------------------------------------------------------

def template_filename(submission: Submission) -> str:
    title = submission.form_version.definition.get("title") or submission.form_code
    short = title.split(" ")[0] if " " in title else title
    return f"{short}_{submission.unit.name}_{submission.unit.code}_填报模板.xlsx"


def build_template(submission: Submission) -> bytes:
    """The xlsx template of `submission` with its current values."""
    definition = submission.form_version.definition
    sub_def = member_definition(submission)
    members = list(submission.members.order_by("position", "id").values_list("key", "values"))
    # Rows for new members carry their future key, so uploading the same file twice adds them once.
    new_keys = [uuid.uuid4().hex for _ in range(EXTRA_MEMBER_ROWS)] if sub_def is not None else []
    payload = {
        "v": 1, "u": submission.unit.code, "f": submission.form_code, "t": submission.task.code,
        "h": submission.form_version.content_hash, "s": submission.pk, "r": submission.revision,
        "vals": submission.values or {}, "mem": {key: values or {} for key, values in members}, "nk": new_keys,
    }
    token = signing.dumps(payload, salt=SALT, compress=True)
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    fmt = _Formats(wb)
    wb.set_properties({"title": f"{definition.get('title', submission.form_code)} 填报模板",
                       "author": "分级诊疗制度建设信息平台", "company": submission.unit.name})
    _lead_sheet(wb, fmt, submission, definition)
    if sub_def is not None:
        _member_sheet(wb, fmt, definition, sub_def, members, new_keys)
    meta = wb.add_worksheet(META_SHEET)
    chunks = [token[i:i + TOKEN_CHUNK] for i in range(0, len(token), TOKEN_CHUNK)]
    for i, chunk in enumerate(chunks):
        meta.write_string(i, 0, "token")
        meta.write_string(i, 1, chunk)
    row = len(chunks)
    for label, value in (("单位编码", submission.unit.code), ("单位名称", submission.unit.name),
                         ("表单", submission.form_code), ("任务", submission.task.code),
                         ("表单版本", submission.form_version.content_hash),
                         ("生成时间", timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"))):
        meta.write_string(row, 0, label)
        meta.write_string(row, 1, value)
        row += 1
    meta.very_hidden()
    wb.close()
    return out.getvalue()


class _Formats:
    def __init__(self, wb: Any) -> None:
        base = {"border": 1, "valign": "vcenter", "text_wrap": True}
        self.title = wb.add_format({"bold": True, "font_size": 13})
        self.hint = wb.add_format({"font_color": "#9C0006", "text_wrap": True})
        self.header = wb.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "align": "center"})
        self.code = wb.add_format({**base, "font_color": "#808080", "bg_color": "#F2F2F2", "font_size": 9})
        self.locked = wb.add_format(base)
        self.note = wb.add_format({**base, "font_color": "#595959", "font_size": 9})
        self.input = {}
        for kind in ("count", "decimal", "percent", None):
            props = {**base, "locked": False, "bg_color": "#FFF9E5"}
            if kind:
                props["num_format"] = NUMBER_FORMATS[kind]
            self.input[kind] = wb.add_format(props)
        self.input_quote = wb.add_format({**base, "locked": False, "bg_color": "#FFF9E5", "quote_prefix": True})


def _write_value(ws: Any, fmt: _Formats, row: int, col: int, spec: dict, value: Any) -> None:
    kind = spec.get("type")
    cell_fmt = fmt.input.get(kind) or fmt.input[None]
    if value is None:
        ws.write_blank(row, col, None, cell_fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "是" if value else "否", fmt.input[None])
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, cell_fmt)
    else:
        text = str(value)
        ws.write_string(row, col, text, fmt.input_quote if is_dangerous(text) else fmt.input[None])


def _validation(ws: Any, first_row: int, first_col: int, last_row: int, last_col: int, spec: dict) -> None:
    kind = spec.get("type")
    if kind == "yesno":
        options = ["是", "否", NOT_COLLECTED]
    elif kind == "choice":
        options = [*(spec.get("choices") or []), NOT_COLLECTED]
    else:
        return
    if any("," in o for o in options) or len(",".join(options)) > 250:
        return
    ws.data_validation(first_row, first_col, last_row, last_col, {
        "validate": "list", "source": options, "error_type": "warning",
        "error_title": "请从列表中选择", "error_message": "该项应从下拉列表中选择；未统计填“--”。"})


def _lead_sheet(wb: Any, fmt: _Formats, submission: Submission, definition: dict) -> None:
    ws = wb.add_worksheet(LEAD_SHEET)
    fields = definition.get("fields", [])
    labels = {f["code"]: f.get("label", f["code"]) for f in fields}
    values = submission.values or {}
    ws.write_string(0, 0, f"{definition.get('title', submission.form_code)} — {submission.unit.name}"
                          f"（{submission.unit.code}）— {submission.task.name}", fmt.title)
    ws.merge_range(1, 0, 1, 5, "", fmt.hint)
    ws.write_string(1, 0, "只填写黄色“填报值”列：数字直接填写（可带千位分隔符），未统计填“--”，未开展填“0”；"
                          "请勿修改灰色的字段编码，勿删除或改名工作表。填好后在填报页面“上传填报模板”。", fmt.hint)
    ws.set_row(1, 32)
    for col, text in enumerate(("字段编码", "栏目", "指标名称", "单位", "填报值", "说明")):
        ws.write_string(LEAD_HEADER_ROW, col, text, fmt.header)
    row = LEAD_FIRST_ROW
    for spec in fields:
        ws.write_string(row, 0, spec["code"], fmt.code)
        ws.write_string(row, 1, section_text(spec.get("section")), fmt.locked)
        ws.write_string(row, 2, spec.get("label", spec["code"]), fmt.locked)
        ws.write_string(row, 3, spec.get("unit") or "", fmt.locked)
        _write_value(ws, fmt, row, 4, spec, values.get(spec["code"]))
        ws.write_string(row, 5, field_hint(spec, labels), fmt.note)
        _validation(ws, row, 4, row, 4, spec)
        row += 1
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 28)
    ws.set_column(2, 2, 44)
    ws.set_column(3, 3, 8)
    ws.set_column(4, 4, 18)
    ws.set_column(5, 5, 60)
    ws.freeze_panes(LEAD_FIRST_ROW, 3)
    ws.protect("", {"format_columns": True, "format_rows": True, "autofilter": True})
    ws.activate()


def _member_sheet(wb: Any, fmt: _Formats, definition: dict, sub_def: dict, members: list,
                  new_keys: list[str]) -> None:
    ws = wb.add_worksheet(member_sheet_name(definition))
    fields = sub_def.get("fields", [])
    ws.write_string(0, 0, "__codes__", fmt.code)
    ws.write_string(1, 0, "成员编号（勿改）", fmt.header)
    ws.write_string(2, 0, "成员编号（勿改）", fmt.header)
    ws.write_string(1, 1, "序号", fmt.header)
    ws.write_string(2, 1, "序号", fmt.header)
    for i, spec in enumerate(fields):
        col = i + 2
        ws.write_string(0, col, spec["code"], fmt.code)
        ws.write_string(1, col, section_text(spec.get("section")), fmt.header)
        ws.write_string(2, col, header_label(spec.get("label", spec["code"]), spec.get("unit")), fmt.header)
        ws.set_column(col, col, 16)
    ws.set_row(0, None, None, {"hidden": True})
    ws.set_row(2, 48)
    last_row = MEMBER_FIRST_ROW + len(members) + len(new_keys) - 1
    for n, (key, values) in enumerate(members):
        row = MEMBER_FIRST_ROW + n
        ws.write_string(row, 0, key, fmt.code)
        ws.write_number(row, 1, n + 1, fmt.locked)
        for i, spec in enumerate(fields):
            _write_value(ws, fmt, row, i + 2, spec, (values or {}).get(spec["code"]))
    for row, key in zip(range(MEMBER_FIRST_ROW + len(members), last_row + 1), new_keys, strict=True):
        ws.write_string(row, 0, key, fmt.code)
        ws.write_string(row, 1, "新增", fmt.locked)
        for i, spec in enumerate(fields):
            ws.write_blank(row, i + 2, None, fmt.input.get(spec.get("type")) or fmt.input[None])
    for i, spec in enumerate(fields):
        _validation(ws, MEMBER_FIRST_ROW, i + 2, last_row, i + 2, spec)
    ws.set_column(0, 0, 12)
    ws.set_column(1, 1, 6)
    ws.freeze_panes(MEMBER_FIRST_ROW, 3)
    ws.protect("", {"format_columns": True, "format_rows": True})


# --- reading ------------------------------------------------------------------------------------------------

MSG_NOT_XLSX = "无法读取该文件，未导入任何数据：请上传从本平台下载的 .xlsx 填报模板（不支持 .xls、.csv 等其他格式）。"
MSG_NO_MARKER = "该文件不是本平台下载的填报模板（缺少模板标记），未导入任何数据。请在填报页面点击“下载填报模板”后填写。"
MSG_TAMPERED = "模板标记校验失败：文件中的隐藏标记被修改过，未导入任何数据。请重新下载填报模板后填写。"


def _cell(row: int, col: int) -> str:
    return xl_rowcol_to_cell(row, col)


def _raw(value: Any, spec: dict) -> Any:
    """A cell value as submission_save's normaliser expects raw input."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10] if isinstance(value, dt.datetime) and not value.time() else str(value)
    if isinstance(value, float) and spec.get("type") not in ("count", "decimal", "percent") and value.is_integer():
        return str(int(value))
    if isinstance(value, int) and not isinstance(value, bool) and spec.get("type") in ("text", "choice"):
        return str(value)
    return value


def _unchanged(spec: dict, raw: Any, original: Any) -> bool:
    normalized = normalize_value(spec, raw)
    return normalized.ok and normalized.value == original and type(normalized.value) is type(original)


def _open(data: bytes) -> tuple[Any, Any]:
    import openpyxl

    from .xlsxguard import NOT_XLSX, UnsafeWorkbook, inspect_xlsx

    try:
        inspect_xlsx(data)  # entries, sizes, macros, shared strings and cells, before any XML is parsed
    except UnsafeWorkbook as exc:
        raise TemplateRefused(MSG_NOT_XLSX if str(exc) == NOT_XLSX else str(exc)) from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > MAX_UNZIPPED:
                raise TemplateRefused("文件过大，未导入任何数据。请上传本平台下载的填报模板。")
        values = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except TemplateRefused:
        raise
    except Exception:
        raise TemplateRefused(MSG_NOT_XLSX) from None
    return values, formulas


def _rows(ws: Any, min_row: int = 1) -> Any:
    return ws.iter_rows(min_row=min_row, max_row=min_row + MAX_ROWS, values_only=True)


def _percent_cells(ws: Any, min_row: int) -> set[tuple[int, int]]:
    """Cells shown with a % number format: Excel stores a typed "75%" as 0.75 there."""
    found = set()
    for r, row in enumerate(ws.iter_rows(min_row=min_row, max_row=min_row + MAX_ROWS), start=min_row - 1):
        for c, cell in enumerate(row):
            fmt = getattr(cell, "number_format", None)
            if fmt and "%" in fmt and isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                found.add((r, c))
    return found


def _as_shown(value: Any, spec: dict, shown_as_percent: bool) -> Any:
    """A percent field typed as "75%" in Excel arrives as 0.75: take the 75 the clerk saw."""
    if shown_as_percent and spec.get("type") == "percent":
        return round(value * 100, 10)
    return value


def read_marker(values_wb: Any) -> dict:
    if META_SHEET not in values_wb.sheetnames:
        raise TemplateRefused(MSG_NO_MARKER)
    token = "".join(str(r[1]) for r in _rows(values_wb[META_SHEET]) if r and len(r) > 1 and r[0] == "token"
                    and r[1])
    if not token:
        raise TemplateRefused(MSG_NO_MARKER)
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise TemplateRefused(MSG_TAMPERED) from None
    if not isinstance(payload, dict) or payload.get("v") != 1:
        raise TemplateRefused(MSG_TAMPERED)
    return payload


def check_marker(payload: dict, submission: Submission) -> None:
    definition = submission.form_version.definition
    if payload.get("t") != submission.task.code:
        raise TemplateRefused(f"该模板属于其他填报任务（{payload.get('t')}），不能导入到“{submission.task.name}”。"
                              "未导入任何数据，请下载本任务的填报模板。")
    if payload.get("f") != submission.form_code:
        other = TaskForm.objects.filter(task=submission.task, form_code=payload.get("f")).select_related(
            "version").first()
        other_title = other.version.title if other else payload.get("f")
        raise TemplateRefused(f"该模板是“{other_title}”的模板，不能导入到“{definition.get('title', '')}”。"
                              "未导入任何数据。")
    if payload.get("u") != submission.unit.code:
        raise TemplateRefused(f"该模板属于其他单位（单位编码 {payload.get('u')}），不能导入到"
                              f"“{submission.unit.name}”。未导入任何数据，请下载本单位的填报模板。")
    if payload.get("h") != submission.form_version.content_hash:
        raise TemplateRefused("报表格式在模板下载后已更新，未导入任何数据。请重新下载填报模板后填写。")


def parse_template(data: bytes, submission: Submission) -> ParsedTemplate:
    """Read an uploaded template for `submission`. Raises TemplateRefused for a file that must not be
    imported at all; bad cells are collected in .issues (values themselves are checked by submission_save)."""
    values_wb, formulas_wb = _open(data)
    try:
        payload = read_marker(values_wb)
        check_marker(payload, submission)
        parsed = ParsedTemplate(base_revision=payload.get("r"))
        definition = submission.form_version.definition
        if LEAD_SHEET not in values_wb.sheetnames:
            raise TemplateRefused(f"模板中找不到工作表“{LEAD_SHEET}”（请勿删除或改名工作表），未导入任何数据。")
        _parse_lead(values_wb[LEAD_SHEET], formulas_wb[LEAD_SHEET], definition, payload.get("vals") or {}, parsed)
        sub_def = member_definition(submission)
        if sub_def is not None:
            name = member_sheet_name(definition)
            if name not in values_wb.sheetnames:
                raise TemplateRefused(f"模板中找不到工作表“{name}”（请勿删除或改名工作表），未导入任何数据。")
            _parse_members(values_wb[name], formulas_wb[name], name, sub_def, payload.get("mem") or {},
                           set(payload.get("nk") or []), submission, parsed)
        return parsed
    finally:
        values_wb.close()
        formulas_wb.close()


def _formula_cells(ws: Any, min_row: int) -> set[tuple[int, int]]:
    found = set()
    for r, row in enumerate(_rows(ws, min_row), start=min_row - 1):
        for c, value in enumerate(row):
            if isinstance(value, str) and value.startswith("="):
                found.add((r, c))
    return found


def _parse_lead(ws: Any, ws_formulas: Any, definition: dict, originals: dict, parsed: ParsedTemplate) -> None:
    specs = {f["code"]: f for f in definition.get("fields", [])}
    formulas = _formula_cells(ws_formulas, LEAD_FIRST_ROW + 1)
    percents = _percent_cells(ws_formulas, LEAD_FIRST_ROW + 1)
    seen: set[str] = set()
    for r, row in enumerate(_rows(ws, LEAD_FIRST_ROW + 1), start=LEAD_FIRST_ROW):
        code = row[0] if row else None
        value = row[4] if len(row) > 4 else None
        if code is None or (isinstance(code, str) and not code.strip()):
            if value not in (None, ""):
                parsed.issues.append(CellIssue(LEAD_SHEET, _cell(r, 4), "", "该行没有字段编码（A列），无法识别。"))
            continue
        code = str(code).strip()
        spec = specs.get(code)
        if spec is None:
            parsed.issues.append(CellIssue(LEAD_SHEET, _cell(r, 0), code, "字段编码不存在，请勿修改灰色的字段编码列。"))
            continue
        label = spec.get("label", code)
        if code in seen:
            parsed.issues.append(CellIssue(LEAD_SHEET, _cell(r, 0), label, "字段编码重复出现。"))
            continue
        seen.add(code)
        parsed.locations[code] = (LEAD_SHEET, _cell(r, 4), label)
        if value is None and (r, 4) in formulas:
            parsed.issues.append(CellIssue(LEAD_SHEET, _cell(r, 4), label,
                                           "该单元格是未计算的公式，请改为直接填写数值。"))
            continue
        raw = _raw(_as_shown(value, spec, (r, 4) in percents), spec)
        original = originals.get(code)
        if _unchanged(spec, raw, original):
            continue
        change = {"field": code, "member": "", "value": raw}
        change["base"] = original
        parsed.changes.append(change)


def _parse_members(ws: Any, ws_formulas: Any, sheet: str, sub_def: dict, originals: dict, new_keys: set[str],
                   submission: Submission, parsed: ParsedTemplate) -> None:
    specs = {f["code"]: f for f in sub_def.get("fields", [])}
    rows = _rows(ws, 1)
    codes_row = next(rows, ()) or ()
    columns: dict[int, dict] = {}
    for c, code in enumerate(codes_row):
        if c < 2 or code in (None, ""):
            continue
        spec = specs.get(str(code).strip())
        if spec is None:
            parsed.issues.append(CellIssue(sheet, _cell(0, c), str(code), "字段编码不存在，请勿修改隐藏的第1行。"))
            continue
        columns[c] = spec
    next(rows, None)
    next(rows, None)
    formulas = _formula_cells(ws_formulas, MEMBER_FIRST_ROW + 1)
    percents = _percent_cells(ws_formulas, MEMBER_FIRST_ROW + 1)
    existing = set(submission.members.values_list("key", flat=True))
    seen: set[str] = set()
    for r, row in enumerate(rows, start=MEMBER_FIRST_ROW):
        cells = {c: row[c] for c in columns if c < len(row) and row[c] not in (None, "")}
        key = row[0] if row else None
        key = str(key).strip() if key not in (None, "") else ""
        if not cells and (not key or key in new_keys):
            continue  # an empty row (new-member rows left blank)
        base_known = False
        if key and key in seen:
            parsed.issues.append(CellIssue(sheet, _cell(r, 0), "成员编号", "成员编号重复，请勿复制成员编号。"))
            continue
        if key and key in originals:
            if key not in existing:
                parsed.issues.append(CellIssue(sheet, _cell(r, 0), "成员编号",
                                               "该成员单位已在网页上删除，请重新下载填报模板。"))
                continue
            member, member_originals, base_known = key, originals.get(key) or {}, True
        elif key and key in new_keys:
            member, member_originals = key, {}
            if key not in existing:  # added by an earlier upload of this same file otherwise
                parsed.new_members.append(key)
        elif key:
            parsed.issues.append(CellIssue(sheet, _cell(r, 0), "成员编号", "成员编号无效，请勿修改灰色的成员编号列。"))
            continue
        else:
            member, member_originals = f"new:{r + 1}", {}
            parsed.new_members.append(member)
        if key:
            seen.add(key)
        for c, spec in columns.items():
            value = row[c] if c < len(row) else None
            label = spec.get("label", spec["code"])
            parsed.locations[f"{member}/{spec['code']}"] = (sheet, _cell(r, c), label)
            if value is None and (r, c) in formulas:
                parsed.issues.append(CellIssue(sheet, _cell(r, c), label, "该单元格是未计算的公式，请改为直接填写数值。"))
                continue
            raw = _raw(_as_shown(value, spec, (r, c) in percents), spec)
            original = member_originals.get(spec["code"])
            if _unchanged(spec, raw, original):
                continue
            change = {"field": spec["code"], "member": member, "value": raw}
            if base_known:
                change["base"] = original
            parsed.changes.append(change)
