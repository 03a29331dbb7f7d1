"""Uploaded files: the original name is kept for display and download; the bytes live in Django's default
storage (local file system or S3-compatible object storage) under a generated key."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import Unit


class FileKind(models.TextChoices):
    """The allowed types, decided from the content (files.sniff), never from the name."""

    PDF = "pdf", "PDF"
    DOCX = "docx", "Word（.docx）"
    DOC = "doc", "Word（.doc）"
    XLSX = "xlsx", "Excel（.xlsx）"
    JPEG = "jpeg", "JPEG图片"
    PNG = "png", "PNG图片"


MIME_TYPES = {
    FileKind.PDF: "application/pdf",
    FileKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileKind.DOC: "application/msword",
    FileKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileKind.JPEG: "image/jpeg",
    FileKind.PNG: "image/png",
}


class StoredFile(models.Model):
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="stored_files", verbose_name="所属单位")
    purpose = models.CharField("用途", max_length=40, db_index=True)
    original_name = models.CharField("文件名", max_length=200)
    key = models.CharField("存储键", max_length=300, unique=True, editable=False)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64, db_index=True)
    kind = models.CharField("类型", max_length=10, choices=FileKind.choices)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name="上传人")
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "文件"
        verbose_name_plural = "文件"

    def __str__(self) -> str:
        return self.original_name

    @property
    def mime_type(self) -> str:
        return MIME_TYPES.get(self.kind, "application/octet-stream")


class FileLimit(models.Model):
    """Upload limits set by the platform administrator: a row without a unit is the default for every unit, a
    row with a unit overrides it for that unit. Without any row the settings FILES_MAX_FILE_BYTES /
    FILES_MAX_UNIT_BYTES apply."""

    unit = models.OneToOneField(Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                verbose_name="单位（空 = 所有单位的默认值）")
    max_file_bytes = models.PositiveBigIntegerField("单个文件上限（字节）")
    max_unit_bytes = models.PositiveBigIntegerField("单位文件总量上限（字节）")

    class Meta:
        verbose_name = "文件大小限制"
        verbose_name_plural = "文件大小限制"
        constraints = [models.UniqueConstraint(fields=["unit"], condition=models.Q(unit__isnull=True),
                                               name="files_one_default_limit")]

    def __str__(self) -> str:
        return f"{self.unit.name if self.unit_id else '默认'}：{self.max_file_bytes} / {self.max_unit_bytes}"
