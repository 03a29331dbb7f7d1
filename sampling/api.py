"""REST API of rectification items (整改要求). Scoped like the pages: outside the caller's units → 404.

POST /api/submissions/{id}/rectifications/    {field, member, text, deadline[, target, section, batch]}  sampler
GET  /api/rectifications/?batch=…&state=…&unit=…&overdue=1
GET  /api/rectifications/{id}/                (with the diff against the value at sampling time)
POST /api/rectifications/{id}/answer/         {text[, value]}  the unit's filler (value: the corrected value)
POST /api/rectifications/{id}/close/ | reopen/ {note[, deadline]} | escalate/ {note}   the sampler
Errors: {"detail": Chinese message, "code"}: 400 invalid, 403 permission, 404 not visible, 409 state/deadline.
"""

from __future__ import annotations

import datetime as dt

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from reporting.selectors import submission_for

from . import actions
from .selectors import answered_ids, diff, is_overdue, item_filter, items_for, members_of
from .transitions import ItemError, allowed_item_actions

ERROR_STATUS = {"permission": status.HTTP_403_FORBIDDEN, "status": status.HTTP_409_CONFLICT,
                "deadline": status.HTTP_409_CONFLICT, "invalid": status.HTTP_400_BAD_REQUEST}


class RaiseSerializer(serializers.Serializer):
    field = serializers.CharField(required=False, allow_blank=True, default="", help_text="指标代码")
    member = serializers.CharField(required=False, allow_blank=True, default="", help_text="成员单位条目key（主表留空）")
    text = serializers.CharField(required=False, allow_blank=True, default="", help_text="整改要求")
    deadline = serializers.DateField(required=False, allow_null=True, default=None, help_text="整改期限 YYYY-MM-DD")
    target = serializers.ChoiceField(choices=["field", "report"], required=False, default="field")
    section = serializers.CharField(required=False, allow_blank=True, default="", help_text="自评报告章节key")
    batch = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="抽检批次id")


class AnswerSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, default="", help_text="整改说明")
    value = serializers.JSONField(required=False, help_text="修改后的数值（不修改则不传）")
    evidence = serializers.FileField(required=False, help_text="佐证材料（multipart，可选）")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")
    deadline = serializers.DateField(required=False, allow_null=True, default=None)


def item_json(item, user, answered: set[int] | None = None, members: dict | None = None) -> dict:
    d = diff(item, members)
    return {
        "id": item.pk, "batch": item.batch_id, "submission": item.submission_id,
        "unit": {"code": item.unit.code, "name": item.unit.name}, "form": item.submission.form_code,
        "target": item.target, "field": item.field_code, "member": item.member_key, "section": item.section,
        "label": item.label, "text": item.text, "deadline": item.deadline.isoformat(), "state": item.state,
        "state_display": item.get_state_display(), "overdue": is_overdue(item),
        "value_at_sampling": d["before"], "value_now": d["after"], "value_changed": d["changed"],
        "answer": item.answer, "answered_value": item.answered_value,
        "answered": item.pk in answered if answered is not None else bool(item.answered_at),
        "rounds": item.rounds, "allowed_actions": allowed_item_actions(user, item),
        "evidence_file": item.evidence_file_id,
    }


def _error(e: ItemError) -> Response:
    return Response({"detail": e.message, "code": e.code}, status=ERROR_STATUS.get(e.code, 400))


def _invalid(errors: dict) -> Response:
    if "deadline" in errors:
        return Response({"detail": "整改期限格式应为 YYYY-MM-DD。", "code": "invalid", "errors": errors}, status=400)
    return Response({"detail": "请求格式有误。", "code": "invalid", "errors": errors}, status=400)


@extend_schema(summary="对抽检报表提出整改要求（抽检单位）", request=RaiseSerializer, responses={201: OpenApiTypes.OBJECT})
@api_view(["POST"])
def raise_item(request: Request, pk: int) -> Response:
    submission = submission_for(request.user, pk)
    body = RaiseSerializer(data=request.data)
    if not body.is_valid():
        return _invalid(body.errors)
    data = body.validated_data
    try:
        item = actions.item_raise(acting_user=request.user, submission_id=submission.pk, text=data["text"],
                                  deadline=data["deadline"], field_code=data["field"], member_key=data["member"],
                                  target=data["target"], section=data["section"], batch_id=data["batch"])
    except ItemError as e:
        return _error(e)
    return Response(item_json(actions._item(item.pk), request.user), status=status.HTTP_201_CREATED)


