"""Writes of self-assessment reports and their evidence files. Each action: one transaction, one audit row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO

from django.core.files.storage import storages
from django.db import transaction

from accounts.models import User, audit
from files.actions import file_delete, file_store
from files.models import FileKind
from files.sniff import FileRefused
from reporting.models import Submission, SubmissionSnapshot, Task
from reporting.policy import can_edit

from .catalog import default_plans, framework_version_for, read_framework
from .models import Attachment, Report, ReportSnapshot, TaskReport
from .sanitize import clean_html
from .selectors import plan_for

EVIDENCE = "report_evidence"
STAMPED = "report_stamped"


class ReportRefused(Exception):
    """A report write that cannot be done; the message is for the user."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class ReportSaveResult:
    report: Report
    saved: list[str] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)  # [{key, heading, yours, theirs}]


# --- plans -----------------------------------------------------------------------------------------------------

@transaction.atomic
def report_plans_ensure(*, acting_user: User | None, task: Task) -> int:
    """Give the task the frameworks its catalog names (frameworks/plans.json); idempotent, keeps overrides."""
    existing = set(TaskReport.objects.filter(task=task).values_list("unit_level", flat=True))
    created = 0
    for plan in default_plans(task.catalog_slug):
        framework = framework_version_for(read_framework(plan["framework"]))
        for level in plan["levels"]:
            if level in existing:
                continue
            TaskReport.objects.create(task=task, unit_level=level, framework=framework,
                                      required_for_submit=bool(plan.get("required_for_submit", True)))
            created += 1
    if created:
        audit(actor=acting_user, action="report_plans_ensure", obj=task, created=created)
    return created


@transaction.atomic
def task_report_set(*, acting_user: User | None, task: Task, unit_level: str, framework_code: str | None,
                    required_for_submit: bool = True) -> TaskReport | None:
    """Choose the framework a level writes for a task (e.g. 国卫医发〔2018〕26号 附件3), or none."""
    if acting_user is not None and not acting_user.is_platform_admin:
        raise ReportRefused("只有平台管理员可以设置自评估报告框架。", code="permission")
    if framework_code is None:
        TaskReport.objects.filter(task=task, unit_level=unit_level).delete()
        audit(actor=acting_user, action="task_report_set", obj=task, level=unit_level, framework=None)
        return None
    framework = framework_version_for(read_framework(framework_code))
    plan, _ = TaskReport.objects.update_or_create(task=task, unit_level=unit_level, defaults={
        "framework": framework, "required_for_submit": required_for_submit})
    audit(actor=acting_user, action="task_report_set", obj=task, level=unit_level, framework=framework_code,
          version=framework.content_hash, required=required_for_submit)
    return plan


# --- the report ------------------------------------------------------------------------------------------------

def _locked_submission(submission_id: int, acting_user: User) -> Submission:
    submission = (Submission.objects.select_for_update().select_related("unit", "task", "form_version")
                  .get(pk=submission_id))
    # The whole form must be open: fields unlocked for a rectification (sampling) do not reopen the report.
    decision = can_edit(acting_user, submission)
    if not decision.allowed:
        raise ReportRefused(decision.reason, code="permission" if decision.code == "role" else "locked")
    return submission


def _report_of(submission: Submission) -> Report:
    report = Report.objects.select_for_update().filter(submission=submission).first()
    if report is not None:
        return report
    plan = plan_for(submission)
    if plan is None:
        raise ReportRefused("本任务不要求该单位提交自评估报告。", code="no_report")
    return Report.objects.create(submission=submission, framework=plan.framework)


def report_save(*, acting_user: User, submission_id: int, sections: dict[str, str],
                base_revision: int | None = None) -> ReportSaveResult:
    """Save section texts (sanitised HTML). With `base_revision` (the revision the editor loaded), a section
    someone else changed since then is not overwritten: it comes back as a conflict with both texts."""
    with transaction.atomic():
        submission = _locked_submission(submission_id, acting_user)
        report = _report_of(submission)
        writable = {s["key"]: s for s in report.framework.writable_sections}
        result = ReportSaveResult(report=report)
        changed: dict[str, str] = {}
        for key, raw in sections.items():
            if key not in writable:
                raise ReportRefused(f"报告框架中没有章节“{key}”。")
            text = clean_html(str(raw or ""))
            stored = report.sections.get(key, "")
            if text == stored:
                continue
            if base_revision is not None and report.section_revisions.get(key, 0) > base_revision:
                result.conflicts.append({"key": key, "heading": writable[key]["heading"], "yours": text,
                                         "theirs": stored})
                continue
            changed[key] = text
        if not changed:
            return result
        report.revision += 1
        for key, text in changed.items():
            if text:
                report.sections[key] = text
            else:
                report.sections.pop(key, None)
            report.section_revisions[key] = report.revision
            result.saved.append(key)
        report.updated_by = acting_user
        report.save()
        audit(actor=acting_user, action="report_save", unit=submission.unit, obj=report, sections=result.saved,
              revision=report.revision)
    return result


