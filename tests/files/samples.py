"""Sample uploads built in memory: the allowed kinds and every kind of bad input the upload must refuse."""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile


def pdf_bytes(text: str = "evidence") -> bytes:
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% " + text.encode() + b"\ntrailer << >>\n%%EOF\n")


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"\x00\xff\x00\x00"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def jpeg_bytes() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def docx_bytes(text: str = "佐证材料") -> bytes:
    from docx import Document

    doc = Document()
    doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "基层诊疗量"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def macro_docx_bytes() -> bytes:
    """A .docm package (VBA project inside) as Word writes it."""
    src = zipfile.ZipFile(io.BytesIO(docx_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"wordprocessingml.document.main+xml",
                                    b"application/vnd.ms-word.document.macroEnabled.main+xml")
            z.writestr(item, data)
        z.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    return out.getvalue()


@functools.cache
def bomb_xlsx_bytes() -> bytes:
    """A workbook package with a member that inflates 1000× (200 MB of zeros from ~200 KB)."""
    src = zipfile.ZipFile(io.BytesIO(xlsx_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            z.writestr(item, src.read(item.filename))
        # Written in chunks so the test itself never holds 200 MB.
        with z.open("xl/media/bomb.bin", "w", force_zip64=True) as member:
            block = b"\x00" * (1024 * 1024)
            for _ in range(200):
                member.write(block)
    return out.getvalue()


def html_bytes() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def exe_bytes() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200 + b"This program cannot be run in DOS mode"


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")
