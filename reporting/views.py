"""Pages of the reporting app: home (tasks and own forms) and the data-entry page of one submission."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from accounts.models import Role, Unit, UnitLevel, User

from . import entry_layout, panel
from .catalog_loader import member_definition
from .models import Status, Submission
from .panel import client_result
from .policy import can_edit
from .selectors import current_task, submissions_for

SUBMIT_BOX_TEMPLATE = "review/_submit_box.html"
HINT = "未开展填“0”，未统计填“--”"


def _fmt(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def page_submission(user: User, pk: int) -> Submission:
    """One submission in the user's scope (404 outside), without decoding its form definition: the page takes the
    immutable form version from the per-process cache (reporting.panel.prepare)."""
    return get_object_or_404(submissions_for(user).defer("form_version__definition"), pk=pk)


def edit_state(user: User, submission: Submission, at=None) -> tuple[bool, str]:
    """(may edit, reason) from the one edit policy (reporting.policy.can_edit)."""
    decision = can_edit(user, submission, now=at)
    return decision.allowed, decision.reason


def member_rows_of(submission: Submission):
    """The member entries in position order, each with `unit_code` (its member unit's code or None)."""
    return (submission.members.order_by("position", "id")
            .only("id", "submission_id", "key", "position", "values", "member_unit_id")
            .annotate(unit_code=F("member_unit__code")))


def member_payload(members: list) -> list[dict[str, Any]]:
    """Entries as the page script holds them (entries read with `unit_code`: member_rows_of, a save's result)."""
    return [{"key": m.key, "position": m.position, "values": m.values, "unit": m.unit_code or ""} for m in members]


def member_header(sub_definition: dict, key: str, values: dict[str, Any], *, position: int, member_label: str,
                  unit_code: str = "") -> entry_layout.MemberCard:
    """A member card as the page sends it: title and progress only; entry.js builds its rows from the one
    template when the card is opened, so a 40-member form does not carry 40 copies of every field."""
    filled = required = 0
    for spec in sub_definition.get("fields", []):
        if spec.get("optional") or not entry_layout.condition_holds(spec.get("condition"), values):
            continue
        required += 1
        filled += entry_layout.is_filled(values.get(spec["code"]))
    name = values.get("hospital_name")
    title = name if isinstance(name, str) and name and name != "--" else f"{member_label}{position}"
    return entry_layout.MemberCard(key=key, position=position, title=title, unit_code=unit_code, items=[],
                                  filled=filled, required=required)


def field_comment_payload(submission: Submission) -> list[dict[str, str]]:
    """The reviewers' open comments, shown at their fields (a marker and the text) by entry.js."""
    rows = (submission.field_comments.filter(resolved=False).select_related("author")
            .order_by("created_at", "id"))
    return [{"key": f"{c.member_key}/{c.field_code}" if c.member_key else c.field_code, "text": c.text,
             "author": str(c.author) if c.author_id else "", "answer": c.answer or "",
             "at": timezone.localtime(c.created_at).strftime("%m-%d %H:%M")} for c in rows]


def _submit_box_template() -> str:
    try:
        get_template(SUBMIT_BOX_TEMPLATE)
    except TemplateDoesNotExist:
        return ""
    return SUBMIT_BOX_TEMPLATE


def entry_context(request: HttpRequest, submission: Submission) -> dict[str, Any]:
    user = request.user
    panel.attach_definitions(submission)
    definition = submission.form_version.definition
    sub_definition = member_definition(submission)
    editable, readonly_reason = edit_state(user, submission)
    items = entry_layout.layout(definition, submission.values or {})
    filled, required = entry_layout.progress(items)
    member_label = definition.get("member_label") or "成员单位"
    members: list = []
    cards: list[entry_layout.MemberCard] = []
    member_options: list[Unit] = []
    template_card = None
    if sub_definition is not None:
        members = list(member_rows_of(submission))
        cards = [member_header(sub_definition, m.key, m.values or {}, position=i, member_label=member_label,
                               unit_code=m.unit_code or "")
                 for i, m in enumerate(members, start=1)]
        template_card = entry_layout.member_card(sub_definition, entry_layout.MEMBER_TEMPLATE_KEY, {}, position=0,
                                                member_label=member_label)
        template_card.title = f"新{member_label}"
        if editable:
            used = {m.member_unit_id for m in members if m.member_unit_id}
            member_options = [u for u in Unit.objects.filter(parent_id=submission.unit_id, level=UnitLevel.MEMBER)
                              .order_by("sort_key", "code") if u.id not in used]
    panel.prepare(submission, member_rows=[(m.key, m.values) for m in members])  # the panel's member names
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
        "fields": entry_layout.client_fields(definition),
        "member_fields": entry_layout.client_fields(sub_definition) if sub_definition else {},
        "member_label": member_label,
        "values": submission.values or {},
        "members": member_payload(members),
        "explanations": submission.explanations or {},
        "result": client_result(submission.result),
        "indicators": [{"code": i["code"], "label": i.get("label", i["code"]), "unit": i.get("unit", ""),
                        "target": i.get("target")} for i in definition.get("indicators", [])],
        "member_indicators": ([{"code": i["code"], "label": i.get("label", i["code"]), "unit": i.get("unit", "")}
                               for i in sub_definition.get("indicators", [])] if sub_definition else []),
        "urls": urls,
        "comments": field_comment_payload(submission),
    }
    return {
        "submission": submission,
        "task": submission.task,
        "definition": definition,
        "editable": editable,
        "readonly_reason": readonly_reason,
        "items": items,
        "nav": entry_layout.navigation(items),
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
    submission = page_submission(request.user, pk)
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


@login_required
@require_safe
def task_history(request: HttpRequest) -> HttpResponse:
    """任务/表期 history: every task the user's unit took part in, newest first, with its forms. Forms of a
    task whose window has closed open read-only (edit_state says why)."""
    user = request.user
    rows: dict[int, dict[str, Any]] = {}
    qs = (submissions_for(user).filter(unit_id=user.unit_id) if user.unit_id else Submission.objects.none())
    for s in qs.defer(*HISTORY_DEFER).order_by("-task__period_end", "-task_id", "form_code"):
        row = rows.setdefault(s.task_id, {"task": s.task, "forms": []})
        row["forms"].append({"submission": s, "editable": edit_state(user, s)[0]})
    current = current_task()
    return render(request, "reporting/history.html", {"tasks": list(rows.values()),
                                                      "current_id": current.pk if current else None})


HISTORY_DEFER = ("values", "explanations", "result", "form_version__definition")