# --- evidence --------------------------------------------------------------------------------------------------

def attachment_add(*, acting_user: User, submission_id: int, upload: IO[bytes], name: str | None = None,
                   section: str = "", field_code: str = "", stamped: bool = False) -> Attachment:
    """Attach an evidence file to a report section, a form field, or the report; `stamped` stores the
    盖章扫描件 (PDF only), replacing an earlier one."""
    section, field_code = (section or "").strip(), (field_code or "").strip()
    if section and field_code:
        raise ReportRefused("附件只能关联一个章节或一个指标。")
    with transaction.atomic():
        submission = _locked_submission(submission_id, acting_user)
        report = Report.objects.select_for_update().filter(submission=submission).first()
        if stamped or section:
            report = report or _report_of(submission)
        if section and section not in {s["key"] for s in report.framework.writable_sections}:
            raise ReportRefused(f"报告框架中没有章节“{section}”。")
        if field_code and field_code not in {f["code"] for f in submission.form_version.definition.get("fields", [])}:
            raise ReportRefused(f"表中没有指标“{field_code}”。")
        stored = file_store(acting_user=acting_user, unit=submission.unit, upload=upload, name=name,
                            purpose=STAMPED if stamped else EVIDENCE, kinds=[FileKind.PDF] if stamped else None)
        try:
            attachment = Attachment.objects.create(submission=submission, file=stored,
                                                   section="" if stamped else section, field=field_code,
                                                   stamped=stamped)
            if stamped:
                old = report.stamped
                report.stamped = stored
                report.save(update_fields=["stamped", "updated_at"])
                if old is not None:
                    file_delete(acting_user=acting_user, file_id=old.pk)
            audit(actor=acting_user, action="attachment_add", unit=submission.unit, obj=attachment,
                  submission=submission.pk, name=stored.original_name, section=section, field=field_code,
                  stamped=stamped)
        except Exception:
            storages["default"].delete(stored.key)
            raise
    return attachment


def attachment_delete(*, acting_user: User, attachment_id: int) -> None:
    with transaction.atomic():
        attachment = Attachment.objects.select_related("file").filter(pk=attachment_id).first()
        if attachment is None:
            return
        submission = _locked_submission(attachment.submission_id, acting_user)
        audit(actor=acting_user, action="attachment_delete", unit=submission.unit, obj=attachment,
              name=attachment.file.original_name)
        Report.objects.filter(submission=submission, stamped=attachment.file).update(stamped=None)
        try:
            file_delete(acting_user=acting_user, file_id=attachment.file_id)
        except FileRefused as e:
            raise ReportRefused(e.message, code="permission") from e


# --- workflow hooks (called inside review's submit transaction) ---------------------------------------------------

def report_snapshot(submission: Submission, snapshot: SubmissionSnapshot, acting_user: User) -> None:
    report = Report.objects.filter(submission=submission).select_related("stamped").first()
    if report is None:
        return
    files = [{"id": a.pk, "file": a.file_id, "name": a.file.original_name, "size": a.file.size,
              "sha256": a.file.sha256, "section": a.section, "field": a.field}
             for a in submission.attachments.select_related("file")]
    stamped = ({"file": report.stamped_id, "name": report.stamped.original_name, "sha256": report.stamped.sha256}
               if report.stamped_id else None)
    ReportSnapshot.objects.create(report=report, submission_snapshot=snapshot, revision=report.revision,
                                  sections=report.sections, attachments=files, stamped=stamped)
    audit(actor=acting_user, action="report_snapshot", unit=submission.unit, obj=report, revision=report.revision)
