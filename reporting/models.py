from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Unit


class Task(models.Model):
    """One assessment round, e.g. 2019年分级诊疗第三方评估: a reporting period and a filing window."""

    code = models.CharField("任务编码", max_length=40, unique=True)
    name = models.CharField("任务名称", max_length=200)
    period_start = models.DateField("统计周期开始")
    period_end = models.DateField("统计周期结束")
    window_open = models.DateTimeField("填报开始时间")
    window_close = models.DateTimeField("填报截止时间")
    catalog_slug = models.CharField("指标目录", max_length=60)
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 verbose_name="上一期任务")
    is_current = models.BooleanField("当前任务", default=False)
    # Content key of the form versions the task uses (sha256 over their content hashes), set with them by
    # reporting.actions: a save finds its compiled catalog in the per-process cache without a query.
    catalog_key = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        verbose_name = "任务"
        verbose_name_plural = "任务"

    def __str__(self) -> str:
        return self.name

    def window_is_open(self, at=None) -> bool:
        at = at or timezone.now()
        return self.window_open <= at <= self.window_close


class FormVersion(models.Model):
    """An immutable form definition (fields, checks, indicators) identified by its content hash.

    Rows are never updated: a changed definition is a new row, and submissions stay pinned to the version
    they were filled against (as KoboToolbox's AssetVersion).
    """

    form_code = models.CharField(max_length=20, db_index=True)
    title = models.CharField(max_length=200)
    content_hash = models.CharField(max_length=64, unique=True)
    definition = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["form_code", "-created_at"]

    def __str__(self) -> str:
        return f"{self.title} [{self.content_hash[:8]}]"

    def save(self, *args, **kwargs) -> None:
        if self.pk and not kwargs.pop("allow_update", False):
            raise ValueError("FormVersion rows are immutable; create a new version instead.")
        super().save(*args, **kwargs)


class TaskForm(models.Model):
    """Which version of each form a task currently uses."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="task_forms")
    form_code = models.CharField(max_length=20)
    version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "form_code"], name="uniq_task_form")]
        ordering = ["form_code"]


class Status(models.TextChoices):
    NOT_STARTED = "not_started", "未填报"
    DRAFT = "draft", "填报中"
    SUBMITTED = "submitted", "已上报"
    APPROVED = "approved", "审核通过"
    REJECTED = "rejected", "已驳回"
    RECHECKED = "rechecked", "复核通过"


EDITABLE_STATUSES = (Status.NOT_STARTED, Status.DRAFT, Status.REJECTED)


class Submission(models.Model):
    """One unit's form for one task (a lead form of 表3/表4 carries its member sub-form entries)."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="submissions")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="submissions")
    form_code = models.CharField(max_length=20, db_index=True)
    form_version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="submissions")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_STARTED, db_index=True)
    values = models.JSONField(default=dict, blank=True)
    explanations = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    # Optimistic concurrency: each save must name the revision it was based on.
    revision = models.PositiveIntegerField(default=0)
    deadline_override = models.DateTimeField("延期截止时间", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="+")
    last_reason = models.TextField("最近驳回/撤销原因", blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "unit", "form_code"], name="uniq_submission")]
        indexes = [models.Index(fields=["task", "form_code", "status"])]
        ordering = ["unit__path", "form_code"]

    def __str__(self) -> str:
        return f"{self.unit.name} · {self.form_code} · {self.get_status_display()}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    def deadline(self):
        return self.deadline_override or self.task.window_close

    def window_is_open(self, at=None) -> bool:
        at = at or timezone.now()
        return self.task.window_open <= at <= self.deadline()


class MemberEntry(models.Model):
    """One repeated member sub-form (成员单位 / 乡镇卫生院) of a 表3/表4 submission."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="members")
    key = models.CharField(max_length=36)  # stable client-side id (uuid) so autosave can address an entry
    position = models.PositiveIntegerField(default=0)
    member_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    values = models.JSONField(default=dict, blank=True)
    explanations = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["submission", "key"], name="uniq_member_key")]
        ordering = ["position", "id"]


class ValueChange(models.Model):
    """Audit of every saved change of a value: old → new, who, when."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="value_changes")
    member_key = models.CharField(max_length=36, blank=True)
    field_code = models.CharField(max_length=80)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]


class Transition(models.Model):
    """Every status change: who, when, from/to, why. Written only by reporting.workflow.transition()."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=Status.choices)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    action = models.CharField(max_length=30)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "review_transition"  # created by review 0001; the model moved here with the workflow
        ordering = ["-at", "-id"]


class SubmissionSnapshot(models.Model):
    """The values and engine results as they were when submitted."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="snapshots")
    revision = models.PositiveIntegerField()
    values = models.JSONField()
    members = models.JSONField(default=list)
    explanations = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    form_version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
