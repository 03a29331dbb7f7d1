from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_safe

from accounts.models import Unit
from accounts.scoping import can_see_unit
from reporting.models import Task
from reporting.policy import can_edit
from reporting.selectors import current_task, submission_for, submissions_for

from .bundle import report_zip
from .facts import fact_sentence
from .models import Report, TaskReport
from .presenters import report_outline
from .selectors import plan_for, report_for, task_plans


@login_required
@require_safe
def report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The report editor of one unit and task (read-only for supervisors and once submitted)."""
    submission = submission_for(request.user, pk)
    report = report_for(submission)
    if report is None:
        raise Http404("本任务不要求该单位提交自评估报告。")
    user = request.user
    editable = can_edit(user, submission).allowed
    outline = report_outline(submission, report)
    by_key = {s["key"]: s for s in report.framework.sections}
    sections = []
    for s in outline["sections"]:
        spec = by_key[s["key"]]
        for ind in s["facts"]["indicators"]:
            ind["sentence"] = fact_sentence(ind)
        sections.append({**s, "level": spec.get("level", 1), "guidance": spec.get("guidance", []),
                         "writable": spec.get("writable", False), "required": spec.get("required", False),
                         "files": [a for a in outline["attachments"] if a["section"] == s["key"]]})
    comments = submission.field_comments.filter(field_code__startswith="report.").select_related("author")
    by_section: dict[str, list] = {}
    for c in comments:
        by_section.setdefault(c.field_code.removeprefix("report."), []).append(c)
    for s in sections:
        s["comments"] = by_section.get(s["key"], [])
    field_labels = {f["code"]: f.get("label", f["code"]) for f in submission.form_version.definition.get("fields", [])}
    return render(request, "selfassessment/edit.html", {
        "submission": submission, "report": report, "outline": outline, "sections": sections,
        "editable": editable, "field_labels": sorted(field_labels.items(), key=lambda kv: kv[0]),
        "field_files": [{**a, "label": field_labels.get(a["field"], a["field"])} for a in outline["attachments"]
                        if a["field"]],
        "general_files": [a for a in outline["attachments"] if not a["field"] and not a["section"]],
        "editor_data": {"id": submission.pk, "user": user.pk, "revision": report.revision, "editable": editable,
                        "api": reverse("api-report", args=[submission.pk]),
                        "upload": reverse("api-attachments", args=[submission.pk])},
        "entry_url": reverse("submission_entry", args=[submission.pk]),
        "review_url": reverse("review:submission", args=[submission.pk]),
        "docx_url": reverse("api-report-docx", args=[submission.pk]),
    })


@login_required
@require_GET
def report_bundle(request: HttpRequest) -> StreamingHttpResponse:
    """All reports of the viewer's subtree (or of one unit below it) as one zip, streamed."""
    code = request.GET.get("task", "").strip()
    task = Task.objects.filter(code=code).first() if code else current_task()
    if task is None:
        raise Http404("没有任务。")
    unit_code = request.GET.get("unit", "").strip()
    root = request.user.unit
    if unit_code:
        root = Unit.objects.filter(code=unit_code).first()
        if root is None or not can_see_unit(request.user, root):
            raise Http404("单位不存在或不在您的管辖范围内。")
    levels = list(TaskReport.objects.filter(task=task).values_list("unit_level", flat=True))
    qs = submissions_for(request.user).filter(task=task, unit__level__in=levels)
    if root is not None:
        qs = qs.filter(unit__path__startswith=root.path)
    qs = qs.filter(Q(report__isnull=False))
    stamp = timezone.localtime().strftime("%Y%m%d")
    name = f"{task.code}_{root.code if root else 'all'}_自评估报告_{stamp}.zip"
    response = StreamingHttpResponse(report_zip(qs), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def review_panel(request: HttpRequest, submission) -> str:
    """The report on the review page: section texts, evidence, per-section comments (review hook)."""
    if plan_for(submission) is None:
        return ""
    report = report_for(submission)
    outline = report_outline(submission, report)
    from reporting.workflow import Actor, actor_kinds, allowed_actions

    allowed = allowed_actions(request.user, submission)
    labels = {f["code"]: f.get("label", f["code"]) for f in submission.form_version.definition.get("fields", [])}
    headings = {s["key"]: s["heading"].rstrip("。") for s in report.framework.sections}
    for a in outline["attachments"]:
        a["where"] = headings.get(a["section"], "") if a["section"] else labels.get(a["field"], a["field"])
    return render_to_string("selfassessment/_review_panel.html", {
        "submission": submission, "outline": outline,
        "levels": {s["key"]: s.get("level", 1) for s in report.framework.sections},
        "writable": {s["key"] for s in report.framework.writable_sections},
        "can_comment": Actor.SUPERVISOR in actor_kinds(request.user, submission),
        "can_reject": bool({"reject", "recheck_reject"} & set(allowed)),
        "edit_url": reverse("selfassessment:edit", args=[submission.pk]),
        "docx_url": reverse("api-report-docx", args=[submission.pk]),
    }, request=request)


def submission_links(submission) -> list[tuple[str, str]]:
    if plan_for(submission) is None:
        return []
    return [("自评估报告", reverse("selfassessment:edit", args=[submission.pk]))]


def board_links(request: HttpRequest, task: Task, unit: Unit) -> list[tuple[str, str]]:
    plans = getattr(task, "_report_plans", None)
    if plans is None:
        plans = task._report_plans = task_plans(task.pk)
    if not plans:
        return []
    return [("下载自评估报告（zip）", f"{reverse('selfassessment:bundle')}?task={task.code}&unit={unit.code}")]


__all__ = ["report_edit", "report_bundle", "review_panel", "submission_links", "Report"]
