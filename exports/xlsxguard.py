"""Look inside an uploaded .xlsx before any XML parser does: a few hundred kilobytes can unpack into millions of
shared strings or cells (minutes of CPU and gigabytes of memory in openpyxl), and a macro workbook has no place
in a data import.

Only the zip central directory and a streamed byte count of two parts are read: bounded time, flat memory.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile

MAX_ENTRIES = 100
MAX_TOTAL_UNZIPPED = 20 * 1024 * 1024
MAX_PART_UNZIPPED = 12 * 1024 * 1024
MAX_SHARED_STRINGS_UNZIPPED = 4 * 1024 * 1024
MAX_SHARED_STRINGS = 100_000
MAX_CELLS = 300_000
MAX_RATIO = 200  # uncompressed / compressed of one large part; real workbooks stay far below
CHUNK = 1024 * 1024
MACRO_EXTENSIONS = (".xlsm", ".xltm", ".xlsb", ".xlam")

TOO_BIG = "文件解压后过大或结构异常，未导入任何数据。请上传本平台下载的填报模板。"
MACRO = "不接受含宏的工作簿（.xlsm 等），未导入任何数据。请另存为 .xlsx 后上传本平台下载的填报模板。"
NOT_XLSX = "文件不是有效的 Excel 工作簿（.xlsx），未导入任何数据。"

_CELL = re.compile(rb"<(?:\w+:)?c[\s>/]")
_SHARED = re.compile(rb"<(?:\w+:)?si[\s>/]")


class UnsafeWorkbook(Exception):
    """The upload is refused as a whole; the message is for the user."""


def refuse_macro_name(filename: str | None) -> None:
    if filename and filename.lower().endswith(MACRO_EXTENSIONS):
        raise UnsafeWorkbook(MACRO)


def _count(zf: zipfile.ZipFile, info: zipfile.ZipInfo, pattern: re.Pattern[bytes], limit: int) -> int:
    found = 0
    tail = b""
    with zf.open(info) as stream:
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                return found
            window = tail + chunk
            found += len(pattern.findall(window)) - len(pattern.findall(tail))
            if found > limit:
                raise UnsafeWorkbook(TOO_BIG)
            tail = window[-8:]


def _declared_entries(data: bytes) -> int:
    """The entry count of the end-of-central-directory record (0 when there is none: zipfile decides)."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 66_000))
    if at < 0 or at + 22 > len(data):
        return 0
    return struct.unpack("<H", data[at + 10:at + 12])[0]


def inspect_xlsx(data: bytes, filename: str | None = None) -> None:
    """Raise UnsafeWorkbook unless `data` is a plain .xlsx of bounded size: entries, total and per-part
    uncompressed sizes (from the central directory, which zipfile also enforces while reading), no macros,
    and bounded shared strings and cells."""
    refuse_macro_name(filename)
    if _declared_entries(data) > MAX_ENTRIES:  # before zipfile reads the whole central directory
        raise UnsafeWorkbook(TOO_BIG)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UnsafeWorkbook(NOT_XLSX) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise UnsafeWorkbook(TOO_BIG)
        total = 0
        for info in infos:
            name = info.filename.lower()
            if name.endswith("vbaproject.bin") or name.endswith(".bin") and "vba" in name:
                raise UnsafeWorkbook(MACRO)
            total += info.file_size
            if info.file_size > MAX_PART_UNZIPPED or total > MAX_TOTAL_UNZIPPED:
                raise UnsafeWorkbook(TOO_BIG)
            if info.file_size > CHUNK and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise UnsafeWorkbook(TOO_BIG)
        names = {info.filename: info for info in infos}
        types = names.get("[Content_Types].xml")
        if types is None:
            raise UnsafeWorkbook(NOT_XLSX)
        with zf.open(types) as stream:
            content_types = stream.read(256 * 1024).lower()
        if b"macroenabled" in content_types or b"vbaproject" in content_types:
            raise UnsafeWorkbook(MACRO)
        try:
            shared = [i for n, i in names.items() if n.lower().endswith("sharedstrings.xml")]
            for info in shared:
                if info.file_size > MAX_SHARED_STRINGS_UNZIPPED:
                    raise UnsafeWorkbook(TOO_BIG)
                _count(zf, info, _SHARED, MAX_SHARED_STRINGS)
            cells = 0
            for name, info in names.items():
                if name.lower().startswith("xl/worksheets/") and name.lower().endswith(".xml"):
                    cells += _count(zf, info, _CELL, MAX_CELLS - cells)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError):
            raise UnsafeWorkbook(NOT_XLSX) from None
