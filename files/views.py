from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from .access import file_response, may_read
from .models import StoredFile


@login_required
@require_GET
def download(request: HttpRequest, pk: int) -> HttpResponse:
    """A stored file, inside the viewer's scope only (404 outside), always as an attachment."""
    stored = StoredFile.objects.select_related("unit").filter(pk=pk).first()
    if stored is None or not may_read(request.user, stored):
        raise Http404
    return file_response(stored)
