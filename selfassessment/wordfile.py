"""The report as a Word file (python-docx): framework headings, the unit's text (paragraphs, lists and tables
kept), a facts table under each section, and the list of evidence files."""

from __future__ import annotations

import io
from html.parser import HTMLParser

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from reporting.models import Submission

from .models import Report
from .presenters import report_outline

STYLE_IDS = {"List Bullet": "ListBullet", "List Number": "ListNumber", "Caption": "Caption", "Title": "Title",
             "Heading 1": "Heading1", "Heading 2": "Heading2", "Heading 3": "Heading3"}


def _para(doc, style: str | None = None, text: str = ""):
    """doc.add_paragraph with the style set by its id: python-docx resolves style names by scanning every style
    (milliseconds per paragraph), which dominated writing a thousand reports."""
    paragraph = doc.add_paragraph(text)
    if style:
        paragraph._p.style = STYLE_IDS[style]
    return paragraph


class _HtmlToDocx(HTMLParser):
    """Writes sanitised section HTML (p, br, strong/em/u, ul/ol/li, table/tr/td/th, h3/h4) into a document."""

    def __init__(self, doc) -> None:
        super().__init__(convert_charrefs=True)
        self.doc = doc
        self.para = None
        self.bold = self.italic = self.underline = 0
        self.lists: list[str] = []
        self.table_rows: list[list[str]] | None = None
        self.cell: list[str] | None = None

    def _paragraph(self, style: str | None = None):
        if self.para is None:
            self.para = _para(self.doc, style)
        return self.para

    def handle_starttag(self, tag, attrs):
        if tag in ("p", "h3", "h4"):
            self.para = None
        elif tag in ("ul", "ol"):
            self.lists.append(tag)
        elif tag == "li":
            self.para = _para(self.doc, "List Number" if self.lists[-1:] == ["ol"] else "List Bullet")
        elif tag == "br" and self.cell is None:
            self._paragraph().add_run().add_break()
        elif tag in ("strong", "b"):
            self.bold += 1
        elif tag in ("em", "i"):
            self.italic += 1
        elif tag == "u":
            self.underline += 1
        elif tag == "table":
            self.table_rows = []
        elif tag == "tr" and self.table_rows is not None:
            self.table_rows.append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("p", "li", "h3", "h4"):
            self.para = None
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag in ("strong", "b"):
            self.bold = max(0, self.bold - 1)
        elif tag in ("em", "i"):
            self.italic = max(0, self.italic - 1)
        elif tag == "u":
            self.underline = max(0, self.underline - 1)
        elif tag in ("td", "th") and self.cell is not None:
            if self.table_rows:
                self.table_rows[-1].append("".join(self.cell).strip())
            self.cell = None
        elif tag == "table" and self.table_rows is not None:
            rows = [r for r in self.table_rows if r]
            if rows:
                width = max(len(r) for r in rows)
                table = self.doc.add_table(rows=len(rows), cols=width)
                table._tbl.tblStyle_val = "TableGrid"
                for row, texts in zip(table.rows, rows, strict=True):
                    for cell, text in zip(row.cells, texts, strict=False):
                        cell.text = text
            self.table_rows = None
            self.para = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
            return
        if not data.strip() and self.para is None:
            return
        run = self._paragraph().add_run(data)
        run.bold = bool(self.bold) or None
        run.italic = bool(self.italic) or None
        run.underline = bool(self.underline) or None


def _cjk_font(doc) -> None:
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def report_docx(submission: Submission, report: Report) -> bytes:
    outline = report_outline(submission, report)
    levels = {s["key"]: s.get("level", 1) for s in report.framework.sections}
    doc = Document()
    _cjk_font(doc)
    title = _para(doc, "Title", report.framework.title)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    meta = doc.add_paragraph()
    meta.add_run(f"填报单位：{submission.unit.name}（{submission.unit.code}）").bold = True
    meta.add_run(f"\n任务：{submission.task.name}　统计周期：{submission.task.period_start:%Y-%m-%d} 至 "
                 f"{submission.task.period_end:%Y-%m-%d}")
    meta.add_run(f"\n状态：{submission.get_status_display()}　框架版本：{outline['framework']['version']}")
    for section in outline["sections"]:
        _para(doc, f"Heading {min(levels.get(section['key'], 1), 3)}", section["heading"])
        if section["text"]:
            _HtmlToDocx(doc).feed(section["text"])
        facts = section["facts"]
        if facts["indicators"]:
            _para(doc, "Caption", "本节相关指标")
            table = doc.add_table(rows=1, cols=5)
            table._tbl.tblStyle_val = "TableGrid"
            for cell, text in zip(table.rows[0].cells, ("指标", "本期值", "目标值", "达标情况", "上期值"),
                                  strict=True):
                cell.text = text
            for ind in facts["indicators"]:
                cells = table.add_row().cells
                for cell, text in zip(cells, (ind["label"], ind["value_shown"] or "无法计算", ind["target"] or "—",
                                              ind["attainment"] or "—", ind["previous_shown"] or "—"), strict=True):
                    cell.text = text
        if facts["checks"]:
            _para(doc, "Caption", "合理性审核提示及说明")
            for check in facts["checks"]:
                _para(doc, "List Bullet", f"{check['message']}　说明：{check['explanation'] or '（未填写）'}")
    _para(doc, "Heading 1", "佐证材料")
    files = outline["attachments"]
    if not files and not outline["stamped"]:
        doc.add_paragraph("无。")
    headings = {s["key"]: s["heading"] for s in outline["sections"]}
    for a in files:
        where = (f"（章节：{headings.get(a['section'], a['section'])}）" if a["section"]
                 else f"（指标：{a['field']}）" if a["field"] else "")
        _para(doc, "List Number", f"{a['name']}　{_size(a['size'])}{where}")
    if outline["stamped"]:
        doc.add_paragraph(f"盖章扫描件：{outline['stamped']['name']}　{_size(outline['stamped']['size'])}")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def docx_filename(submission: Submission) -> str:
    return f"{submission.unit.code}_{submission.unit.name}_自评估报告.docx"
