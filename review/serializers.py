"""API serializers: they only parse input and shape output; every write goes through the action layer."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from reporting.models import Submission
from reporting.workflow import allowed_actions


class UnitSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()


class MemberSerializer(serializers.Serializer):
    key = serializers.CharField()
    position = serializers.IntegerField()
    member_unit = serializers.CharField(allow_null=True, help_text="成员单位编码")
    values = serializers.DictField(help_text="指标代码 → 值")
    explanations = serializers.DictField()


class SubmissionListSerializer(serializers.ModelSerializer):
    task = serializers.CharField(source="task.code", help_text="任务编码")
    unit = UnitSerializer()
    form = serializers.CharField(source="form_code", help_text="表单代码 t1…t4")
    status_display = serializers.CharField(source="get_status_display")
    deadline = serializers.SerializerMethodField()

    class Meta:
        model = Submission
        fields = ["id", "task", "unit", "form", "status", "status_display", "revision", "deadline", "submitted_at",
                  "approved_at", "updated_at"]

    def get_deadline(self, obj: Submission) -> str:
        return obj.deadline().isoformat()


class SubmissionDetailSerializer(SubmissionListSerializer):
    title = serializers.CharField(source="form_version.title")
    values = serializers.DictField(help_text="指标代码 → 值（数值、\"--\" 未统计、true/false、文本）")
    explanations = serializers.DictField(help_text="合理性审核规则代码 → 填写说明")
    members = serializers.SerializerMethodField()
    result = serializers.DictField(help_text="审核与指标计算结果：indicators, reasons, violations, attainment")
    allowed_actions = serializers.SerializerMethodField()
    last_reason = serializers.CharField()
    field_comments = serializers.SerializerMethodField()

    class Meta(SubmissionListSerializer.Meta):
        fields = [*SubmissionListSerializer.Meta.fields, "title", "values", "explanations", "members", "result",
                  "allowed_actions", "last_reason", "field_comments"]

    def get_members(self, obj: Submission) -> list[dict[str, Any]]:
        return [{"key": m.key, "position": m.position, "member_unit": m.member_unit.code if m.member_unit else None,
                 "values": m.values, "explanations": m.explanations}
                for m in obj.members.select_related("member_unit").order_by("position", "id")]

    def get_allowed_actions(self, obj: Submission) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        return [a for a in allowed_actions(request.user, obj) if a != "start"]

    def get_field_comments(self, obj: Submission) -> list[dict[str, Any]]:
        return [{"id": c.id, "field": c.field_code, "member": c.member_key, "text": c.text, "answer": c.answer,
                 "resolved": c.resolved, "created_at": c.created_at.isoformat()}
                for c in obj.field_comments.all()]


# Work per request is bounded (and linear: new members are added in one batch, evaluated once).
MAX_MEMBERS_PER_REQUEST = 100
MAX_VALUES_PER_REQUEST = 1000


class SubmissionPatchSerializer(serializers.Serializer):
    values = serializers.DictField(required=False, default=dict, help_text="指标代码 → 原始输入")
    members = serializers.DictField(child=serializers.DictField(), required=False, default=dict,
                                    help_text="成员单位 key → {指标代码 → 原始输入}；未知 key 会新增一个成员单位")
    explanations = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False,
                                         default=dict, help_text="合理性审核规则代码 → 填写说明（空串删除）")
    base_revision = serializers.IntegerField(
        required=True, min_value=0, help_text="必填：客户端读取时的 revision；他人此后修改过的同一指标或说明返回 409",
        error_messages={"required": "必须提供 base_revision（读取报表时的 revision），以免覆盖他人的修改。",
                        "null": "必须提供 base_revision（读取报表时的 revision），以免覆盖他人的修改。"})

    def validate_values(self, values: dict) -> dict:
        if len(values) > MAX_VALUES_PER_REQUEST:
            raise serializers.ValidationError(f"一次最多保存 {MAX_VALUES_PER_REQUEST} 项。")
        return values

    def validate_members(self, members: dict) -> dict:
        if len(members) > MAX_MEMBERS_PER_REQUEST:
            raise serializers.ValidationError(f"一次最多提交 {MAX_MEMBERS_PER_REQUEST} 个成员单位，请分批保存。")
        if sum(len(v) for v in members.values()) > MAX_VALUES_PER_REQUEST * 10:
            raise serializers.ValidationError("一次提交的成员单位指标过多，请分批保存。")
        if any(len(str(key)) > 64 for key in members):
            raise serializers.ValidationError("成员单位 key 过长（不超过64个字符）。")
        return members

    def validate_explanations(self, explanations: dict) -> dict:
        if len(explanations) > MAX_VALUES_PER_REQUEST:
            raise serializers.ValidationError(f"一次最多保存 {MAX_VALUES_PER_REQUEST} 条说明。")
        return explanations


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=False, trim_whitespace=True)


class OptionalNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class FieldCommentInputSerializer(serializers.Serializer):
    field = serializers.CharField()
    member = serializers.CharField(required=False, allow_blank=True, default="")
    text = serializers.CharField()


class RejectSerializer(ReasonSerializer):
    comments = FieldCommentInputSerializer(many=True, required=False, default=list)


class RecheckSerializer(serializers.Serializer):
    passed = serializers.BooleanField(required=False, default=True, help_text="true 复核通过；false 复核驳回")
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    comments = FieldCommentInputSerializer(many=True, required=False, default=list)


class SubmitResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    snapshot = serializers.IntegerField()
    created = serializers.BooleanField(help_text="false：此前已上报（重复提交不产生新记录）")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
