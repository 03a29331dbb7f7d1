"""Sampling (抽检), rectification (整改) and on-site verification (现场抽查) of approved submissions."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import Unit
from reporting.models import Submission, Task


class Batch(models.Model):
    """One 抽检批次: a reproducible selection of approved submissions of one task within a scope unit."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="+")
    scope_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="抽检范围")
    name = models.CharField("批次名称", max_length=200)
    seed = models.BigIntegerField("随机种子")
    params = models.JSONField("抽样参数", default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Part(models.TextChoices):
    RISK = "risk", "风险抽样"
    RANDOM = "random", "随机抽样"


class Sample(models.Model):
    """One sampled submission of a batch, with the reasons it was chosen and its values at sampling time."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="samples")
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    part = models.CharField(max_length=10, choices=Part.choices)
    score = models.FloatField(default=0)
    reasons = models.JSONField(default=list)  # [{"kind": "hard"|"outlier"|..., "text": "…"}]
    # {"values": {...}, "members": {key: {...}}}: what the sampler saw, so every correction shows its diff
    values_at_sampling = models.JSONField(default=dict)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["batch", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["batch", "submission"], name="uniq_batch_submission")]


class ItemState(models.TextChoices):
    OPEN = "open", "待整改"
    ANSWERED = "answered", "已答复"
    ESCALATED = "escalated", "已升级"
    CLOSED = "closed", "已关闭"


class Target(models.TextChoices):
    FIELD = "field", "指标"
    REPORT = "report", "自评报告"


class Item(models.Model):
    """One 整改要求 on one field (lead form or a member entry) or on a section of the self-assessment report."""

    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="items")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="items")
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    target = models.CharField(max_length=10, choices=Target.choices, default=Target.FIELD)
    field_code = models.CharField(max_length=80, blank=True)
    member_key = models.CharField(max_length=36, blank=True)
    section = models.CharField(max_length=120, blank=True)  # report target: the report's section key
    label = models.CharField(max_length=300, blank=True)  # what the item points at, as shown
    text = models.TextField("整改要求")
    deadline = models.DateField("整改期限")
    state = models.CharField(max_length=12, choices=ItemState.choices, default=ItemState.OPEN, db_index=True)
    original_value = models.JSONField(null=True, blank=True)  # the value at sampling time
    answer = models.TextField("整改说明", blank=True)
    answered_value = models.JSONField(null=True, blank=True)  # the value when the unit answered
    value_changed = models.BooleanField(default=False)
    evidence_file_id = models.PositiveIntegerField(null=True, blank=True)  # files.StoredFile, when present
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    rounds = models.PositiveIntegerField(default=1)
    # The day the unit was last reminded of the deadline (items_remind_due): at most one reminder per item a day.
    reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["submission", "state"])]


class ItemStep(models.Model):
    """Every move of an item (written only by sampling.transitions.item_transition)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(max_length=20)
    from_state = models.CharField(max_length=12, choices=ItemState.choices, blank=True)
    to_state = models.CharField(max_length=12, choices=ItemState.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    LABELS = {"raise": "提出", "answer": "答复", "close": "关闭", "reopen": "退回", "escalate": "升级"}

    class Meta:
        ordering = ["at", "id"]

    @property
    def action_label(self) -> str:
        return self.LABELS.get(self.action, self.action)


class OnsiteCheck(models.Model):
    """现场抽查: one sampled field's reported value against the value verified from source documents."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="onsite_checks")
    field_code = models.CharField(max_length=80)
    member_key = models.CharField(max_length=36, blank=True)
    label = models.CharField(max_length=300, blank=True)
    reported = models.FloatField("上报值")
    verified = models.FloatField("核实值")
    inspector = models.CharField("核查人", max_length=100)
    checked_on = models.DateField("核查日期")
    conclusion = models.TextField("核查结论", blank=True)
    attachment_ids = models.JSONField(default=list, blank=True)  # files.StoredFile ids, when present
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sample", "field_code", "member_key"]
        constraints = [models.UniqueConstraint(fields=["sample", "field_code", "member_key"],
                                               name="uniq_onsite_field")]

    @property
    def factor(self) -> float | None:
        """Verification factor (WHO DQR module 3): verified / reported; None when nothing was reported."""
        return None if self.reported == 0 else self.verified / self.reported
