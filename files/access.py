"""Who may download a stored file, and the one way a file is sent.

The default rule is the unit scope (accounts.scoping.can_see_unit on the file's owner unit). An app that gives
files a wider or narrower audience (notices read by every unit below the sender, evidence attached to a report)
registers a rule for its `purpose` in its AppConfig.ready():

    from files.access import register_reader
    register_reader("notice", lambda user, stored: ...)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from django.core.files.storage import storages
from django.http import FileResponse

from accounts.models import User
from accounts.scoping import can_see_unit

from .models import StoredFile

Reader = Callable[[User, StoredFile], bool]
_readers: dict[str, Reader] = {}


def register_reader(purpose: str, rule: Reader) -> None:
    _readers[purpose] = rule


def may_read(user: User, stored: StoredFile) -> bool:
    if not user.is_authenticated:
        return False
    rule = _readers.get(stored.purpose)
    if rule is not None:
        return bool(rule(user, stored))
    return can_see_unit(user, stored.unit)


def safe_filename(name: str) -> str:
    """The name offered to the browser: no control characters, separators or quotes."""
    cleaned = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    cleaned = re.sub(r'[\\/:*?"<>|;]+', "_", cleaned).strip(" .") or "file"
    return cleaned[:200]


def file_response(stored: StoredFile) -> FileResponse:
    """Always a download (Content-Disposition: attachment), typed by the detected kind, never sniffed."""
    handle = storages["default"].open(stored.key, "rb")
    response = FileResponse(handle, as_attachment=True, filename=safe_filename(stored.original_name),
                            content_type=stored.mime_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    response["Content-Length"] = str(stored.size)
    return response
