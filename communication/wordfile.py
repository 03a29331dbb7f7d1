"""Word copies of markdown texts (the 下载区's demo documents)."""

from __future__ import annotations

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def as_docx(text: str) -> bytes:
    """A Word copy of a markdown text (headings, quotes, list items, paragraphs) for the 下载区."""
    from io import BytesIO

    from docx import Document
    from docx.oxml.ns import qn

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "SimSun"
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    for block in text.split("\n\n"):
        block = block.strip()
        if not block:
            continue
        heading = len(block) - len(block.lstrip("#"))
        if heading and block[heading:heading + 1] == " ":
            doc.add_heading(block[heading + 1:], level=min(heading - 1, 3))
        elif block.startswith("> "):
            doc.add_paragraph(block[2:]).runs[0].italic = True
        else:
            for line in block.splitlines():
                if line.startswith("- "):
                    doc.add_paragraph(line[2:], style="List Bullet")
                elif line.startswith("  "):
                    doc.add_paragraph(line.strip())
                else:
                    doc.add_paragraph(line)
    out = BytesIO()
    doc.save(out)
    return out.getvalue()
