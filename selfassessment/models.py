"""Self-assessment reports (自评估报告) on the documents' frameworks, with evidence files (佐证材料)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import UnitLevel
from files.models import StoredFile
from reporting.models import Submission, SubmissionSnapshot, Task


class ReportFramework(models.Model):
    """An immutable framework definition (headings, guidance, facts per section) identified by its content hash,
    as FormVersion is for forms: a changed framework is a new row, written reports keep theirs."""

    code = models.CharField(max_length=40, db_index=True)
    title = models.CharField(max_length=200)
    content_hash = models.CharField(max_length=64, unique=True)
    definition = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "-created_at"]

    def __str__(self) -> str:
        return f"{self.title} [{self.content_hash[:8]}]"

    def save(self, *args, **kwargs) -> None:
        if self.pk:
            raise ValueError("ReportFramework rows are immutable; create a new version instead.")
        super().save(*args, **kwargs)

    @property
    def sections(self) -> list[dict]:
        return list(self.definition.get("sections", []))

    @property
    def writable_sections(self) -> list[dict]:
        return [s for s in self.sections if s.get("writable")]


class TaskReport(models.Model):
    """Which framework the units of one level write for a task, and whether 上报 needs the report."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="report_plans")
    unit_level = models.CharField(max_length=20, choices=UnitLevel.choices)
    framework = models.ForeignKey(ReportFramework, on_delete=models.PROTECT, related_name="+")
    required_for_submit = models.BooleanField("上报时必须提交自评估报告", default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "unit_level"], name="uniq_task_report_level")]
        ordering = ["task", "unit_level"]


class Report(models.Model):
    """One unit's report for one task, kept with its form's submission (locked and snapshotted with it)."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="report")
    framework = models.ForeignKey(ReportFramework, on_delete=models.PROTECT, related_name="reports")
    sections = models.JSONField(default=dict, blank=True)  # section key -> sanitised HTML
    # section key -> the report revision that last changed it (conflict check of concurrent edits)
    section_revisions = models.JSONField(default=dict, blank=True)
    revision = models.PositiveIntegerField(default=0)
    stamped = models.OneToOneField(StoredFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name="盖章扫描件")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["submission__unit__path"]


class Attachment(models.Model):
    """An evidence file (佐证材料) attached to a report section, to a form field, or to the report as a whole."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="attachments")
    file = models.OneToOneField(StoredFile, on_delete=models.CASCADE, related_name="attachment")
    section = models.CharField(max_length=40, blank=True)
    field = models.CharField(max_length=80, blank=True)
    stamped = models.BooleanField("盖章扫描件", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class ReportSnapshot(models.Model):
    """The report as it was submitted, next to the form's snapshot."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="snapshots")
    submission_snapshot = models.OneToOneField(SubmissionSnapshot, null=True, on_delete=models.CASCADE,
                                               related_name="report_snapshot")
    revision = models.PositiveIntegerField()
    sections = models.JSONField()
    attachments = models.JSONField(default=list)  # [{id, name, size, sha256, section, field}]
    stamped = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
