"""Pages of the reporting app: home (tasks and own forms) and the data-entry page of one submission."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from accounts.models import Role, Unit, UnitLevel, User

from . import forms as entry_forms
from .catalog import member_definition
from .models import Status, Submission
from .selectors import current_task, submission_for, submissions_for

SUBMIT_BOX_TEMPLATE = "review/_submit_box.html"
HINT = "未开展填“0”，未统计填“--”"


def _fmt(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def edit_state(user: User, submission: Submission, at=None) -> tuple[bool, str]:
    """Whether `user` may change the submission now, and if not, the reason shown on the page."""
    if user.role != Role.FILLER or user.unit_id != submission.unit_id:
        return False, f"您是{user.get_role_display()}用户，只能查看本单位报表，不能修改。"
    if not submission.is_editable:
        hint = "如需修改，请联系上级审核单位驳回。" if submission.status == Status.SUBMITTED else ""
        return False, f"报表状态为“{submission.get_status_display()}”，不能修改。{hint}"
    at = at or timezone.now()
    if at < submission.task.window_open:
        return False, f"填报尚未开始（{_fmt(submission.task.window_open)} 开始）。"
    if at > submission.deadline():
        return False, (f"填报已于 {_fmt(submission.deadline())} 截止，报表已锁定；"
                       "如需补报请联系上级单位延期。")
    return True, ""


def member_payload(members: list) -> list[dict[str, Any]]:
    return [{"key": m.key, "position": m.position, "values": m.values,
             "unit": m.member_unit.code if m.member_unit_id and m.member_unit else ""} for m in members]


def _submit_box_template() -> str:
    try:
        get_template(SUBMIT_BOX_TEMPLATE)
    except TemplateDoesNotExist:
        return ""
    return SUBMIT_BOX_TEMPLATE


def entry_context(request: HttpRequest, submission: Submission) -> dict[str, Any]:
    user = request.user
    definition = submission.form_version.definition
    sub_definition = member_definition(submission)
    editable, readonly_reason = edit_state(user, submission)
    items = entry_forms.layout(definition, submission.values or {})
    filled, required = entry_forms.progress(items)
    member_label = definition.get("member_label") or "成员单位"
    members: list = []
    cards: list[entry_forms.MemberCard] = []
    member_options: list[Unit] = []
    template_card = None
    if sub_definition is not None:
        members = list(submission.members.select_related("member_unit").order_by("position", "id"))
        cards = [entry_forms.member_card(sub_definition, m.key, m.values or {}, position=i,
                                         member_label=member_label,
                                         unit_code=m.member_unit.code if m.member_unit else "")
                 for i, m in enumerate(members, start=1)]
        template_card = entry_forms.member_card(sub_definition, entry_forms.MEMBER_TEMPLATE_KEY, {}, position=0,
                                                member_label=member_label)
        template_card.title = f"新{member_label}"
        if editable:
            used = {m.member_unit_id for m in members if m.member_unit_id}
            member_options = [u for u in Unit.objects.filter(parent_id=submission.unit_id, level=UnitLevel.MEMBER)
                              .order_by("sort_key", "code") if u.id not in used]
    urls = {
        "state": reverse("submission_state_api", args=[submission.pk]),
        "save": reverse("submission_save_api", args=[submission.pk]),
        "check": reverse("submission_check_api", args=[submission.pk]),
        "member_add": reverse("member_add_api", args=[submission.pk]),
        "member_remove": reverse("member_remove_api", args=[submission.pk, "__KEY__"]),
        "login": reverse("login"),
    }
    data = {
        "id": submission.pk,
        "user": user.username,
        "revision": submission.revision,
        "status": submission.status,
        "status_display": submission.get_status_display(),
        "editable": editable,
        "readonly_reason": readonly_reason,
        "fields": entry_forms.client_fields(definition),
        "member_fields": entry_forms.client_fields(sub_definition) if sub_definition else {},
        "member_label": member_label,
        "values": submission.values or {},
        "members": member_payload(members),
        "explanations": submission.explanations or {},
        "result": submission.result or {},
        "indicators": [{"code": i["code"], "label": i.get("label", i["code"]), "unit": i.get("unit", ""),
                        "target": i.get("target")} for i in definition.get("indicators", [])],
        "member_indicators": ([{"code": i["code"], "label": i.get("label", i["code"]), "unit": i.get("unit", "")}
                               for i in sub_definition.get("indicators", [])] if sub_definition else []),
        "urls": urls,
    }
    return {
        "submission": submission,
        "task": submission.task,
        "definition": definition,
        "editable": editable,
        "readonly_reason": readonly_reason,
        "items": items,
        "nav": entry_forms.navigation(items),
        "filled": filled,
        "required": required,
        "has_members": sub_definition is not None,
        "member_label": member_label,
        "cards": cards,
        "template_card": template_card,
        "member_options": member_options,
        "entry_data": data,
        "hint": HINT,
        "deadline": submission.deadline(),
        "window_open": submission.window_is_open(),
        "submit_box_template": _submit_box_template(),
    }


@login_required
@require_safe
@ensure_csrf_cookie
def submission_entry(request: HttpRequest, pk: int) -> HttpResponse:
    """The data-entry page of one submission (read-only for reviewers, analysts and locked forms)."""
    submission = submission_for(request.user, pk)
    return render(request, "reporting/entry.html", entry_context(request, submission))


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    task = current_task()
    own: list[dict[str, Any]] = []
    summary: list[dict[str, Any]] = []
    total = 0
    if task is not None and user.unit_id:
        if user.role == Role.FILLER:
            for s in (submissions_for(user).filter(task=task, unit_id=user.unit_id)
                      .select_related("updated_by").order_by("form_code")):
                editable, reason = edit_state(user, s)
                own.append({"submission": s, "editable": editable, "reason": reason,
                            "last_change": s.updated_at if s.revision or s.status != Status.NOT_STARTED else None})
        else:
            counts = dict(submissions_for(user).filter(task=task).order_by().values("status")
                          .annotate(n=Count("id")).values_list("status", "n"))
            total = sum(counts.values())
            summary = [{"status": value, "label": label, "count": counts.get(value, 0)}
                       for value, label in Status.choices]
    return render(request, "reporting/home.html", {
        "task": task, "own_submissions": own, "summary": summary, "total": total,
        "is_supervisor": user.role in (Role.REVIEWER, Role.ANALYST, Role.ADMIN) or user.is_superuser,
    })
