"""Deciding what an uploaded file is from its bytes, and refusing everything that is not allowed.

Only the content counts: an executable renamed .pdf or an HTML page renamed .docx is refused. Word and Excel
2007+ files are ZIP packages: their central directory is checked (entry count, declared sizes, compression
ratios) before any member is read, so an archive bomb is refused without being inflated, and a package with a
VBA project (.docm / .xlsm, or vbaProject.bin under any name) is refused as a macro document.
"""

from __future__ import annotations

import unicodedata
import zipfile
from typing import IO

from django.conf import settings

from .models import FileKind

ALLOWED_TEXT = "PDF、Word（.docx/.doc）、Excel（.xlsx）、JPEG、PNG"
EXTENSIONS = {
    FileKind.PDF: (".pdf",),
    FileKind.DOCX: (".docx",),
    FileKind.DOC: (".doc",),
    FileKind.XLSX: (".xlsx",),
    FileKind.JPEG: (".jpg", ".jpeg"),
    FileKind.PNG: (".png",),
}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_NAME_LENGTH = 200


class FileRefused(Exception):
    """The upload is refused; the message is for the user (Chinese)."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def check_name(name: str) -> str:
    """The original name as it will be kept; refused when it carries a path, control characters or no
    usable extension."""
    if not isinstance(name, str) or not name.strip():
        raise FileRefused("文件名不能为空。", code="name")
    if "/" in name or "\\" in name:
        raise FileRefused("文件名不能包含路径分隔符（/ 或 \\）。", code="name")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in name):
        raise FileRefused("文件名不能包含控制字符。", code="name")
    name = name.strip()
    if name in (".", "..") or name.startswith("."):
        raise FileRefused("文件名无效。", code="name")
    if len(name) > MAX_NAME_LENGTH:
        raise FileRefused(f"文件名过长（最多{MAX_NAME_LENGTH}个字符）。", code="name")
    return name


def _inspect_zip(fileobj: IO[bytes]) -> str:
    """docx or xlsx, from the package's central directory and its [Content_Types].xml (read bounded)."""
    max_entries = _limit("FILES_ZIP_MAX_ENTRIES", 5000)
    max_total = _limit("FILES_ZIP_MAX_UNCOMPRESSED_BYTES", 300 * 1024 * 1024)
    max_ratio = _limit("FILES_ZIP_MAX_RATIO", 100)
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise FileRefused("文件已损坏，无法识别为Word或Excel文件。", code="type") from e
    with archive:
        infos = archive.infolist()
        if len(infos) > max_entries:
            raise FileRefused("压缩包内文件数过多，疑似压缩炸弹，已拒绝。", code="bomb")
        total = 0
        names = set()
        for info in infos:
            total += info.file_size
            if info.file_size > 1024 * 1024 and info.file_size > max_ratio * max(info.compress_size, 1):
                raise FileRefused("文件内压缩比异常，疑似压缩炸弹，已拒绝。", code="bomb")
            if info.flag_bits & 0x1:
                raise FileRefused("不接受加密的Word/Excel文件。", code="type")
            names.add(info.filename)
        if total > max_total:
            raise FileRefused("文件解压后过大，疑似压缩炸弹，已拒绝。", code="bomb")
        lowered = {n.lower() for n in names}
        if any(n.endswith("vbaproject.bin") or n.endswith("vbadata.xml") for n in lowered):
            raise FileRefused("不接受含宏的文档（.docm/.xlsm）。", code="macro")
        if "[Content_Types].xml" not in names:
            raise FileRefused(f"文件内容不是允许的类型（{ALLOWED_TEXT}）。", code="type")
        with archive.open("[Content_Types].xml") as f:
            types = f.read(1024 * 1024 + 1)
        if len(types) > 1024 * 1024:
            raise FileRefused("文件结构异常，已拒绝。", code="bomb")
        if b"macroEnabled" in types or b"vbaProject" in types:
            raise FileRefused("不接受含宏的文档（.docm/.xlsm）。", code="macro")
        if "word/document.xml" in names and b"wordprocessingml.document.main+xml" in types:
            return FileKind.DOCX
        if "xl/workbook.xml" in names and b"spreadsheetml.sheet.main+xml" in types:
            return FileKind.XLSX
    raise FileRefused(f"文件内容不是允许的类型（{ALLOWED_TEXT}）。", code="type")


def _inspect_ole(head: bytes, fileobj: IO[bytes]) -> str:
    """A Word 97-2003 document (.doc): an OLE compound file with a WordDocument stream and no VBA project."""
    fileobj.seek(0)
    data = fileobj.read(_limit("FILES_MAX_FILE_BYTES", 20 * 1024 * 1024) + 1)
    utf16 = lambda s: s.encode("utf-16-le")  # noqa: E731  (directory entry names are UTF-16)
    if utf16("_VBA_PROJECT") in data or utf16("Macros") in data:
        raise FileRefused("不接受含宏的文档。", code="macro")
    if utf16("WordDocument") in data:
        return FileKind.DOC
    raise FileRefused(f"文件内容不是允许的类型（{ALLOWED_TEXT}）。", code="type")


def detect(fileobj: IO[bytes]) -> str:
    """The FileKind of the content; raises FileRefused for anything else. Leaves the file at position 0."""
    fileobj.seek(0)
    head = fileobj.read(16)
    fileobj.seek(0)
    try:
        if head.startswith(b"%PDF-"):
            return FileKind.PDF
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return FileKind.PNG
        if head.startswith(b"\xff\xd8\xff"):
            return FileKind.JPEG
        if head.startswith(b"PK\x03\x04"):
            return _inspect_zip(fileobj)
        if head.startswith(OLE_MAGIC):
            return _inspect_ole(head, fileobj)
    finally:
        fileobj.seek(0)
    if head.startswith(b"MZ") or head.startswith(b"\x7fELF"):
        raise FileRefused(f"可执行程序不能上传（只接受{ALLOWED_TEXT}）。", code="type")
    raise FileRefused(f"文件内容不是允许的类型（只接受{ALLOWED_TEXT}）。", code="type")


def check_extension(name: str, kind: str) -> None:
    """The name's extension must say what the content is (a PDF named .docx would mislead whoever opens it)."""
    lowered = name.lower()
    if not lowered.endswith(EXTENSIONS[kind]):
        label = FileKind(kind).label
        raise FileRefused(f"文件扩展名与内容不符：内容为{label}，请使用扩展名{'/'.join(EXTENSIONS[kind])}。",
                          code="extension")
