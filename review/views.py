"""Review pages: queue (with bulk approval), the review view of one submission, its audit trail, the progress
board (进度明细) and notifications. Views only parse input and call review.actions."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Role
from exports.actions import export_request
from exports.models import ExportJob
from reporting.catalog_loader import member_definition
from reporting.models import Status, Submission, Task, TaskForm
from reporting.selectors import current_task, submission_for
from reporting.workflow import TRANSITIONS, TransitionError, allowed_actions

from . import actions, hooks, selectors
from .exporting import register_kinds
from .models import FieldComment, Notification
from .paging import page_of
from .templatetags.review_tags import label_comments

ACTION_DONE = {"approve": "已审核通过。", "reject": "已驳回，填报单位将收到通知。", "recheck": "已复核通过。",
               "recheck_reject": "已复核驳回，填报单位将收到通知。", "withdraw": "已撤销审核结果。",
               "reopen": "已为该单位延期填报。"}


def _next(request: HttpRequest, default: str) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return url
    return default


def _task(request: HttpRequest) -> Task:
    code = request.GET.get("task")
    task = Task.objects.filter(code=code).first() if code else current_task()
    if task is None:
        raise Http404("当前没有填报任务。")
    return task


def _require_supervisor(request: HttpRequest) -> None:
    if not selectors.is_supervisor(request.user):
        raise PermissionDenied("只有审核、分析和管理用户可以查看该页面。")


def _refused(request: HttpRequest, error: TransitionError | actions.ReviewError) -> None:
    """A user with no part in the action gets 403 (the workflow's code "permission"); a role holder refused for
    the status or a missing reason gets the message on the page."""
    if error.code == "permission":
        raise PermissionDenied(error.message)
    messages.error(request, error.message)


def _export(request: HttpRequest, kind: str, task: Task, params: dict, fallback: str) -> HttpResponse:
    """Build an export right away through the exports app and hand over its download."""

    register_kinds()  # idempotent; also found by exports.registry.autodiscover() through review/export_kinds.py
    job = export_request(acting_user=request.user, task=task, kind=kind, params=params, inline=True)
    if job.state != ExportJob.State.DONE:
        messages.error(request, job.error or "导出失败，请稍后再试。")
        return redirect(fallback)
    return redirect("exports:download", pk=job.pk)


# --- queue -----------------------------------------------------------------------------------------------------

@login_required
def queue(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request)
    task = _task(request)
    if request.method == "POST":
        if request.user.role != Role.REVIEWER:
            raise PermissionDenied("只有审核用户可以批量审核通过。")
        ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
        if not ids:
            messages.warning(request, "请先勾选要审核通过的报表。")
        else:
            outcome = actions.approve_bulk(acting_user=request.user, submission_ids=ids)
            if outcome.approved:
                messages.success(request, f"已批量审核通过{len(outcome.approved)}份报表。")
            if outcome.skipped:
                request.session["bulk_skipped"] = [[pk, reason] for pk, reason in outcome.skipped]
                messages.warning(request, f"{len(outcome.skipped)}份报表未通过批量审核，请逐份审核。")
        return redirect(f"{reverse('review:queue')}?task={task.code}")
    params = {key: request.GET.get(key, "").strip() for key in ("form", "q")}
    items = selectors.queue_for(request.user, task)
    if params["form"]:
        items = items.filter(form_code=params["form"])
    if params["q"]:
        items = items.filter(Q(unit__name__icontains=params["q"]) | Q(unit__code__startswith=params["q"]))
    to_approve = page_of(request, items.filter(status=Status.SUBMITTED), "page")
    to_recheck = page_of(request, items.filter(status=Status.APPROVED), "rpage")
    skipped = request.session.pop("bulk_skipped", None) or []
    names = {s.pk: f"{s.unit.name} · {s.form_version.title}"
             for s in Submission.objects.filter(pk__in=[pk for pk, _ in skipped]).select_related(
                 "unit", "form_version").only("unit__name", "form_version__title")}
    return render(request, "review/queue.html", {
        "task": task, "params": params, "form_choices": _form_choices(task),
        "to_approve": [{"submission": s, "summary": selectors.violation_summary(s.result)} for s in to_approve],
        "to_recheck": [{"submission": s, "summary": selectors.violation_summary(s.result)} for s in to_recheck],
        "approve_page": to_approve, "recheck_page": to_recheck,
        "skipped": [{"id": pk, "name": names.get(pk, f"#{pk}"), "reason": reason} for pk, reason in skipped],
    })


# --- one submission ---------------------------------------------------------------------------------------------

@login_required
@require_safe
def submission_review(request: HttpRequest, pk: int) -> HttpResponse:
    submission = submission_for(request.user, pk)
    definition = submission.form_version.definition
    sub_definition = member_definition(submission)
    result = submission.result or {}
    previous = selectors.previous_submission(submission)
    comments: dict[tuple[str, str], list[FieldComment]] = {}
    all_comments = label_comments(submission, list(submission.field_comments.select_related(
        "author", "author__unit", "answered_by")))
    for c in all_comments:
        comments.setdefault((c.member_key, c.field_code), []).append(c)
    flagged_lead: set[str] = set()
    flagged_members: dict[str, set[str]] = {}
    violations = []
    explanations = submission.explanations or {}
    member_entries = list(submission.members.select_related("member_unit").order_by("position", "id"))
    member_title = {m.key: (m.values or {}).get("hospital_name") or (m.member_unit.name if m.member_unit else "")
                    for m in member_entries}
    for v in result.get("violations", []) or []:
        member = v.get("member") or ""
        (flagged_members.setdefault(member, set()) if member else flagged_lead).update(v.get("fields") or [])
        key = v.get("explanation_key") or v.get("check")
        violations.append({**v, "explanation_text": v.get("explanation") or explanations.get(key, ""),
                           "member_name": member_title.get(member, "")})
    prev_members = {}
    if previous is not None:
        for m in previous.members.select_related("member_unit").order_by("position", "id"):
            prev_members[m.member_unit_id or m.key] = m.values
    members = []
    for i, m in enumerate(member_entries, start=1):
        prev = prev_members.get(m.member_unit_id or m.key)
        members.append({
            "entry": m, "index": i, "title": member_title.get(m.key) or f"第{i}个",
            "sections": selectors.sections(sub_definition or {}, m.values or {}, prev, comments,
                                           flagged_members.get(m.key, set()), member_key=m.key),
        })
    allowed = allowed_actions(request.user, submission)
    can_reject = bool({"reject", "recheck_reject"} & set(allowed))
    return render(request, "review/submission.html", {
        "submission": submission, "definition": definition, "task": submission.task,
        "sections": selectors.sections(definition, submission.values or {},
                                       previous.values if previous else None, comments, flagged_lead),
        "members": members, "member_label": definition.get("member_label") or "成员单位",
        "violations": violations, "summary": selectors.violation_summary(result),
        "indicators": selectors.indicator_rows(definition, result, previous.result if previous else None),
        "previous": previous, "comments": all_comments,
        "transitions": submission.transitions.select_related("actor", "actor__unit").order_by("-at", "-id"),
        "allowed": allowed, "can_reject": can_reject,
        "entry_url": _entry_url(submission.pk), "extra_panels": hooks.panels(request, submission),
    })


def _entry_url(pk: int) -> str:
    try:
        return reverse("submission_entry", args=[pk])
    except Exception:  # the data-entry page is another app's; the review page works without it
        return ""


@login_required
@require_POST
def submission_submit(request: HttpRequest, pk: int) -> HttpResponse:
    submission = submission_for(request.user, pk)
    back = _next(request, reverse("review:submission", args=[pk]))
    try:
        outcome = actions.submission_submit(acting_user=request.user, submission_id=submission.pk)
    except actions.SubmitRefused as e:
        messages.error(request, f"{e.message} " + "；".join(b["message"] for b in e.blocking[:8]))
    except TransitionError as e:
        _refused(request, e)
    else:
        messages.success(request, "已上报，等待上级审核。" if outcome.created else "该报表已上报，无需重复上报。")
    return HttpResponseRedirect(back)


def _comments_from_post(request: HttpRequest) -> list[dict]:
    """Per-field comments of a rejection: inputs named comment:<member key>:<field code>, plus
    comment_field / comment_member / comment_text rows (the box on the data-entry page)."""
    out = []
    for name, text in request.POST.items():
        if name.startswith("comment:") and text.strip():
            _, member, code = name.split(":", 2)
            out.append({"field": code, "member": member, "text": text})
    fields = request.POST.getlist("comment_field")
    texts = request.POST.getlist("comment_text")
    members = request.POST.getlist("comment_member")
    for i, (code, text) in enumerate(zip(fields, texts, strict=False)):
        if code and text.strip():
            out.append({"field": code, "member": members[i] if i < len(members) else "", "text": text})
    return out


def _deadline(raw: str) -> datetime | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            value = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        if fmt == "%Y-%m-%d":
            value = value.replace(hour=23, minute=59)
        return timezone.make_aware(value)
    return None


@login_required
@require_POST
def submission_act(request: HttpRequest, pk: int) -> HttpResponse:
    submission = submission_for(request.user, pk)
    action = request.POST.get("action", "")
    rule = TRANSITIONS.get(action)
    if rule is None or not rule.offered:
        return HttpResponseBadRequest(f"未知操作：{action}")
    reason = request.POST.get("reason", "")
    back = _next(request, reverse("review:submission", args=[pk]))
    try:
        if action == "approve":
            actions.submission_approve(acting_user=request.user, submission_id=submission.pk,
                                       note=request.POST.get("note", ""))
        elif action == "reject":
            actions.submission_reject(acting_user=request.user, submission_id=submission.pk, reason=reason,
                                      comments=_comments_from_post(request))
        elif action in ("recheck", "recheck_reject"):
            actions.submission_recheck(acting_user=request.user, submission_id=submission.pk,
                                       passed=action == "recheck", reason=reason,
                                       comments=_comments_from_post(request))
        elif action == "withdraw":
            actions.submission_withdraw(acting_user=request.user, submission_id=submission.pk, reason=reason)
        elif action == "reopen":
            deadline = _deadline(request.POST.get("deadline", ""))
            if deadline is None:
                raise actions.ReviewError("请填写新的截止时间。")
            actions.submission_reopen(acting_user=request.user, submission_id=submission.pk, deadline=deadline,
                                      reason=reason)
        else:
            raise actions.ReviewError(f"未知操作：{action}")
    except (TransitionError, actions.ReviewError) as e:
        _refused(request, e)
    else:
        messages.success(request, ACTION_DONE.get(action, "已完成。"))
    return HttpResponseRedirect(back)


@login_required
@require_POST
def comment_add(request: HttpRequest, pk: int) -> HttpResponse:
    submission = submission_for(request.user, pk)
    back = _next(request, reverse("review:submission", args=[pk]))
    try:
        actions.field_comment_add(acting_user=request.user, submission_id=submission.pk,
                                  field_code=request.POST.get("field", ""), member_key=request.POST.get("member", ""),
                                  text=request.POST.get("text", ""))
    except actions.ReviewError as e:
        _refused(request, e)
    else:
        messages.success(request, "批注已添加，填报单位将收到通知。")
    return HttpResponseRedirect(back)


@login_required
@require_POST
def comment_answer(request: HttpRequest, pk: int, comment_id: int) -> HttpResponse:
    submission = submission_for(request.user, pk)
    comment = get_object_or_404(FieldComment, pk=comment_id, submission=submission)
    back = _next(request, reverse("review:submission", args=[pk]))
    try:
        actions.field_comment_answer(acting_user=request.user, comment_id=comment.pk,
                                     text=request.POST.get("answer", ""))
    except actions.ReviewError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, "已回复批注。")
    return HttpResponseRedirect(back)


@login_required
@require_safe
def audit(request: HttpRequest, pk: int) -> HttpResponse:
    submission = submission_for(request.user, pk)
    if request.GET.get("format") == "xlsx":
        return _export(request, "submission_audit", submission.task, {"submission": submission.pk},
                       reverse("review:audit", args=[pk]))
    items = selectors.audit_trail(submission, submission.form_version.definition,
                                  member_definition(submission))
    kind = request.GET.get("kind", "")
    if kind in ("value", "status"):
        items = [i for i in items if i["kind"] == kind]
    page = page_of(request, items)
    return render(request, "review/audit.html", {"submission": submission, "items": list(page), "page": page,
                                                 "kind": kind,
                                                 "labels": {k: r.label for k, r in TRANSITIONS.items()}})


# --- progress board ---------------------------------------------------------------------------------------------

@login_required
@require_safe
def progress(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request)
    task = _task(request)
    params = {key: request.GET.get(key, "").strip() for key in ("unit", "form", "status", "name")}
    if params["status"] and params["status"] not in dict(Status.choices):
        params["status"] = ""
    if request.GET.get("format") == "xlsx":
        return _export(request, "progress", task, {k: v for k, v in params.items() if v},
                       f"{reverse('review:progress')}?task={task.code}")
    board = selectors.progress_board(request.user, task, unit_code=params["unit"] or None,
                                     form=params["form"] or None, status=params["status"] or None,
                                     name=params["name"] or None)
    page = page_of(request, board.rows)
    notes = hooks.notes(task, [(c.submission_id, r.unit.level) for r in page for c in r.cells.values() if c.own])
    for r in page:
        for c in r.cells.values():
            c.note = notes.get(c.submission_id, "") if c.own else ""
    return render(request, "review/progress.html", {
        "task": task, "board": board, "params": params, "statuses": Status.choices,
        "board_links": [link for source in hooks.board_links for link in source(request, task, board.unit)],
        "rows": [(row, row.cell_list(board.form_codes)) for row in page],
        "page": page,
        "form_choices": _form_choices(task),
    })


def _form_choices(task: Task) -> list[tuple[str, str]]:
    return [(code, title) for code, title, parent in TaskForm.objects.filter(task=task).order_by("form_code")
            .values_list("form_code", "version__title", "version__definition__parent") if not parent]


# --- notifications ----------------------------------------------------------------------------------------------

@login_required
@require_safe
def notifications(request: HttpRequest) -> HttpResponse:
    mine = Notification.objects.filter(recipient=request.user)
    only_unread = request.GET.get("unread") == "1"
    page = page_of(request, (mine.filter(read_at__isnull=True) if only_unread else mine)
                   .select_related("submission", "submission__unit").order_by("-created_at", "-id"))
    return render(request, "review/notifications.html", {
        "items": list(page), "page": page, "only_unread": only_unread,
        "unread": mine.filter(read_at__isnull=True).count()})


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    count = actions.notifications_mark_read(acting_user=request.user, ids=ids or None)
    if count:
        messages.success(request, f"已将{count}条通知标为已读。")
    return redirect("review:notifications")


@login_required
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    actions.notifications_mark_read(acting_user=request.user, ids=[notification.pk])
    if notification.submission_id:
        return redirect("review:submission", pk=notification.submission_id)
    return redirect("review:notifications")
