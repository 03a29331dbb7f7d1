"""Paging for the list pages (queue, progress board, notifications, audit): one page size, Chinese pager."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PER_PAGE = 50


def page_of(request: HttpRequest, items: Any, param: str = "page", per_page: int | None = None) -> Page:
    """The requested page of a queryset or list (out-of-range or garbage numbers give the nearest page)."""
    return Paginator(items, per_page or PER_PAGE).get_page(request.GET.get(param))
