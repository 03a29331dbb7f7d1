"""REST API of submissions and the review workflow (token: POST /api/auth/token/, header `Authorization: Token …`).

Scoped like the pages (reporting.selectors.submissions_for): a form outside the caller's scope answers 404.
Views parse input and call the action layer; illegal moves answer with the Chinese message:
409 wrong status / window closed, 403 not the caller's role, 400 missing reason or blocked by the checks.
"""

from __future__ import annotations

from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Role, Unit
from reporting.actions import SaveRefused, members_add, submission_save
from reporting.models import Submission
from reporting.selectors import submissions_for
from reporting.workflow import TransitionError

from . import actions
from .serializers import (
    ErrorSerializer,
    OptionalNoteSerializer,
    ReasonSerializer,
    RecheckSerializer,
    RejectSerializer,
    SubmissionDetailSerializer,
    SubmissionListSerializer,
    SubmissionPatchSerializer,
    SubmitResultSerializer,
)

TRANSITION_STATUS = {"status": status.HTTP_409_CONFLICT, "deadline": status.HTTP_409_CONFLICT,
                     "permission": status.HTTP_403_FORBIDDEN, "reason": status.HTTP_400_BAD_REQUEST,
                     "unknown": status.HTTP_400_BAD_REQUEST}
ERROR_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found", 405: "method_not_allowed"}
ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


def _transition_error(e: TransitionError) -> Response:
    return Response({"detail": e.message, "code": e.code}, status=TRANSITION_STATUS.get(e.code, 409))


