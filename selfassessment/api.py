"""REST API of self-assessment reports and evidence files. Same scoping as the pages: a submission or an
attachment outside the caller's scope answers 404.

- GET/PATCH /api/submissions/{id}/report/   sections as {"key", "heading", "text", "facts"}; PATCH takes
  {"base_revision": n, "sections": [{"key", "text"}]} and refuses, per section, what someone else changed
  since base_revision (409 with "conflicts"; the other sections are saved)
- POST /api/submissions/{id}/attachments/   multipart `file`, optional `section` or `field` (or `stamped=1` for
  the 盖章扫描件 PDF) → 201 {"id", …}
- GET/DELETE /api/attachments/{id}/         the file (always as an attachment) / delete while editable
- GET /api/submissions/{id}/report.docx     the report as a Word file
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Role
from files.access import file_response
from files.sniff import FileRefused
from reporting.models import Submission
from reporting.selectors import submission_for, submissions_for

from . import actions
from .models import Attachment
from .presenters import attachment_dict, report_outline
from .selectors import report_for
from .wordfile import docx_filename, report_docx  # noqa: F401

REFUSED_STATUS = {"locked": status.HTTP_409_CONFLICT, "permission": status.HTTP_403_FORBIDDEN,
                  "no_report": status.HTTP_404_NOT_FOUND}


class SectionTextSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=40)
    text = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=400_000)


class ReportPatchSerializer(serializers.Serializer):
    base_revision = serializers.IntegerField(required=False, min_value=0,
                                             help_text="打开编辑时的报告版本号；他人此后修改过的章节不会被覆盖")
    sections = SectionTextSerializer(many=True)


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    section = serializers.CharField(required=False, allow_blank=True)
    field = serializers.CharField(required=False, allow_blank=True)
    stamped = serializers.BooleanField(required=False, default=False)


def _refused(e: actions.ReportRefused) -> Response:
    return Response({"detail": e.message, "code": e.code}, status=REFUSED_STATUS.get(e.code, 400))


def _require_own_filler(request: Request, submission: Submission) -> Response | None:
    user = request.user
    if user.role != Role.FILLER or user.unit_id != submission.unit_id:
        return Response({"detail": "只有本单位的填报用户可以修改自评估报告。", "code": "permission"},
                        status=status.HTTP_403_FORBIDDEN)
    return None


def _report_or_404(submission: Submission):
    report = report_for(submission)
    if report is None:
        raise Http404("本任务不要求该单位提交自评估报告。")
    return report


@extend_schema(methods=["GET"], summary="自评估报告（章节、事实、附件）", responses={200: OpenApiTypes.OBJECT})
@extend_schema(methods=["PATCH"], summary="保存自评估报告章节（按版本号逐节检测冲突）", request=ReportPatchSerializer,
               responses={200: OpenApiTypes.OBJECT, 403: OpenApiResponse(description="不是本单位填报用户"),
                          409: OpenApiResponse(description="冲突 {conflicts: [{key, heading, yours, theirs}]} 或已锁定")})
@api_view(["GET", "PATCH"])
@parser_classes([JSONParser])
def report_detail(request: Request, pk: int) -> Response:
    submission = submission_for(request.user, pk)
    if request.method == "GET":
        return Response(report_outline(submission, _report_or_404(submission)))
    _report_or_404(submission)
    if (denied := _require_own_filler(request, submission)) is not None:
        return denied
    payload = ReportPatchSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    try:
        result = actions.report_save(acting_user=request.user, submission_id=submission.pk,
                                     sections={s["key"]: s["text"] for s in data["sections"]},
                                     base_revision=data.get("base_revision"))
    except actions.ReportRefused as e:
        return _refused(e)
    submission.refresh_from_db()
    body = report_outline(submission, result.report)
    body["saved"] = result.saved
    if result.conflicts:
        body.update({"detail": "以下章节已被他人修改，未覆盖，请核对后再保存。", "conflicts": result.conflicts})
        return Response(body, status=status.HTTP_409_CONFLICT)
    return Response(body)


@extend_schema(summary="上传佐证材料（multipart: file，可选 section 或 field；stamped=1 为盖章扫描件）",
               request={"multipart/form-data": AttachmentUploadSerializer},
               responses={201: OpenApiTypes.OBJECT, 400: OpenApiResponse(description="文件被拒绝（原因）")})
@api_view(["POST"])
@parser_classes([MultiPartParser, FormParser])
def attachment_upload(request: Request, pk: int) -> Response:
    submission = submission_for(request.user, pk)
    if (denied := _require_own_filler(request, submission)) is not None:
        return denied
    payload = AttachmentUploadSerializer(data=request.data)
    if not payload.is_valid():
        return Response({"detail": "请选择要上传的文件。", "errors": payload.errors}, status=400)
    data = payload.validated_data
    try:
        attachment = actions.attachment_add(
            acting_user=request.user, submission_id=submission.pk, upload=data["file"],
            section=data.get("section", ""), field_code=data.get("field", ""), stamped=data.get("stamped", False))
    except FileRefused as e:
        return Response({"detail": e.message, "code": e.code}, status=status.HTTP_400_BAD_REQUEST)
    except actions.ReportRefused as e:
        return _refused(e)
    return Response(attachment_dict(attachment), status=status.HTTP_201_CREATED)


def attachment_in_scope(user, pk: int) -> Attachment:
    attachment = (Attachment.objects.select_related("file", "file__unit", "submission")
                  .filter(pk=pk, submission__in=submissions_for(user)).first())
    if attachment is None:
        raise Http404
    return attachment


@extend_schema(methods=["GET"], summary="下载附件（始终作为附件下载）", responses={200: OpenApiTypes.BINARY})
@extend_schema(methods=["DELETE"], summary="删除附件（仅可编辑时）", responses={204: None})
@api_view(["GET", "DELETE"])
def attachment_detail(request: Request, pk: int):
    attachment = attachment_in_scope(request.user, pk)
    if request.method == "GET":
        return file_response(attachment.file)
    if (denied := _require_own_filler(request, attachment.submission)) is not None:
        return denied
    try:
        actions.attachment_delete(acting_user=request.user, attachment_id=attachment.pk)
    except actions.ReportRefused as e:
        return _refused(e)
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(summary="自评估报告 Word 文件", responses={200: OpenApiTypes.BINARY})
@api_view(["GET"])
def report_word(request: Request, pk: int) -> HttpResponse:
    submission = submission_for(request.user, pk)
    return word_response(submission)


def word_response(submission: Submission) -> HttpResponse:
    from files.access import safe_filename

    data = report_docx(submission, _report_or_404(submission))
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument"
                                                ".wordprocessingml.document")
    from django.utils.http import content_disposition_header

    response["Content-Disposition"] = content_disposition_header(True, safe_filename(docx_filename(submission)))
    response["X-Content-Type-Options"] = "nosniff"
    return response
