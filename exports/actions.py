"""Writes of the exports app: requesting and running export jobs, importing a filled-in offline template."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils import timezone

from accounts.models import Unit, User, audit
from engine import format_value
from reporting.actions import FieldLocked, SaveRefused, member_add, submission_save
from reporting.models import Submission, Task
from reporting.workflow import TransitionError

from . import registry
from .models import ExportJob
from .template import LEAD_SHEET, CellIssue, TemplateRefused, parse_template
from .xlsx import write_workbook

log = logging.getLogger(__name__)

EXPORT_DIR = "exports"
FAILED_MESSAGE = "导出失败，请稍后重试；如仍失败，请联系管理员（导出编号 {id}）。"


class ExportRefused(PermissionDenied):
    """The user may not start this kind of export (the message is for the user)."""
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
    the transaction commits; `inline=True` builds it right away in this process instead (small exports). Rows
    are scoped to what the requester may see when the job runs.

    The job row is the source of truth: if the broker cannot take the message (Redis down), the request still
    succeeds, the job stays queued and undispatched, and jobs_sweep dispatches it when the broker is back."""
    spec = registry.get(kind)  # unknown kind: LookupError before anything is written
    if not spec.may_start(acting_user):
        raise ExportRefused(f"无权导出“{spec.label}”。")
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
        if not inline:
            transaction.on_commit(lambda: dispatch(job_id))
    if inline:
        return export_run(job_id=job_id)
    return job


def dispatch(job_id: int) -> bool:
    """Hand a queued job to the broker and note when. False (logged, job left queued) when the broker is
    unreachable: the sweeper tries again."""
    from .tasks import run_export

    try:
        run_export.apply_async(args=[job_id], retry=False)
    except Exception:  # kombu/redis connection errors vary by transport
        log.warning("export job %s not dispatched (broker unreachable); the sweeper will retry", job_id,
                    exc_info=True)
        return False
    ExportJob.objects.filter(pk=job_id, state=ExportJob.State.QUEUED).update(dispatched_at=timezone.now())
    return True


def export_run(*, job_id: int) -> ExportJob:
    """Build the workbook of a job (called by the Celery task). Progress and a heartbeat are written to the job
    every PROGRESS_EVERY rows; a failure is recorded on the job, not raised.

    Idempotent: a finished job is left alone, and of two runs of the same job (a redelivered message while the
    first run still lives) only the first to finish publishes its file."""
    job = ExportJob.objects.select_related("task", "requested_by", "requested_by__unit").get(pk=job_id)
    if job.state in (ExportJob.State.DONE, ExportJob.State.FAILED):
        return job  # a redelivered message: the outcome is already there
    kind = registry.get(job.kind)
    user = job.requested_by
    params = job.params or {}
    ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.RUNNING, progress=0, error="",
                                               heartbeat_at=timezone.now(), attempts=models.F("attempts") + 1)
    folder = Path(settings.MEDIA_ROOT) / EXPORT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    relative = f"{EXPORT_DIR}/{job.pk}-{secrets.token_hex(8)}.xlsx"
    final = Path(settings.MEDIA_ROOT) / relative
    partial = final.with_suffix(".part")
    running = ExportJob.objects.filter(pk=job.pk, state=ExportJob.State.RUNNING)
    try:
        total = kind.count(user, job.task, params) if kind.count else 0
        running.update(total=total, heartbeat_at=timezone.now())

        def progress(done: int) -> None:
            running.update(progress=done, heartbeat_at=timezone.now())

        rows = write_workbook(str(partial), registry.iter_sheets(job.kind, user, job.task, params),
                              progress=progress, progress_every=PROGRESS_EVERY)
        os.replace(partial, final)
    except Exception as exc:  # the user sees a Chinese sentence; the traceback goes to the log
        log.exception("export job %s failed", job.pk)
        partial.unlink(missing_ok=True)
        running.update(state=ExportJob.State.FAILED, finished_at=timezone.now(), error=_failure_message(job.pk, exc))
    else:
        published = running.update(state=ExportJob.State.DONE, file=relative, progress=rows,
                                   total=max(total, rows), finished_at=timezone.now(), heartbeat_at=timezone.now())
        if not published:  # another run of the same job finished first (or the sweeper gave up on this one)
            final.unlink(missing_ok=True)
    job.refresh_from_db()
    return job


STALE_MESSAGE = "导出任务多次中断（已尝试 {n} 次），未能完成，请重新发起导出。"


