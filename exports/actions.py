"""Writes of the exports app: requesting and running export jobs, importing a filled-in offline template."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Unit, User, audit
from reporting.models import Task

from . import registry
from .models import ExportJob
from .xlsx import write_workbook

log = logging.getLogger(__name__)

EXPORT_DIR = "exports"
PROGRESS_EVERY = 1000


def export_path(job: ExportJob) -> Path | None:
    """The absolute path of a finished job's file (None when there is none)."""
    if not job.file:
        return None
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / job.file).resolve()
    return path if path.is_relative_to(root) else None


def export_request(*, acting_user: User, task: Task, kind: str = "task", params: dict | None = None,
                   inline: bool = False) -> ExportJob:
    """Queue an export of `task` for `acting_user` (kinds: exports.registry). The job runs in Celery after
    the transaction commits; `inline=True` runs it right after the commit in this process instead (small
    exports, the command line). Rows are scoped to what the requester may see when the job runs."""
    registry.get(kind)  # unknown kind: LookupError before anything is written
    params = dict(params or {})
    scope_unit = None
    if params.get("unit"):
        scope_unit = Unit.objects.filter(code=params["unit"]).first()
    with transaction.atomic():
        job = ExportJob.objects.create(kind=kind, task=task, params=params, requested_by=acting_user,
                                       scope_unit=scope_unit or acting_user.unit)
        audit(actor=acting_user, action="export_request", unit=acting_user.unit, obj=job, kind=kind,
              task=task.code, params=params)
        job_id = job.pk
        if inline:
            transaction.on_commit(lambda: export_run(job_id=job_id))
        else:
            from .tasks import run_export

            transaction.on_commit(lambda: run_export.delay(job_id))
    return job


def export_run(*, job_id: int) -> ExportJob:
    """Build the workbook of a job (called by the Celery task). Progress is written to the job every
    PROGRESS_EVERY rows so the status page can show it; a failure is recorded on the job, not raised."""
    job = ExportJob.objects.select_related("task", "requested_by", "requested_by__unit").get(pk=job_id)
    if job.state == ExportJob.State.DONE:
        return job  # a redelivered message: the file is already there
    kind = registry.get(job.kind)
    user = job.requested_by
    params = job.params or {}
    ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.RUNNING, progress=0, error="")
    folder = Path(settings.MEDIA_ROOT) / EXPORT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    relative = f"{EXPORT_DIR}/{job.pk}-{secrets.token_hex(8)}.xlsx"
    final = Path(settings.MEDIA_ROOT) / relative
    partial = final.with_suffix(".part")
    try:
        total = kind.count(user, job.task, params) if kind.count else 0
        ExportJob.objects.filter(pk=job.pk).update(total=total)

        def progress(done: int) -> None:
            ExportJob.objects.filter(pk=job.pk).update(progress=done)

        rows = write_workbook(str(partial), registry.iter_sheets(job.kind, user, job.task, params),
                              progress=progress, progress_every=PROGRESS_EVERY)
        os.replace(partial, final)
    except Exception as exc:  # recorded for the user; the traceback goes to the log
        log.exception("export job %s failed", job.pk)
        partial.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.FAILED, finished_at=timezone.now(),
                                                   error=f"导出失败：{exc.__class__.__name__}: {exc}"[:2000])
    else:
        ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.DONE, file=relative, progress=rows,
                                                   total=max(total, rows), finished_at=timezone.now())
    job.refresh_from_db()
    return job
