"""GET /api/results/?task=CODE&unit=CODE — the published result card a user may read (404 otherwise)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from reporting.models import Task

from . import services
from .models import ReleaseStatus


@extend_schema(
    parameters=[OpenApiParameter("task", OpenApiTypes.STR, required=True, description="任务编码"),
                OpenApiParameter("unit", OpenApiTypes.STR, required=True, description="单位编码")],
    responses={200: OpenApiTypes.OBJECT}, summary="已发布的结果卡",
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def result_card(request: Request) -> Response:
    task_code, unit_code = request.query_params.get("task"), request.query_params.get("unit")
    if not task_code or not unit_code:
        raise ValidationError({"detail": "请提供 task 与 unit 参数。"})
    task = Task.objects.filter(code=task_code).first()
    if task is None:
        raise NotFound("任务不存在。")
    release = services.readable_release(request.user, task)
    # The API serves published cards only (a national user reads the newest published version too).
    if release is not None and release.status != ReleaseStatus.PUBLISHED:
        from .models import Release

        release = Release.objects.filter(task=task, status=ReleaseStatus.PUBLISHED).order_by("-version").first()
    card = release.snapshot["units"].get(unit_code) if release is not None else None
    if card is None or not services.may_read_card(request.user, release, unit_code, card):
        raise NotFound("没有已发布的该单位结果。")
    return Response({"task": task.code, "version": release.version, "content_hash": release.content_hash,
                     "audience": release.audience, **services.api_card(card)})
