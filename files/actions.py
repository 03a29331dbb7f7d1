"""Writes of uploaded files. Each action: one transaction, one audit row."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from typing import IO

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import Unit, User, audit

from .models import FileKind, FileLimit, StoredFile
from .sniff import EXTENSIONS, FileRefused, check_extension, check_name, detect


def limits_for(unit: Unit) -> tuple[int, int]:
    """(max bytes of one file, max bytes of all files of the unit) as the administrator set them."""
    rows = {row.unit_id: row for row in FileLimit.objects.filter(Q(unit=unit) | Q(unit__isnull=True))}
    row = rows.get(unit.pk) or rows.get(None)
    if row is not None:
        return row.max_file_bytes, row.max_unit_bytes
    return (int(getattr(settings, "FILES_MAX_FILE_BYTES", 20 * 1024 * 1024)),
            int(getattr(settings, "FILES_MAX_UNIT_BYTES", 500 * 1024 * 1024)))


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f}MB" if n >= 1024 * 1024 else f"{max(n // 1024, 1)}KB"


def _may_write(user: User, unit: Unit) -> bool:
    return bool(user.is_platform_admin or (user.unit_id is not None and user.unit_id == unit.pk))


def _digest(fileobj: IO[bytes], limit: int) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    fileobj.seek(0)
    for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
        size += len(chunk)
        if size > limit:
            raise FileRefused(f"文件过大：单个文件不能超过{_mb(limit)}。", code="size")
        h.update(chunk)
    fileobj.seek(0)
    return size, h.hexdigest()


def file_store(*, acting_user: User, unit: Unit, upload: IO[bytes], name: str | None = None,
               purpose: str, kinds: Iterable[str] | None = None) -> StoredFile:
    """Validate an upload (name, size, content type, the unit's quota) and store it under a generated key.

    `upload` is a Django UploadedFile or any binary file object (then `name` is required). Raises FileRefused
    with a Chinese message; a refused file leaves nothing behind (no row, no object in storage). `kinds`
    narrows the allowed kinds (e.g. only PDF for a stamped scan)."""
    if not _may_write(acting_user, unit):
        raise FileRefused("只能为本单位上传文件。", code="permission")
    original = check_name(name if name is not None else getattr(upload, "name", ""))
    max_file, max_unit = limits_for(unit)
    declared = getattr(upload, "size", None)
    if declared is not None and declared > max_file:
        raise FileRefused(f"文件过大：单个文件不能超过{_mb(max_file)}。", code="size")
    size, sha256 = _digest(upload, max_file)
    if size == 0:
        raise FileRefused("文件为空。", code="empty")
    kind = detect(upload)
    if kinds is not None and kind not in set(kinds):
        allowed = "、".join(FileKind(k).label for k in kinds)
        raise FileRefused(f"此处只接受{allowed}文件。", code="type")
    check_extension(original, kind)
    storage = storages["default"]
    key = f"files/{unit.code}/{timezone.now():%Y%m}/{uuid.uuid4().hex}{EXTENSIONS[kind][0]}"
    with transaction.atomic():
        # The unit row is the lock that keeps two parallel uploads from both passing the quota.
        Unit.objects.select_for_update().filter(pk=unit.pk).first()
        used = StoredFile.objects.filter(unit=unit).aggregate(s=Sum("size"))["s"] or 0
        if used + size > max_unit:
            raise FileRefused(f"本单位上传文件总量不能超过{_mb(max_unit)}（已用{_mb(used)}）。", code="quota")
        upload.seek(0)
        saved_key = storage.save(key, File(upload, name=key))
        try:
            stored = StoredFile.objects.create(unit=unit, purpose=purpose, original_name=original, key=saved_key,
                                               size=size, sha256=sha256, kind=kind, uploaded_by=acting_user)
            audit(actor=acting_user, action="file_store", unit=unit, obj=stored, name=original, size=size,
                  kind=kind, purpose=purpose, sha256=sha256)
        except Exception:
            storage.delete(saved_key)
            raise
    return stored


def file_delete(*, acting_user: User, file_id: int) -> None:
    """Delete the row now and the stored object once the transaction has committed."""
    with transaction.atomic():
        stored = StoredFile.objects.select_for_update().select_related("unit").filter(pk=file_id).first()
        if stored is None:
            return  # already deleted: a retry is harmless
        if not _may_write(acting_user, stored.unit):
            raise FileRefused("只能删除本单位的文件。", code="permission")
        key = stored.key
        audit(actor=acting_user, action="file_delete", unit=stored.unit, obj=stored, name=stored.original_name,
              sha256=stored.sha256)
        stored.delete()
        transaction.on_commit(lambda: storages["default"].delete(key))
