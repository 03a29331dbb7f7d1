from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import Unit
from reporting.models import Task


class ExportJob(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "生成中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    kind = models.CharField(max_length=30, default="task")  # task | progress | audit
    task = models.ForeignKey(Task, null=True, on_delete=models.CASCADE, related_name="+")
    scope_unit = models.ForeignKey(Unit, null=True, on_delete=models.CASCADE, related_name="+")
    params = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    file = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The job row is the source of truth (exports.actions.jobs_sweep): when it was handed to the broker (None =
    # not yet, e.g. Redis was down), the last sign of life of the run, and how many runs were started.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
