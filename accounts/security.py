"""Which peer may speak for the client: forwarded headers are honoured only from the configured reverse proxy.

settings.FJZL_TRUSTED_PROXIES lists the proxy's addresses or networks. A request whose direct peer (REMOTE_ADDR)
is not among them has every forwarded header removed before anything reads it, so X-Forwarded-Proto cannot fake
HTTPS and X-Forwarded-For / X-Real-IP cannot fake the address that lockout and throttles count.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                     "HTTP_X_FORWARDED_PORT", "HTTP_X_REAL_IP", "HTTP_FORWARDED")


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def from_trusted_proxy(remote_addr: str) -> bool:
    proxies = tuple(getattr(settings, "FJZL_TRUSTED_PROXIES", ()) or ())
    if not proxies or not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in net for net in _networks(proxies))


def client_ip(request: HttpRequest) -> str:
    """The client's address: the proxy's header (settings.FJZL_CLIENT_IP_HEADER) when the peer is the trusted
    proxy, else the direct peer. Used by the lockout (django-axes) and the throttles."""
    meta = request.META
    header = getattr(settings, "FJZL_CLIENT_IP_HEADER", "")
    if header and from_trusted_proxy(meta.get("REMOTE_ADDR", "")):
        value = (meta.get(header) or "").split(",")[0].strip()
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            pass
    return meta.get("REMOTE_ADDR", "") or "0.0.0.0"


class TrustedProxyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not from_trusted_proxy(request.META.get("REMOTE_ADDR", "")):
            for name in FORWARDED_HEADERS:
                request.META.pop(name, None)
        return self.get_response(request)


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the proxy / orchestrator: answers without a session or the database."""
    return JsonResponse({"ok": True})
