from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from .authentication import MUST_CHANGE_PASSWORD


class ForcePasswordChangeMiddleware:
    """A user with a one-time password can do nothing until it is changed (pages redirect, API answers 403).

    Token-authenticated API calls are resolved inside DRF, so accounts.authentication refuses those.
    """

    ALLOWED_NAMES = ("password_change", "password_change_done", "logout", "login")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            path = request.path
            allowed = {reverse(n) for n in self.ALLOWED_NAMES}
            static = [p for p in (settings.STATIC_URL, settings.MEDIA_URL) if p]
            if path not in allowed and not any(path.startswith("/" + p.lstrip("/")) for p in static):
                if path.startswith("/api/"):
                    return JsonResponse({"detail": MUST_CHANGE_PASSWORD, "code": "must_change_password"},
                                        status=403)
                query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
                return redirect(reverse("password_change") + (f"?{query}" if query else ""))
        return self.get_response(request)


LOGIN_AT = "fjzl_login_at"
RENEWED_AT = "fjzl_renewed_at"
SESSION_ENDED = "登录已超过最长有效时间，请重新登录。"


def stamp_login_time(sender: object, request: HttpRequest | None, user: object, **kwargs: object) -> None:
    """user_logged_in: remember when this session's login happened (absolute session lifetime)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[LOGIN_AT] = session[RENEWED_AT] = int(time.time())  # the login saves the session: a renewal


class AbsoluteSessionLifetimeMiddleware:
    """A session ends settings.FJZL_SESSION_ABSOLUTE_SECONDS after its login, however active it was (the idle
    timeout is SESSION_COOKIE_AGE, renewed at most every FJZL_SESSION_RENEW_SECONDS). Sits after
    AuthenticationMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            started = request.session.get(LOGIN_AT)
            now = int(time.time())
            if not isinstance(started, int):
                request.session[LOGIN_AT] = now
            elif now - started > settings.FJZL_SESSION_ABSOLUTE_SECONDS:
                logout(request)
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": SESSION_ENDED, "code": "session_expired"}, status=401)
                return redirect(reverse("login") + "?" + urlencode({"next": request.get_full_path()}))
            if now - request.session.get(RENEWED_AT, 0) >= settings.FJZL_SESSION_RENEW_SECONDS:
                # Renew the idle timeout (SESSION_COOKIE_AGE): saving the session re-sends its cookie.
                request.session[RENEWED_AT] = now
        return self.get_response(request)
