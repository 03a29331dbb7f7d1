"""Errors as the user should see them: Chinese JSON for API and script requests, never a traceback or an exception
class name, and 405 for write methods the pages never take.

- PageMethodMiddleware: outside /api/ (where DRF answers per view) only GET, HEAD, POST and OPTIONS reach a view;
  PUT, PATCH, DELETE and anything else answer 405. GET-only pages also refuse POST (require_safe on the view).
- JsonErrorMiddleware: for /api/ and requests that ask for JSON (Accept: application/json or
  X-Requested-With: XMLHttpRequest) an unexpected exception becomes {"detail": "…", "code": "server_error"} with
  status 500, and an HTML error answer (404 from the resolver, 403, 405, 413 …) becomes the same JSON shape in
  Chinese. Pages keep Django's error pages (templates 403.html / 404.html / 500.html, in Chinese).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from accounts.inputs import field_message, find_control, has_control

log = logging.getLogger("fjzl.errors")

# A quick byte scan before decoding JSON: raw C0 bytes, or their JSON escapes (\u0000 … \u001f, \u007f …).
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\\u00[01][0-9a-fA-F]|\\u007[fF]|\\u00[89][0-9a-fA-F]"
                           rb"|\xc2[\x80-\x9f]|\\u[fF]{3}[eEfF]|\xef\xbf[\xbe\xbf]")
PAGE_METHODS = {"GET", "HEAD", "POST", "OPTIONS"}
MESSAGES = {
    400: ("bad_request", "请求格式有误。"),
    401: ("not_authenticated", "请先登录。"),
    403: ("permission_denied", "没有权限执行该操作。"),
    404: ("not_found", "请求的内容不存在或无权查看。"),
    405: ("method_not_allowed", "不支持该请求方法。"),
    413: ("too_large", "提交的内容过大。"),
    429: ("throttled", "请求过于频繁，请稍后再试。"),
    500: ("server_error", "服务器内部错误，请稍后重试；如仍出现请联系管理员。"),
    502: ("bad_gateway", "服务暂时不可用，请稍后重试。"),
    503: ("unavailable", "服务暂时不可用，请稍后重试。"),
}


def wants_json(request: HttpRequest) -> bool:
    return (request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")
            or request.headers.get("X-Requested-With") == "XMLHttpRequest")


def json_error(status: int, detail: str | None = None) -> JsonResponse:
    code, message = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    return JsonResponse({"detail": detail or message, "code": code}, status=status,
                        json_dumps_params={"ensure_ascii": False})


class PageMethodMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, view_args: tuple,
                     view_kwargs: dict) -> HttpResponse | None:
        """DRF views answer for their own methods; every other view takes only GET, HEAD, POST, OPTIONS."""
        if request.method in PAGE_METHODS or hasattr(view_func, "cls"):
            return None
        response = json_error(405) if wants_json(request) else HttpResponse(
            "不支持该请求方法。", status=405, content_type="text/plain; charset=utf-8")
        response["Allow"] = ", ".join(sorted(PAGE_METHODS))
        return response


class JsonErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (response.status_code >= 400 and wants_json(request)
                and not response.get("Content-Type", "").startswith("application/json")):
            replaced = json_error(response.status_code)
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    replaced[header] = response[header]
            return replaced
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not wants_json(request):
            return None  # Django's error pages
        if isinstance(exception, Http404):
            return json_error(404)
        if isinstance(exception, PermissionDenied):
            return json_error(403)
        if isinstance(exception, RequestDataTooBig | TooManyFieldsSent):
            return json_error(413)
        if isinstance(exception, BadRequest | SuspiciousOperation | UnicodeDecodeError):
            return json_error(400)
        log.exception("unexpected error on %s %s", request.method, request.path)
        return json_error(500)


class ControlCharacterMiddleware:
    """Refuse (400, with the field named) query parameters, form fields and JSON bodies carrying control
    characters (accounts.inputs), before any view or database sees them. The content of uploaded files is
    checked where it is parsed (reporting.normalize for imported cells)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        bad = self._bad_fields(request)
        if bad:
            errors = {name: field_message(name) for name in bad[:20]}
            detail = field_message(bad[0])
            if wants_json(request):
                return JsonResponse({"detail": detail, "code": "control_characters", "errors": errors},
                                    status=400, json_dumps_params={"ensure_ascii": False})
            return HttpResponse(detail, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _bad_fields(request: HttpRequest) -> list[str]:
        bad = [key for key, values in request.GET.lists()
               if has_control(key) or any(has_control(v) for v in values)]
        if has_control(request.path):
            bad.append("path")
        if request.method not in ("POST", "PUT", "PATCH"):
            return bad
        content_type = request.content_type or ""
        try:
            if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                # Read the body first (bounded by DATA_UPLOAD_MAX_MEMORY_SIZE, else RequestDataTooBig before a
                # byte is read): the view can then still read request.body as well as request.POST. Larger
                # multipart bodies (file uploads) are left to the view.
                request.body  # noqa: B018
                bad += [key for key, values in request.POST.lists()
                        if has_control(key) or any(has_control(v) for v in values)]
            elif content_type.endswith("json"):
                body = request.body
                if body and CONTROL_BYTES.search(body):
                    bad += list(find_control(json.loads(body)))
        except (RequestDataTooBig, TooManyFieldsSent, ValueError):
            return bad  # the view answers these (413 / 400) as it reads the body itself
        return bad


class RequestSizeMiddleware:
    """413 for a request whose declared body exceeds settings.FJZL_MAX_REQUEST_BYTES, before a byte of it is
    read (Django reads no body without a Content-Length; the proxy refuses larger bodies too)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(400) if wants_json(request) else HttpResponse(
                "请求格式有误。", status=400, content_type="text/plain; charset=utf-8")
        limit = settings.FJZL_MAX_REQUEST_BYTES
        if length > limit:
            detail = f"提交的内容过大（超过 {limit // (1024 * 1024)}MB），未处理。"
            return json_error(413, detail) if wants_json(request) else HttpResponse(
                detail, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
