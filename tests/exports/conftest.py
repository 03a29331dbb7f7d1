"""Helpers of the export tests: read workbooks back with python-calamine (an independent reader) and look at
the raw sheet XML."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from exports import registry
from exports.xlsx import write_workbook
from reporting import actions


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def read_book(source: Path | bytes) -> dict[str, list[list]]:
    """sheet name → rows (lists of Python values) as python-calamine reads them."""
    if isinstance(source, bytes):
        import io

        wb = CalamineWorkbook.from_filelike(io.BytesIO(source))
    else:
        wb = CalamineWorkbook.from_path(str(source))
    return {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names}


def sheet_xml(source: Path | bytes) -> dict[str, str]:
    import io

    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n).decode("utf-8") for n in zf.namelist() if n.startswith("xl/worksheets/sheet")}


def has_formula(source: Path | bytes) -> bool:
    return any(re.search(r"<f[ >/]", xml) for xml in sheet_xml(source).values())


def export(user, task, tmp_path: Path, kind: str = "task", **params) -> Path:
    path = tmp_path / f"export-{kind}.xlsx"
    write_workbook(str(path), registry.iter_sheets(kind, user, task, params))
    return path


def save(user, submission, values: dict, member: str = "") -> None:
    result = actions.submission_save(acting_user=user, submission_id=submission.pk,
                                     changes=[{"field": k, "member": member, "value": v} for k, v in values.items()])
    assert not result.errors, result.errors


def column(rows: list[list], label: str, header_row: int = 1, last: bool = False) -> int:
    """Index of the (first, or last) column whose header (label row) is `label`."""
    if last:
        return len(rows[header_row]) - 1 - rows[header_row][::-1].index(label)
    return rows[header_row].index(label)


def row_of(rows: list[list], code: str) -> list:
    [row] = [r for r in rows if r and r[0] == code]
    return row
