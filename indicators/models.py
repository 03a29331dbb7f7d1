"""Re-evaluation jobs: a task's started submissions re-evaluated in id ranges (chunks), each a Celery task.

The rows are the source of truth (indicators.actions.reevaluation_jobs_sweep): a chunk whose worker died is run
again or, after settings.FJZL_JOB_MAX_ATTEMPTS runs, fails its job with a Chinese message — never stuck."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from reporting.models import Task


class JobState(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "重新审核中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class ReevaluationJob(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reevaluation_jobs",
                             verbose_name="任务")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name="发起人")
    state = models.CharField("状态", max_length=20, choices=JobState.choices, default=JobState.QUEUED)
    total = models.PositiveIntegerField("报表数", default=0)
    evaluated = models.PositiveIntegerField("已审核", default=0)
    changed = models.PositiveIntegerField("结果有变化", default=0)
    error = models.TextField("失败原因", blank=True)
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "重新审核任务"

    def __str__(self) -> str:
        return f"重新审核 #{self.pk}"


class ReevaluationChunk(models.Model):
    """One id range of a job: what one Celery task re-evaluates."""

    job = models.ForeignKey(ReevaluationJob, on_delete=models.CASCADE, related_name="chunks")
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    size = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=20, choices=JobState.choices, default=JobState.QUEUED)
    # when it was handed to the broker (None = not yet, e.g. Redis was down), the last sign of life of its run,
    # how many runs were started
    dispatched_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    evaluated = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job_id", "first_id"]
        indexes = [models.Index(fields=["state"], name="indicators_chunk_state")]
