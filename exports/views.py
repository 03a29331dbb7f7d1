"""Export pages (my jobs, start, JSON status, download) and the offline template download/upload."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from reporting.selectors import current_task, submission_for

from . import registry
from .actions import ExportRefused, export_path, export_request, template_import
from .models import ExportJob
from .template import build_template, template_filename
from .xlsxguard import MACRO, MACRO_EXTENSIONS

SMALL_EXPORT_ROWS = 300
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
JOB_LIST_LIMIT = 30


def _wants_json(request: HttpRequest) -> bool:
    return ("application/json" in request.headers.get("Accept", "")
            or request.headers.get("X-Requested-With") == "XMLHttpRequest" or request.GET.get("format") == "json")


def job_json(job: ExportJob) -> dict:
    percent = 100 if job.state == ExportJob.State.DONE else (
        min(99, int(job.progress * 100 / job.total)) if job.total else 0)
    kind = registry.kinds().get(job.kind)
    return {
        "id": job.pk, "kind": job.kind, "kind_label": kind.label if kind else job.kind,
        "task": job.task.name if job.task_id else "", "state": job.state, "state_label": job.get_state_display(),
        "progress": job.progress, "total": job.total, "percent": percent, "error": job.error,
        "created_at": timezone.localtime(job.created_at).strftime("%Y-%m-%d %H:%M:%S"),
        "finished_at": timezone.localtime(job.finished_at).strftime("%Y-%m-%d %H:%M:%S") if job.finished_at else "",
        "status_url": reverse("exports:status", args=[job.pk]),
        "download_url": reverse("exports:download", args=[job.pk]) if job.state == ExportJob.State.DONE else "",
    }


def _my_job(request: HttpRequest, pk: int) -> ExportJob:
    """A job of the requesting user; anybody else's job is a 404, as if it did not exist."""
    return get_object_or_404(ExportJob.objects.select_related("task"), pk=pk, requested_by=request.user)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    task = current_task()
    jobs = list(ExportJob.objects.filter(requested_by=request.user).select_related("task")[:JOB_LIST_LIMIT])
    kinds = registry.kinds()
    estimate = None
    if task is not None:
        estimate = kinds["task"].count(request.user, task, {})
    return render(request, "exports/index.html", {
        "task": task, "jobs": [job_json(j) for j in jobs], "estimate": estimate,
        "kinds": [(k.code, k.label) for k in kinds.values() if k.menu],
    })


@login_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    task = current_task()
    kind = request.POST.get("kind") or "task"
    if task is None:
        return _refuse(request, "当前没有填报任务，无法导出。")
    try:
        spec = registry.get(kind)
    except LookupError:
        return _refuse(request, f"未知的导出类型：{kind}")
    if not spec.may_start(request.user):
        return _refuse(request, f"无权导出“{spec.label}”。", status=403)
    params = {k[2:]: v.strip() for k, v in request.POST.items() if k.startswith("p_") and len(k) <= 40}
    if any(len(v) > 200 for v in params.values()):
        return _refuse(request, "导出参数过长。")
    try:
        rows = spec.count(request.user, task, params) if spec.count else SMALL_EXPORT_ROWS
        job = export_request(acting_user=request.user, task=task, kind=kind, params=params,
                             inline=rows < SMALL_EXPORT_ROWS)
    except ExportRefused as exc:
        return _refuse(request, str(exc), status=403)
    except (ValueError, TypeError, LookupError):
        return _refuse(request, "导出参数有误。")
    job.refresh_from_db()
    if _wants_json(request):
        return JsonResponse(job_json(job), status=201)
    messages.info(request, "导出已开始，完成后可在下方下载。" if job.state != ExportJob.State.DONE else "导出已完成。")
    return redirect("exports:index")


def _refuse(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": message, "detail": message}, status=status)
    if status == 403:
        raise PermissionDenied(message)
    messages.error(request, message)
    return redirect("exports:index")


@login_required
@require_GET
def status(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(job_json(_my_job(request, pk)))


@login_required
@require_GET
def download(request: HttpRequest, pk: int) -> FileResponse:
    job = _my_job(request, pk)
    path = export_path(job) if job.state == ExportJob.State.DONE else None
    if path is None or not path.exists():
        raise Http404("文件不存在或已过期。")
    kind = registry.kinds().get(job.kind)
    label = kind.label if kind else job.kind
    stamp = timezone.localtime(job.created_at).strftime("%Y%m%d-%H%M")
    name = f"{job.task.name if job.task_id else ''}_{label}_{stamp}.xlsx"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# --- offline template ---------------------------------------------------------------------------------------

@login_required
@require_GET
def template_download(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = submission_for(request.user, submission_id)
    response = HttpResponse(build_template(submission),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = content_disposition_header(True, template_filename(submission))
    return response


@login_required
@require_POST
def template_upload(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = submission_for(request.user, submission_id)
    upload = request.FILES.get("file")
    report = None
    if upload is None:
        message = "请选择要上传的填报模板文件（.xlsx）。"
    elif upload.size > MAX_UPLOAD_BYTES:
        message = "文件过大（超过5MB），请上传本平台下载的填报模板。"
    elif (upload.name or "").lower().endswith(MACRO_EXTENSIONS):
        message = MACRO
    else:
        report = template_import(acting_user=request.user, submission_id=submission.pk, data=upload.read())
        message = report.message
    payload = report.as_dict() if report else {"ok": False, "message": message, "issues": [], "saved": 0}
    code = 200 if payload["ok"] else 409 if payload.get("locked") else 400
    if _wants_json(request):
        return JsonResponse(payload, status=code)
    back = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        back = ""
    return render(request, "exports/import_report.html", {"submission": submission, "report": payload,
                                                          "back": back},
                  status=code)
