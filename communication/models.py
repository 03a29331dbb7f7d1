"""Notices and the download area (通知公告 / 下载区), the 留言板 with its FAQ, and outgoing messages (e-mail
deliveries, contact preferences).

Audience of a notice: the publishing unit's subtree, narrowed by unit level and role (stored as ",a,b," so one
portable LIKE filter answers "is my level in it"; "" = everybody in the subtree).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import Unit
from reporting.models import Task


class NoticeKind(models.TextChoices):
    NOTICE = "notice", "通知公告"
    DOWNLOAD = "download", "下载区"


class Notice(models.Model):
    kind = models.CharField("类别", max_length=20, choices=NoticeKind.choices, default=NoticeKind.NOTICE)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("正文", blank=True)
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             verbose_name="所属任务")  # null = every task
    publisher = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    publisher_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="发布单位")
    audience_levels = models.CharField(max_length=200, blank=True, default="")
    audience_roles = models.CharField(max_length=200, blank=True, default="")
    pinned = models.BooleanField("置顶", default=False)
    published_at = models.DateTimeField("发布时间", db_index=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pinned", "-published_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @staticmethod
    def pack(values) -> str:
        values = [v for v in values if v]
        return f",{','.join(values)}," if values else ""

    @property
    def levels(self) -> list[str]:
        return [v for v in self.audience_levels.split(",") if v]

    @property
    def roles(self) -> list[str]:
        return [v for v in self.audience_roles.split(",") if v]


class NoticeAttachment(models.Model):
    """A file of a notice, stored through the `files` app (scoped, content-checked)."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="attachments")
    stored_file = models.ForeignKey("files.StoredFile", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=255)
    size = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["id"]


class NoticeRead(models.Model):
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notice", "user"], name="uniq_notice_read")]


class QuestionCategory(models.TextChoices):
    INDICATOR = "indicator", "指标口径"
    SYSTEM = "system", "系统使用"
    ACCOUNT = "account", "账号"


class QuestionStatus(models.TextChoices):
    PENDING = "pending", "待答复"
    ANSWERED = "answered", "已答复"
    CLOSED = "closed", "已关闭"


class Question(models.Model):
    """A 留言板 thread. `responsible_unit` answers it (the supervising unit; the nation for 指标口径)."""

    category = models.CharField("类别", max_length=20, choices=QuestionCategory.choices)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    responsible_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    form_code = models.CharField("表", max_length=20, blank=True, db_index=True)
    field_code = models.CharField("指标", max_length=80, blank=True)
    status = models.CharField("状态", max_length=20, choices=QuestionStatus.choices,
                              default=QuestionStatus.PENDING, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["form_code", "field_code"])]

    def __str__(self) -> str:
        return self.title


class Reply(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    unit = models.ForeignKey(Unit, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    is_answer = models.BooleanField(default=False)  # written by the answering level (not the asker)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class QuestionTransition(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]


class FaqEntry(models.Model):
    """常见问题: promoted from an answered question; tied to a form field when the question was."""

    category = models.CharField("类别", max_length=20, choices=QuestionCategory.choices)
    question_text = models.TextField("问题")
    answer_text = models.TextField("解答")
    form_code = models.CharField(max_length=20, blank=True)
    field_code = models.CharField(max_length=80, blank=True)
    source = models.ForeignKey(Question, null=True, blank=True, on_delete=models.SET_NULL, related_name="faq")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["form_code", "field_code", "-created_at", "-id"]
        indexes = [models.Index(fields=["form_code", "field_code"])]


# --- outgoing messages ----------------------------------------------------------------------------------------

class Category(models.TextChoices):
    """What a message is about; each can be unsubscribed on its own."""

    REVIEW_PENDING = "review_todo", "待审核提醒"
    REVIEW_RESULT = "review_result", "审核结果与批注"
    REMINDER = "reminder", "催报与逾期提醒"
    QA = "qa", "留言板答复"
    NOTICE = "notice", "通知公告"
    RECTIFICATION = "rectification", "整改事项"
    DIGEST = "digest", "每日汇总"


class ContactPreference(models.Model):
    """Per user: mobile number, digest instead of single mails, quiet hours, unsubscribed categories."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact")
    mobile = models.CharField("手机号", max_length=20, blank=True)
    daily_digest = models.BooleanField("每日汇总发送", default=False)
    quiet_start = models.TimeField("免打扰开始", null=True, blank=True)
    quiet_end = models.TimeField("免打扰结束", null=True, blank=True)
    unsubscribed = models.CharField(max_length=300, blank=True, default="")  # ",reminder,notice,"

    def is_unsubscribed(self, category: str) -> bool:
        return f",{category}," in self.unsubscribed


class DeliveryState(models.TextChoices):
    PENDING = "pending", "待发送"
    HELD = "held", "等待汇总"
    DIGESTED = "digested", "已并入汇总"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"
    SKIPPED = "skipped", "未发送"


class Delivery(models.Model):
    """One message to one person over one channel, written in the same transaction as the event.

    `key` makes an event idempotent (a second call for the same event and person writes nothing); the sender
    locks the row, sends only when it is still pending and marks it sent in the same transaction.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=20, default="email")
    category = models.CharField(max_length=20, choices=Category.choices)
    event = models.CharField(max_length=40)
    key = models.CharField(max_length=200)
    address = models.CharField(max_length=254)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    url = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING,
                             db_index=True)
    not_before = models.DateTimeField(db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    digest = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="parts")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "channel", "key"], name="uniq_delivery_key")]
        indexes = [models.Index(fields=["state", "not_before"])]
