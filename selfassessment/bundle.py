"""All reports of a subtree as one zip, streamed: each Word file is built only when the stream reaches it, so
memory stays flat whatever the number of reports (zipstream-ng, no Content-Length, data descriptors)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet
from zipstream import ZIP_DEFLATED, ZipStream

from reporting.models import Submission

from .selectors import report_for
from .wordfile import docx_filename, report_docx


def _one(submission_id: int) -> Iterator[bytes]:
    submission = Submission.objects.select_related("unit", "task", "form_version").get(pk=submission_id)
    report = report_for(submission)
    if report is not None:
        yield report_docx(submission, report)


def report_zip(submissions: QuerySet[Submission]) -> ZipStream:
    """A lazily built zip of the reports of these submissions (only ids are read up front)."""
    stream = ZipStream(compress_type=ZIP_DEFLATED, compress_level=6)
    rows = submissions.order_by("unit__path", "form_code").values_list("pk", "unit__code", "unit__name")
    for pk, code, name in rows.iterator(chunk_size=2000):
        stream.add(_one(pk), docx_filename_from(code, name))
    return stream


def docx_filename_from(code: str, name: str) -> str:
    safe = "".join(ch for ch in name if ch not in '\\/:*?"<>|').strip() or code
    return f"{code}_{safe}_自评估报告.docx"


__all__ = ["report_zip", "docx_filename", "docx_filename_from"]
