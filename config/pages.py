"""Site-wide pages that belong to no app: the Chinese error pages (with the site's navigation) and the API
documentation (Swagger UI and ReDoc served from the project's own static files, never a CDN)."""

from __future__ import annotations

import logging

from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.views.decorators.http import require_safe

log = logging.getLogger(__name__)


def _error(request: HttpRequest, template: str, status: int, message: str = "") -> HttpResponse:
    return render(request, template, {"message": message}, status=status)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else ""
    return _error(request, "403.html", 403, message)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "404.html", 404)


def handler500(request: HttpRequest) -> HttpResponse:
    """The 500 page with navigation; if even that fails (the database is down), the same page without it."""
    try:
        return _error(request, "500.html", 500)
    except Exception:  # noqa: BLE001 - the error page itself must never raise
        log.exception("rendering 500.html with the request context failed")
        return HttpResponseServerError(loader.get_template("500.html").render({"bare": True}))


@require_safe
def api_docs(request: HttpRequest) -> HttpResponse:
    """Swagger UI from drf-spectacular-sidecar's static files; the schema URL travels in a data attribute."""
    return render(request, "api/swagger.html", {"schema_url": reverse("api-schema")})


@require_safe
# ReDoc styles itself through styled-components, which creates <style> elements it cannot give a nonce from
# outside its bundle: under style-src 'self' the page stays blank. This page alone may apply inline styles and
# run its search index in a worker the bundle builds from a blob; its scripts remain our own static files only,
# and it shows nothing but the API schema.
@csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})
def api_redoc(request: HttpRequest) -> HttpResponse:
    return render(request, "api/redoc.html", {"schema_url": reverse("api-schema")})