@dataclass
class SweepOutcome:
    dispatched: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def jobs_sweep(*, acting_user: User | None = None) -> SweepOutcome:
    """The periodic sweeper (Celery beat, settings.CELERY_BEAT_SCHEDULE): no export job stays queued or running
    for ever.

    - queued and never handed to the broker (it was down), or handed over long ago and never started: dispatch;
    - running without a heartbeat for settings.FJZL_JOB_STALE_SECONDS (the worker was killed): run it again, up
      to settings.FJZL_JOB_MAX_ATTEMPTS runs, then mark it failed with a Chinese message (the user can start a
      new export)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.FJZL_JOB_STALE_SECONDS)
    outcome = SweepOutcome()
    with transaction.atomic():
        Q = models.Q
        waiting = (ExportJob.objects.select_for_update(skip_locked=True)
                   .filter(state=ExportJob.State.QUEUED)
                   .filter(Q(dispatched_at__isnull=True, created_at__lt=now - timedelta(seconds=2))
                           | Q(dispatched_at__lt=stale)))
        to_dispatch = list(waiting.values_list("pk", flat=True)[:500])
        dead = list(ExportJob.objects.select_for_update(skip_locked=True)
                    .filter(state=ExportJob.State.RUNNING)
                    .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True))
                    .values_list("pk", "attempts")[:500])
        for pk, attempts in dead:
            if attempts >= settings.FJZL_JOB_MAX_ATTEMPTS:
                ExportJob.objects.filter(pk=pk).update(state=ExportJob.State.FAILED, finished_at=now,
                                                       error=STALE_MESSAGE.format(n=attempts))
                outcome.failed.append(pk)
            else:
                ExportJob.objects.filter(pk=pk).update(state=ExportJob.State.QUEUED, dispatched_at=None,
                                                       heartbeat_at=None)
                outcome.requeued.append(pk)
        if outcome.failed or outcome.requeued:
            audit(actor=acting_user, action="export_jobs_sweep", requeued=outcome.requeued,
                  failed=outcome.failed)
    for pk in to_dispatch + outcome.requeued:
        if dispatch(pk):
            outcome.dispatched.append(pk)
    return outcome


def _failure_message(job_id: int, exc: Exception) -> str:
    """What the job page says: a refusal written for the user (PermissionDenied / Http404 with a Chinese
    message) as it is, anything else as one generic sentence — never an exception class or a traceback."""
    from django.http import Http404

    text = str(exc)
    if isinstance(exc, PermissionDenied | Http404) and any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return f"导出失败：{text}"[:500]
    return FAILED_MESSAGE.format(id=job_id)


# --- offline template import --------------------------------------------------------------------------------

@dataclass
class ImportReport:
    """The outcome of an upload. ok=False: nothing was saved (refused file, or bad cells listed in issues)."""

    ok: bool
    message: str
    issues: list[CellIssue] = field(default_factory=list)
    saved: int = 0
    members_added: int = 0
    revision: int | None = None
    locked: bool = False  # refused because the form (or the changed field) is locked

    def as_dict(self) -> dict:
        return {"ok": self.ok, "message": self.message, "locked": self.locked, "saved": self.saved, "members_added": self.members_added,
                "revision": self.revision, "issues": [i.as_dict() for i in self.issues]}


def template_import(*, acting_user: User, submission_id: int, data: bytes) -> ImportReport:
    """Import a filled-in offline template into a submission: all or nothing.

    The file is refused as a whole when its marker is missing, altered, or names another unit, form, task or
    form version. Otherwise every changed value goes through reporting.actions.submission_save — the same
    normalisation and checks as typed input — inside one transaction; any bad cell (or a value changed on the
    web page since the download) rolls everything back and is reported with its sheet, cell and label.
    """

    submission = Submission.objects.select_related("unit", "task", "form_version").get(pk=submission_id)
    try:
        parsed = parse_template(data, submission)
    except TemplateRefused as exc:
        return ImportReport(ok=False, message=str(exc))
    issues = list(parsed.issues)
    saved = added = 0
    try:
        with transaction.atomic():
            keys: dict[str, str] = {}
            for wanted in parsed.new_members:
                reserved = None if wanted.startswith("new:") else wanted
                keys[wanted] = member_add(acting_user=acting_user, submission_id=submission.pk, key=reserved).key
            changes = []
            for change in parsed.changes:
                member = change.get("member") or ""
                if member in keys:
                    change = {**change, "member": keys[member]}
                changes.append(change)
            locations = dict(parsed.locations)
            for placeholder, key in keys.items():
                if placeholder == key:
                    continue
                for loc_key, where in parsed.locations.items():
                    if loc_key.startswith(placeholder + "/"):
                        locations[key + loc_key[len(placeholder):]] = where
            result = submission_save(acting_user=acting_user, submission_id=submission.pk, changes=changes,
                                     base_revision=parsed.base_revision)
            for key, message in result.errors.items():
                sheet, cell, label = locations.get(key, ("", "", key))
                issues.append(CellIssue(sheet, cell, label, message))
            for conflict in result.conflicts:
                loc_key = f"{conflict.member}/{conflict.field}" if conflict.member else conflict.field
                sheet, cell, label = locations.get(loc_key, ("", "", conflict.label))
                who = f"（{conflict.by} 于 {conflict.at}）" if conflict.by else ""
                issues.append(CellIssue(sheet, cell, label or conflict.label,
                                        f"模板下载后网页上已将该项改为“{_shown(conflict.theirs)}”{who}，"
                                        "为免覆盖，请重新下载模板后再填写。"))
            if issues:
                transaction.set_rollback(True)
            else:
                saved, added = len(result.saved), len(keys)
                audit(actor=acting_user, action="template_import", unit=submission.unit, obj=submission,
                      saved=saved, members_added=added)
    except FieldLocked as exc:
        return ImportReport(ok=False, message=f"未导入任何数据：{exc}", locked=True)
    except (SaveRefused, TransitionError) as exc:
        return ImportReport(ok=False, message=f"未导入任何数据：{exc}")
    if issues:
        issues.sort(key=lambda i: (i.sheet != LEAD_SHEET, i.sheet, _cell_order(i.cell)))
        return ImportReport(ok=False, issues=issues,
                            message=f"有 {len(issues)} 处内容需要修改，未导入任何数据。请按下表修改后重新上传。")
    submission.refresh_from_db(fields=["revision"])
    message = f"导入成功：更新 {saved} 项" + (f"，新增成员单位 {added} 个" if added else "") + "。"
    if not saved and not added:
        message = "文件中的数据与当前填报内容一致，没有需要更新的内容。"
    return ImportReport(ok=True, message=message, saved=saved, members_added=added, revision=submission.revision)


def _shown(value: object) -> str:
    return format_value(value, empty="（空）")


def _cell_order(cell: str) -> tuple[int, str]:
    digits = "".join(ch for ch in cell if ch.isdigit())
    letters = "".join(ch for ch in cell if ch.isalpha())
    return (int(digits) if digits else 0, letters.rjust(3))
