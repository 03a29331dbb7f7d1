from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class UnitLevel(models.TextChoices):
    NATION = "nation", "国家"
    PROVINCE = "province", "省级"
    CITY = "city", "市级"
    URBAN_ALLIANCE = "urban_alliance", "城市医联体"
    COUNTY_ALLIANCE = "county_alliance", "县域医共体"
    MEMBER = "member", "成员单位"


ALLIANCE_LEVELS = (UnitLevel.URBAN_ALLIANCE, UnitLevel.COUNTY_ALLIANCE)


class Unit(models.Model):
    """A node of the administrative hierarchy: nation → province → city → alliance → member unit.

    `path` is a materialised path of codes ("/100000/370000/370100/") so a whole subtree is one indexed
    prefix query, which every scoped list and export relies on.
    """

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=200)
    level = models.CharField("层级", max_length=20, choices=UnitLevel.choices, db_index=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=400, db_index=True, editable=False)
    org_code = models.CharField("组织机构代码", max_length=32, blank=True)
    is_tcm = models.BooleanField("中医医院", default=False)
    sort_key = models.CharField(max_length=40, blank=True, db_index=True)

    class Meta:
        ordering = ["path"]
        verbose_name = "单位"
        verbose_name_plural = "单位"

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def save(self, *args, **kwargs) -> None:
        self.path = (self.parent.path if self.parent_id else "/") + f"{self.code}/"
        if not self.sort_key:
            self.sort_key = self.code
        super().save(*args, **kwargs)

    def is_within(self, other: Unit) -> bool:
        """True when self is `other` or lies below it."""
        return self.path.startswith(other.path)

    def ancestors(self) -> models.QuerySet[Unit]:
        codes = [c for c in self.path.strip("/").split("/") if c]
        return Unit.objects.filter(code__in=codes).order_by("path")


class Role(models.TextChoices):
    FILLER = "filler", "填报"
    REVIEWER = "reviewer", "审核"
    ANALYST = "analyst", "分析"
    ADMIN = "admin", "平台管理员"


class User(AbstractUser):
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="users")
    role = models.CharField("角色", max_length=20, choices=Role.choices, default=Role.FILLER)
    must_change_password = models.BooleanField("首次登录须修改密码", default=False)
    display_name = models.CharField("姓名", max_length=100, blank=True)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    @property
    def is_filler(self) -> bool:
        return self.role == Role.FILLER

    @property
    def is_reviewer(self) -> bool:
        return self.role == Role.REVIEWER

    @property
    def is_analyst(self) -> bool:
        return self.role == Role.ANALYST

    @property
    def is_platform_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    def __str__(self) -> str:
        return self.display_name or self.username


class AuditEvent(models.Model):
    """One row per write made through the action layer, written in the same transaction as the write."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # PROTECT: a user with a history cannot be deleted (deactivate instead), so no row ever loses its actor.
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=60, db_index=True)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=60, blank=True, db_index=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]


def audit(*, actor: User | None, action: str, unit: Unit | None = None, obj: models.Model | None = None,
          **data: object) -> AuditEvent:
    """Write an audit row; call it inside the action's transaction."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        unit=unit,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data,
    )


class ApiToken(models.Model):
    """An API token (header `Authorization: Token <key>`). Only a digest of the key is stored; the key is shown
    once when issued. Tokens expire (settings.FJZL_API_TOKEN_DAYS), can be revoked by their owner, and are all
    revoked when the password changes or is reset (accounts.actions)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField("前缀", max_length=8)
    name = models.CharField("名称", max_length=100, blank=True)
    created_at = models.DateTimeField("签发时间", auto_now_add=True)
    expires_at = models.DateTimeField("到期时间")
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"

    def __str__(self) -> str:
        return f"{self.prefix}…（{self.user}）"
