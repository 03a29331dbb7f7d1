"""结果发布 and the 数据查询平台: layered targets, indicator systems and scoring schemes as versioned data,
qualitative scores, frozen result releases (immutable, content-hashed) and objections."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import Unit
from reporting.models import Task


class LocalTarget(models.Model):
    """A province's or city's own target for an indicator, applying to its subtree (the national one stays in
    the catalog). Replacing a target deactivates the old row, so the history stays."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="设定单位")
    indicator_code = models.CharField("指标编码", max_length=40)
    op = models.CharField("比较", max_length=2)
    value = models.FloatField("目标值")
    source = models.CharField("依据文件", max_length=300)
    active = models.BooleanField(default=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    set_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["unit__path", "indicator_code", "-set_at"]
        constraints = [models.UniqueConstraint(fields=["unit", "indicator_code"], condition=models.Q(active=True),
                                               name="uniq_active_local_target")]


class IndicatorSystem(models.Model):
    """An immutable version of an indicator system (26号 附件1/附件2) identified by its content hash."""

    code = models.CharField(max_length=40, db_index=True)
    name = models.CharField(max_length=200)
    content_hash = models.CharField(max_length=64, unique=True)
    definition = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "-created_at"]

    def save(self, *args, **kwargs) -> None:
        if self.pk:
            raise ValueError("IndicatorSystem rows are immutable; load a new version instead.")
        super().save(*args, **kwargs)


class SchemeStatus(models.TextChoices):
    DRAFT = "draft", "草案"
    ADOPTED = "adopted", "已采用"
    RETIRED = "retired", "已停用"


class ScoringScheme(models.Model):
    """Weights, rules and grade bands (data). The nation's scheme, or a province's adjusted copy for its
    subtree. The definition never changes once saved: a change is a new row with its own hash."""

    code = models.CharField(max_length=60)
    name = models.CharField(max_length=200)
    annex = models.CharField(max_length=10)
    system = models.ForeignKey(IndicatorSystem, on_delete=models.PROTECT, related_name="schemes")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="适用单位")
    base = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    definition = models.JSONField()
    content_hash = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=10, choices=SchemeStatus.choices, default=SchemeStatus.DRAFT)
    reason = models.TextField("调整理由", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    adopted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["annex", "unit__path", "-created_at"]


class QualitativeScore(models.Model):
    """A reviewer's rubric level for a 定性 item of one unit in one task."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    item_code = models.CharField(max_length=20)
    level = models.CharField(max_length=20)
    note = models.TextField(blank=True)
    scored_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                  related_name="+")
    scored_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "unit", "item_code"], name="uniq_qual_score")]


class ReleaseStatus(models.TextChoices):
    FROZEN = "frozen", "已冻结"
    FEEDBACK = "feedback", "反馈中"
    DECIDED = "decided", "反馈已处理"
    PUBLISHED = "published", "已发布"
    SUPERSEDED = "superseded", "已被新版本替代"


class Audience(models.TextChoices):
    PROVINCE = "province", "省级"
    SECTOR = "sector", "行业内"
    PUBLIC = "public", "公众"


AUDIENCE_RANK = {"": 0, Audience.PROVINCE: 1, Audience.SECTOR: 2, Audience.PUBLIC: 3}


class Release(models.Model):
    """A frozen results snapshot of a task (values, indicators, targets, scores, grades, ranks).

    The snapshot and its hash never change; a correction is a new version with a change log."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=ReleaseStatus.choices, default=ReleaseStatus.FROZEN)
    audience = models.CharField(max_length=10, choices=Audience.choices, blank=True)
    snapshot = models.JSONField()
    content_hash = models.CharField(max_length=64)
    change_log = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    frozen_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    frozen_at = models.DateTimeField(auto_now_add=True)
    feedback_until = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["task", "-version"]
        constraints = [models.UniqueConstraint(fields=["task", "version"], name="uniq_release_version")]

    def __str__(self) -> str:
        return f"{self.task.code} v{self.version}"


class ObjectionStatus(models.TextChoices):
    OPEN = "open", "待处理"
    ACCEPTED = "accepted", "已采纳"
    REJECTED = "rejected", "不予采纳"
    WITHDRAWN = "withdrawn", "已撤回"


class Objection(models.Model):
    """A province's objection to one indicator of one unit's result card in a release's feedback window."""

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="objections")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    indicator_code = models.CharField(max_length=40)
    text = models.TextField("异议内容")
    status = models.CharField(max_length=10, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    filed_at = models.DateTimeField(auto_now_add=True)
    decision = models.TextField("处理意见", blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-filed_at", "-id"]