@extend_schema_view(
    list=extend_schema(
        summary="报表列表（按权限范围）",
        parameters=[
            OpenApiParameter("task", OpenApiTypes.STR, description="任务编码，如 fjzl2019"),
            OpenApiParameter("form", OpenApiTypes.STR, description="表单代码 t1 t2 t3 t4"),
            OpenApiParameter("status", OpenApiTypes.STR,
                             description="not_started draft submitted approved rejected rechecked"),
            OpenApiParameter("unit", OpenApiTypes.STR, description="单位编码（含其下级单位）"),
        ],
    ),
    retrieve=extend_schema(summary="一份报表：数值、成员单位、审核结果、可执行的操作", responses={200: SubmissionDetailSerializer, 404: ErrorSerializer}),
)
class SubmissionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Submissions in the caller's scope."""

    http_method_names = ["get", "patch", "post", "head", "options"]
    serializer_class = SubmissionDetailSerializer

    def get_serializer_class(self) -> type:
        return SubmissionListSerializer if self.action == "list" else SubmissionDetailSerializer

    def handle_exception(self, exc: Exception) -> Response:
        """Every error answer has the documented shape {detail, code} (ErrorSerializer), DRF's own too: a form
        outside the scope (404), a refused role (403), a body that does not parse (400 parse_error) or validate
        (400 invalid, the per-field messages under "errors")."""
        response = super().handle_exception(exc)
        data = response.data
        if isinstance(exc, ValidationError):
            response.data = {"detail": "请求格式有误。", "code": "invalid", "errors": data}
        elif isinstance(data, dict) and "detail" in data and "code" not in data:
            code = exc.get_codes() if isinstance(exc, APIException) else None
            response.data = {**data, "code": code if isinstance(code, str) else ERROR_CODES.get(
                response.status_code, "error")}
        return response

    def get_queryset(self) -> QuerySet[Submission]:
        qs = submissions_for(self.request.user)
        if self.action == "list":
            qs = qs.defer("form_version__definition", "values", "explanations", "result")
            params = self.request.query_params
            if params.get("task"):
                qs = qs.filter(task__code=params["task"])
            if params.get("form"):
                qs = qs.filter(form_code=params["form"])
            if params.get("status"):
                qs = qs.filter(status=params["status"])
            if params.get("unit"):

                unit = Unit.objects.filter(code=params["unit"]).first()
                qs = qs.filter(unit__path__startswith=unit.path) if unit else qs.none()
        return qs.order_by("task_id", "unit__path", "form_code")

    # --- values -------------------------------------------------------------------------------------------------

    @extend_schema(
        summary="保存数值（与网页同一保存路径：规范化、逐项校验、逐项冲突检测、修改记录）",
        request=SubmissionPatchSerializer,
        responses={200: SubmissionDetailSerializer,
                   400: OpenApiResponse(description="逐项错误 {errors: {代码: 说明}}，不保存任何数值"),
                   403: ErrorSerializer, 404: ErrorSerializer,
                   409: OpenApiResponse(description="冲突 {conflicts: [{field, member, label, yours, theirs, by, at}]}"
                                                    " 或报表已锁定，不保存任何数值")},
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        submission = self.get_object()
        user = request.user
        if user.role != Role.FILLER or user.unit_id != submission.unit_id:
            raise PermissionDenied("只有本单位的填报用户可以修改该报表。")
        payload = SubmissionPatchSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        changes = [{"field": str(code), "member": "", "value": raw} for code, raw in data["values"].items()]
        for key, member_values in data["members"].items():
            changes += [{"field": str(code), "member": str(key), "value": raw} for code, raw in member_values.items()]
        # Required: the conflict check (values and explanations) runs against it under the row lock.
        base_revision = data["base_revision"]
        try:
            with transaction.atomic():
                existing = set(submission.members.values_list("key", flat=True))
                new_keys = [str(key) for key in data["members"] if str(key) not in existing]
                if new_keys:
                    members_add(acting_user=user, submission_id=submission.pk, keys=new_keys)
                result = submission_save(acting_user=user, submission_id=submission.pk, changes=changes,
                                         explanations=data["explanations"] or None, base_revision=base_revision)
                if result.errors or result.conflicts:
                    transaction.set_rollback(True)
        except SaveRefused as e:
            return Response({"detail": str(e), "code": "locked"}, status=status.HTTP_409_CONFLICT)
        except TransitionError as e:
            return _transition_error(e)
        if result.conflicts:
            return Response({"detail": "以下指标已被他人修改，请确认后重新保存；本次未保存任何数值。", "code": "conflict",
                             "conflicts": [c.as_dict() for c in result.conflicts], "errors": result.errors,
                             "revision": Submission.objects.get(pk=submission.pk).revision},
                            status=status.HTTP_409_CONFLICT)
        if result.errors:
            return Response({"detail": "部分指标填写有误，本次未保存任何数值。", "code": "invalid", "errors": result.errors,
                             "revision": Submission.objects.get(pk=submission.pk).revision},
                            status=status.HTTP_400_BAD_REQUEST)
        try:
            fresh = self.get_queryset().get(pk=submission.pk)
            body = self.get_serializer(fresh).data
        except DatabaseError:
            # Committed: say so even when the fresh state cannot be read back (a dropped connection), so no
            # client retries a save that happened.
            body = {"id": submission.pk, "revision": result.revision,
                    "detail": "已保存；最新内容暂时无法读取，请稍后刷新。"}
        body["saved"] = result.saved
        return Response(body)

    # --- workflow -----------------------------------------------------------------------------------------------

    @extend_schema(summary="上报（重新审核；有错误或未说明的合理性问题时拒绝并列出）", request=None,
                   responses={200: SubmitResultSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        submission = self.get_object()
        try:
            outcome = actions.submission_submit(acting_user=request.user, submission_id=submission.pk)
        except actions.SubmitRefused as e:
            return Response({"detail": e.message, "code": "blocked", "blocking": e.blocking},
                            status=status.HTTP_400_BAD_REQUEST)
        except TransitionError as e:
            return _transition_error(e)
        return Response({"id": outcome.submission.pk, "status": outcome.submission.status,
                         "snapshot": outcome.snapshot.pk, "created": outcome.created})

    def _done(self, submission: Submission) -> Response:
        fresh = self.get_queryset().get(pk=submission.pk)
        return Response(self.get_serializer(fresh).data)

    @extend_schema(summary="审核通过", request=OptionalNoteSerializer, responses={200: SubmissionDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        submission = self.get_object()
        body = OptionalNoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            actions.submission_approve(acting_user=request.user, submission_id=submission.pk,
                                       note=body.validated_data["note"])
        except TransitionError as e:
            return _transition_error(e)
        return self._done(submission)

    @extend_schema(summary="驳回（须填写原因；可附逐项批注）", request=RejectSerializer,
                   responses={200: SubmissionDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        submission = self.get_object()
        body = RejectSerializer(data=request.data)
        if not body.is_valid():
            if "reason" in body.errors:
                return Response({"detail": "驳回须填写原因。", "code": "reason", "errors": body.errors},
                                status=status.HTTP_400_BAD_REQUEST)
            return Response({"detail": "请求格式有误。", "code": "invalid", "errors": body.errors},
                            status=status.HTTP_400_BAD_REQUEST)
        try:
            actions.submission_reject(acting_user=request.user, submission_id=submission.pk,
                                      reason=body.validated_data["reason"], comments=body.validated_data["comments"])
        except TransitionError as e:
            return _transition_error(e)
        except actions.ReviewError as e:
            return Response({"detail": e.message, "code": e.code}, status=status.HTTP_400_BAD_REQUEST)
        return self._done(submission)

    @extend_schema(summary="复核（省级对市级审核通过的表3/表4；passed=false 为复核驳回，须填写原因）",
                   request=RecheckSerializer, responses={200: SubmissionDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def recheck(self, request: Request, pk: str | None = None) -> Response:
        submission = self.get_object()
        body = RecheckSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            actions.submission_recheck(acting_user=request.user, submission_id=submission.pk,
                                       passed=body.validated_data["passed"], reason=body.validated_data["reason"],
                                       comments=body.validated_data["comments"])
        except TransitionError as e:
            return _transition_error(e)
        except actions.ReviewError as e:
            return Response({"detail": e.message, "code": e.code}, status=status.HTTP_400_BAD_REQUEST)
        return self._done(submission)

    @extend_schema(summary="撤销审核（须填写原因；回到“已上报”）", request=ReasonSerializer,
                   responses={200: SubmissionDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        submission = self.get_object()
        body = ReasonSerializer(data=request.data)
        if not body.is_valid():
            return Response({"detail": "撤销审核须填写原因。", "code": "reason", "errors": body.errors},
                            status=status.HTTP_400_BAD_REQUEST)
        try:
            actions.submission_withdraw(acting_user=request.user, submission_id=submission.pk,
                                        reason=body.validated_data["reason"])
        except TransitionError as e:
            return _transition_error(e)
        return self._done(submission)