class _Pages(PageNumberPagination):
    page_size = 100
    max_page_size = 500
    page_size_query_param = "page_size"


@extend_schema(summary="整改要求列表（按权限范围）", parameters=[
    OpenApiParameter("batch", OpenApiTypes.INT, description="抽检批次id"),
    OpenApiParameter("state", OpenApiTypes.STR, description="open answered escalated closed"),
    OpenApiParameter("unit", OpenApiTypes.STR, description="单位编码（含下级）"),
    OpenApiParameter("overdue", OpenApiTypes.BOOL, description="只看已超期"),
], responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def list_items(request: Request) -> Response:
    p = request.query_params
    qs = item_filter(items_for(request.user), batch=p.get("batch"), state=p.get("state"), unit=p.get("unit"),
                     overdue=p.get("overdue") in ("1", "true")).order_by("deadline", "id")
    pager = _Pages()
    page = pager.paginate_queryset(qs, request)
    answered, members = answered_ids(page), members_of(page)
    return pager.get_paginated_response([item_json(i, request.user, answered, members) for i in page])


def _visible(request: Request, pk: int):
    from django.shortcuts import get_object_or_404

    return get_object_or_404(items_for(request.user), pk=pk)


@extend_schema(summary="一项整改要求（含与抽检时数值的对比）", responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def item_detail(request: Request, pk: int) -> Response:
    return Response(item_json(_visible(request, pk), request.user))


@extend_schema(summary="答复整改要求（本单位填报用户；可同时修改数值）", request=AnswerSerializer,
               responses={200: OpenApiTypes.OBJECT})
@api_view(["POST"])
def answer(request: Request, pk: int) -> Response:
    item = _visible(request, pk)
    body = AnswerSerializer(data=request.data)
    if not body.is_valid():
        return _invalid(body.errors)
    data = body.validated_data
    try:
        actions.item_answer(acting_user=request.user, item_id=item.pk, text=data["text"],
                            value=data.get("value"), set_value="value" in data, evidence=data.get("evidence"))
    except ItemError as e:
        return _error(e)
    return Response(item_json(actions._item(item.pk), request.user))


def _sampler_move(request: Request, pk: int, verb: str) -> Response:
    item = _visible(request, pk)
    body = NoteSerializer(data=request.data)
    if not body.is_valid():
        return _invalid(body.errors)
    data = body.validated_data
    try:
        if verb == "close":
            actions.item_close(acting_user=request.user, item_id=item.pk, note=data["note"])
        elif verb == "reopen":
            actions.item_reopen(acting_user=request.user, item_id=item.pk, note=data["note"],
                                deadline=data["deadline"])
        else:
            actions.item_escalate(acting_user=request.user, item_id=item.pk, note=data["note"])
    except ItemError as e:
        return _error(e)
    return Response(item_json(actions._item(item.pk), request.user))


@extend_schema(summary="关闭整改要求（接受答复）", request=NoteSerializer, responses={200: OpenApiTypes.OBJECT})
@api_view(["POST"])
def close(request: Request, pk: int) -> Response:
    return _sampler_move(request, pk, "close")


@extend_schema(summary="退回整改要求（须填写说明；原期限已过时须给出新期限）", request=NoteSerializer,
               responses={200: OpenApiTypes.OBJECT})
@api_view(["POST"])
def reopen(request: Request, pk: int) -> Response:
    return _sampler_move(request, pk, "reopen")


@extend_schema(summary="升级整改要求（须填写说明）", request=NoteSerializer, responses={200: OpenApiTypes.OBJECT})
@api_view(["POST"])
def escalate(request: Request, pk: int) -> Response:
    return _sampler_move(request, pk, "escalate")


def parse_date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        return None
