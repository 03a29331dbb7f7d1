"""REST API of 通知公告 / 下载区, 留言板 and 常见问题. Scoped like the pages (404 outside); views parse and call
communication.actions; illegal moves answer 403 (not the caller's role), 409 (wrong status) or 400."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from reporting.selectors import current_task

from . import actions, selectors
from .models import FaqEntry, Notice, NoticeRead, Question, QuestionCategory, Reply

ERROR_STATUS = {"permission": status.HTTP_403_FORBIDDEN, "status": status.HTTP_409_CONFLICT,
                "invalid": status.HTTP_400_BAD_REQUEST}


def _error(e: actions.CommError) -> Response:
    return Response({"detail": e.message, "code": e.code}, status=ERROR_STATUS.get(e.code, 400))


class NoticeSerializer(serializers.ModelSerializer):
    publisher_unit = serializers.CharField(source="publisher_unit.name", read_only=True)
    task = serializers.CharField(source="task.code", read_only=True, default=None, allow_null=True)
    read = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = ["id", "kind", "title", "body", "task", "publisher_unit", "pinned", "published_at", "read",
                  "attachments"]

    def get_read(self, obj) -> bool:
        return obj.pk in self.context.get("read", set())

    def get_attachments(self, obj) -> list[dict]:
        return [{"id": a.pk, "name": a.name, "size": a.size} for a in obj.attachments.all()]


class NoticeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = NoticeSerializer
    queryset = Notice.objects.none()

    def get_queryset(self):
        qs = selectors.notices_for(self.request.user, kind=self.request.query_params.get("kind") or None)
        if self.request.query_params.get("unread") == "1":
            qs = qs.exclude(reads__user=self.request.user)
        return qs.prefetch_related("attachments")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self.request, "user", None) is not None and self.request.user.is_authenticated:
            context["read"] = set(NoticeRead.objects.filter(user=self.request.user).values_list("notice_id", flat=True))
        return context

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        notice = self.get_object()
        actions.notices_mark_read(acting_user=request.user, notice_ids=[notice.pk])
        return Response(self.get_serializer(notice, context={**self.get_serializer_context(),
                                                             "read": {notice.pk}}).data)

    @extend_schema(request=None, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        """全部标为已读."""
        return Response({"marked": actions.notices_mark_read(acting_user=request.user)})

    @extend_schema(responses={200: dict})
    @action(detail=False, methods=["get"])
    def unread(self, request: Request) -> Response:
        return Response({"unread": selectors.unread_count(request.user)})


class ReplySerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.name", read_only=True, default="")

    class Meta:
        model = Reply
        fields = ["id", "body", "is_answer", "unit", "created_at"]


class QuestionSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.code", read_only=True)
    responsible_unit = serializers.CharField(source="responsible_unit.code", read_only=True)
    replies = ReplySerializer(many=True, read_only=True)
    category = serializers.ChoiceField(choices=QuestionCategory.choices)

    class Meta:
        model = Question
        fields = ["id", "category", "title", "body", "form_code", "field_code", "status", "unit",
                  "responsible_unit", "created_at", "answered_at", "replies"]
        read_only_fields = ["status", "created_at", "answered_at"]


class QuestionActSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=list(actions.QUESTION_TRANSITIONS))
    text = serializers.CharField(required=False, allow_blank=True, default="")


class QuestionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      viewsets.GenericViewSet):
    serializer_class = QuestionSerializer
    queryset = Question.objects.none()

    def get_queryset(self):
        p = self.request.query_params
        return selectors.search_questions(
            selectors.questions_for(self.request.user), text=p.get("q", ""), category=p.get("category", ""),
            status=p.get("status", ""), form_code=p.get("form", ""), field_code=p.get("field", ""),
        ).prefetch_related("replies__unit")

    def create(self, request: Request, *args, **kwargs) -> Response:
        data = QuestionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            question = actions.question_ask(acting_user=request.user, category=v["category"], title=v["title"],
                                            body=v["body"], task=current_task(), form_code=v.get("form_code", ""),
                                            field_code=v.get("field_code", ""))
        except actions.CommError as e:
            return _error(e)
        return Response(QuestionSerializer(question).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=QuestionActSerializer, responses={200: QuestionSerializer})
    @action(detail=True, methods=["post"])
    def act(self, request: Request, pk=None) -> Response:
        """答复 (answer), 补充说明 (comment), 追问 (follow_up), 转上级答复 (escalate), 关闭 (close), 重新打开 (reopen)."""
        question = self.get_object()
        if not (selectors.is_asker(request.user, question) or selectors.can_answer(request.user, question)):
            return Response({"detail": "只有提问单位和负责答复的审核用户可以处理该留言。", "code": "permission"},
                            status=status.HTTP_403_FORBIDDEN)
        data = QuestionActSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            question = actions.question_transition(acting_user=request.user, question_id=question.pk,
                                                   action=data.validated_data["action"],
                                                   text=data.validated_data["text"])
        except actions.CommError as e:
            return _error(e)
        return Response(QuestionSerializer(question).data)


class FaqSerializer(serializers.ModelSerializer):
    class Meta:
        model = FaqEntry
        fields = ["id", "category", "question_text", "answer_text", "form_code", "field_code", "created_at"]


class FaqViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = FaqSerializer
    queryset = FaqEntry.objects.none()

    def get_queryset(self):
        qs = FaqEntry.objects.filter(active=True)
        p = self.request.query_params
        if p.get("form"):
            qs = qs.filter(form_code=p["form"])
        if p.get("field"):
            qs = qs.filter(field_code=p["field"])
        return qs
