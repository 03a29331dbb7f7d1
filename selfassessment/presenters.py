"""The report as pages, the API and the Word file show it (one builder, so they never disagree)."""

from __future__ import annotations

from django.urls import reverse

from reporting.models import Submission

from .facts import facts_context, section_facts
from .models import Attachment, Report
from .selectors import plan_for, progress_of


def attachment_dict(a: Attachment) -> dict:
    return {"id": a.pk, "name": a.file.original_name, "size": a.file.size, "kind": a.file.kind,
            "sha256": a.file.sha256, "section": a.section, "field": a.field,
            "stamped": a.stamped, "created_at": a.created_at.isoformat(),
            "url": reverse("api-attachment", args=[a.pk])}


def report_outline(submission: Submission, report: Report) -> dict:
    """Sections with text and facts, attachments, the stamped scan and progress."""
    plan = plan_for(submission)
    required = bool(plan and plan.required_for_submit)
    ctx = facts_context(submission)
    sections = []
    for s in report.framework.sections:
        sections.append({
            "key": s["key"], "heading": s["heading"], "text": report.sections.get(s["key"], ""),
            "facts": section_facts(s, ctx) if s.get("writable") else {"indicators": [], "checks": []},
        })
    attachments = [attachment_dict(a) for a in
                   Attachment.objects.filter(submission=submission).select_related("file").order_by("created_at", "id")]
    stamped = next((a for a in attachments if a["stamped"]), None)
    progress = progress_of(report, required)
    return {
        "submission": submission.pk, "unit": {"code": submission.unit.code, "name": submission.unit.name},
        "task": submission.task.code,
        "framework": {"code": report.framework.code, "title": report.framework.title,
                      "version": report.framework.content_hash[:12],
                      "source": report.framework.definition.get("source", "")},
        "revision": report.revision, "required_for_submit": required,
        "editable": submission.is_editable,
        "progress": {"written": progress.written, "required": progress.required, "stamped": progress.stamped,
                     "label": progress.label},
        "sections": sections, "attachments": [a for a in attachments if not a["stamped"]], "stamped": stamped,
    }
