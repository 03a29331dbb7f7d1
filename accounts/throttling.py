"""DRF throttles that hold without Redis and cannot be dodged with a forged header.

The login throttle counts in the database cache ("throttle" in settings.CACHES); every throttle identifies an
anonymous client by accounts.security.client_ip (REMOTE_ADDR, or the trusted proxy's header) instead of DRF's
default, which believes any X-Forwarded-For.
"""

from __future__ import annotations

from django.core.cache import caches
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle

from accounts.security import client_ip


class LoginRateThrottle(ScopedRateThrottle):
    cache = caches["throttle"]

    def get_ident(self, request) -> str:
        return client_ip(request)


class UserThrottle(UserRateThrottle):
    def get_ident(self, request) -> str:
        return client_ip(request)
