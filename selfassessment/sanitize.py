"""Report text is HTML from a contenteditable editor (pasted from Word, too). Only structure survives:
paragraphs, line breaks, emphasis, lists, tables and headings; no attributes except table spans, no styles,
scripts, links, images or classes."""

from __future__ import annotations

import re

import nh3

TAGS = {"p", "br", "strong", "b", "em", "i", "u", "sub", "sup", "ul", "ol", "li", "table", "thead", "tbody",
        "tfoot", "tr", "th", "td", "caption", "h3", "h4", "blockquote"}
ATTRIBUTES = {"td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
MAX_LENGTH = 200_000


def clean_html(html: str) -> str:
    """The sanitised HTML of one section (empty paragraphs and whitespace-only text become "")."""
    html = (html or "")[:MAX_LENGTH]
    cleaned = nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, clean_content_tags={"script", "style"},
                        link_rel=None, strip_comments=True).strip()
    return cleaned if has_text(cleaned) else ""


def has_text(html: str) -> bool:
    return bool(plain_text(html).strip())


def plain_text(html: str) -> str:
    text = re.sub(r"<br\s*/?>|</(p|li|tr|h3|h4|blockquote)>", "\n", html or "")
    text = re.sub(r"</t[dh]>", "\t", text)
    text = re.sub(r"<[^>]+>", "", text)
    for entity, char in (("&nbsp;", " "), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"),
                         ("&amp;", "&")):
        text = text.replace(entity, char)
    return text
