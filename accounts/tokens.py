"""API token keys: random, stored only as a SHA-256 digest (a leaked database row cannot be replayed)."""

from __future__ import annotations

import hashlib
import secrets

from django.db.models import QuerySet
from django.utils import timezone

from .models import ApiToken


def new_key() -> str:
    return secrets.token_hex(20)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def active_tokens() -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


def token_for_key(key: str) -> ApiToken | None:
    return active_tokens().select_related("user", "user__unit").filter(digest=digest(key)).first()
