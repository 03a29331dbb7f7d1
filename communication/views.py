"""Pages of 通知公告 / 下载区, 留言板 / 常见问题, message settings and unsubscribe. Views parse and call actions."""

from __future__ import annotations

from datetime import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Role
from reporting.models import Task
from reporting.selectors import current_task

from . import actions, catalog, selectors
from .models import (
    Category,
    FaqEntry,
    NoticeKind,
    QuestionCategory,
    QuestionStatus,
)

PAGE_SIZE = 30


def _page(request: HttpRequest, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


# --- notices ---------------------------------------------------------------------------------------------------

@login_required
@require_safe
def notices(request: HttpRequest, kind: str = NoticeKind.NOTICE) -> HttpResponse:
    qs = selectors.notices_for(request.user, kind=kind)
    task_code = request.GET.get("task", "")
    if task_code:
        qs = qs.filter(task__code=task_code) | selectors.notices_for(request.user, kind=kind).filter(task=None)
    page = _page(request, qs.prefetch_related("attachments"))
    from .models import NoticeRead

    read = set(NoticeRead.objects.filter(user=request.user, notice__in=list(page.object_list))
               .values_list("notice_id", flat=True))
    for n in page.object_list:
        n.is_read = n.pk in read
    return render(request, "communication/notices.html", {
        "page": page, "kind": kind, "kind_label": NoticeKind(kind).label,
        "active": "downloads" if kind == NoticeKind.DOWNLOAD else "notices",
        "unread_notices": selectors.unread_count(request.user), "can_publish": selectors.can_publish(request.user),
        "tasks": Task.objects.order_by("-period_end"), "task_code": task_code,
    })


@login_required
@require_safe
def downloads(request: HttpRequest) -> HttpResponse:
    return notices(request, kind=NoticeKind.DOWNLOAD)


@login_required
@require_safe
def notice(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.notice_for(request.user, pk)
    actions.notices_mark_read(acting_user=request.user, notice_ids=[item.pk])
    return render(request, "communication/notice.html", {
        "notice": item, "attachments": list(item.attachments.all()),
        "can_withdraw": request.user.is_platform_admin or (request.user.role == Role.REVIEWER
                                                           and request.user.unit_id == item.publisher_unit_id),
    })


@login_required
def notice_new(request: HttpRequest) -> HttpResponse:
    if not selectors.can_publish(request.user):
        raise PermissionDenied("只有国家、省、市级审核用户可以发布通知。")
    levels = selectors.audience_levels_for(request.user.unit)
    form = {"kind": request.GET.get("kind", NoticeKind.NOTICE)}
    if request.method == "POST":
        form = request.POST
        task = Task.objects.filter(code=request.POST.get("task", "")).first()
        try:
            item = actions.notice_publish(
                acting_user=request.user, title=request.POST.get("title", ""), body=request.POST.get("body", ""),
                kind=request.POST.get("kind", NoticeKind.NOTICE), task=task,
                levels=request.POST.getlist("levels"), roles=request.POST.getlist("roles"),
                pinned=bool(request.POST.get("pinned")), send_mail=bool(request.POST.get("send_mail")),
                files=request.FILES.getlist("files"))
        except actions.CommError as e:
            messages.error(request, e.message)
        else:
            messages.success(request, "已发布。")
            return redirect("communication:notice", pk=item.pk)
    return render(request, "communication/notice_form.html", {
        "levels": levels, "roles": Role.choices, "kinds": NoticeKind.choices, "form": form,
        "tasks": Task.objects.order_by("-period_end"),
    })


@login_required
@require_POST
def notice_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.notice_for(request.user, pk)
    try:
        actions.notice_withdraw(acting_user=request.user, notice_id=item.pk)
    except actions.CommError as e:
        raise PermissionDenied(e.message) from None
    messages.success(request, "已撤回。")
    return redirect("communication:notices")


@login_required
@require_POST
def notices_read_all(request: HttpRequest) -> HttpResponse:
    count = actions.notices_mark_read(acting_user=request.user)
    messages.success(request, f"已将{count}条通知标为已读。" if count else "没有未读通知。")
    return redirect("communication:downloads" if request.POST.get("next") == "downloads" else "communication:notices")


# --- 留言板 -----------------------------------------------------------------------------------------------------

@login_required
@require_safe
def questions(request: HttpRequest) -> HttpResponse:
    params = {k: request.GET.get(k, "").strip() for k in ("q", "category", "status", "form", "field")}
    qs = selectors.search_questions(selectors.questions_for(request.user), text=params["q"],
                                    category=params["category"], status=params["status"],
                                    form_code=params["form"], field_code=params["field"])
    mine = request.GET.get("mine") == "1"
    if mine:
        qs = qs.filter(author=request.user)
    todo = request.GET.get("todo") == "1"
    if todo and request.user.unit_id:
        qs = qs.filter(responsible_unit_id=request.user.unit_id, status=QuestionStatus.PENDING)
    return render(request, "communication/questions.html", {
        "page": _page(request, qs), "params": params, "categories": QuestionCategory.choices,
        "statuses": QuestionStatus.choices, "mine": mine, "todo": todo,
    })


@login_required
def question_new(request: HttpRequest) -> HttpResponse:
    form = {k: request.GET.get(k, "") for k in ("form_code", "field_code", "category")}
    similar: list = []
    if request.method == "POST":
        form = request.POST
        text = f"{request.POST.get('title', '')} {request.POST.get('body', '')}"
        if not request.POST.get("confirm"):
            similar = selectors.similar_answered(request.user, text, form_code=request.POST.get("form_code", ""),
                                                 field_code=request.POST.get("field_code", ""))
        if not similar:
            try:
                item = actions.question_ask(
                    acting_user=request.user, category=request.POST.get("category", ""),
                    title=request.POST.get("title", ""), body=request.POST.get("body", ""), task=current_task(),
                    form_code=request.POST.get("form_code", ""), field_code=request.POST.get("field_code", ""))
            except actions.CommError as e:
                messages.error(request, e.message)
            else:
                messages.success(request, "留言已提交，答复后将通知您。")
                return redirect("communication:question", pk=item.pk)
    return render(request, "communication/question_form.html", {
        "form": form, "similar": similar, "categories": QuestionCategory.choices, "forms": catalog.choices(),
    })


@login_required
@require_safe
def question_similar(request: HttpRequest) -> JsonResponse:
    """Answered questions and FAQ entries like the draft (for a client that suggests while typing)."""
    found = selectors.similar_answered(request.user, request.GET.get("q", "")[:2000],
                                       form_code=request.GET.get("form", ""), field_code=request.GET.get("field", ""))
    return JsonResponse({"results": [{"kind": s.kind, "id": s.pk, "title": s.title, "answer": s.answer[:500],
                                      "score": round(s.score, 3)} for s in found]})


@login_required
@require_safe
def question(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.question_for(request.user, pk)
    label = catalog.field_label(item.form_code, item.field_code or None) if item.form_code else None
    return render(request, "communication/question.html", {
        "question": item, "replies": list(item.replies.select_related("author", "unit")),
        "allowed": actions.question_allowed_actions(request.user, item),
        "labels": {k: r.label for k, r in actions.QUESTION_TRANSITIONS.items()},
        "field_label": label, "can_promote": selectors.can_promote(request.user) and item.answered_at,
        "faq": list(item.faq.filter(active=True)),
    })


@login_required
@require_POST
def question_act(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.question_for(request.user, pk)
    if not (selectors.is_asker(request.user, item) or selectors.can_answer(request.user, item)):
        raise PermissionDenied("只有提问单位和负责答复的审核用户可以处理该留言。")
    action = request.POST.get("action", "")
    try:
        actions.question_transition(acting_user=request.user, question_id=item.pk, action=action,
                                    text=request.POST.get("text", ""))
    except actions.CommError as e:
        if e.code == "permission":
            raise PermissionDenied(e.message) from None
        messages.error(request, e.message)
    else:
        messages.success(request, f"已{actions.QUESTION_TRANSITIONS[action].label}。")
    return redirect("communication:question", pk=item.pk)


@login_required
@require_POST
def faq_promote(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.question_for(request.user, pk)
    try:
        actions.faq_promote(acting_user=request.user, question_id=item.pk,
                            question_text=request.POST.get("question_text", ""),
                            answer_text=request.POST.get("answer_text", ""))
    except actions.CommError as e:
        if e.code == "permission":
            raise PermissionDenied(e.message) from None
        messages.error(request, e.message)
    else:
        messages.success(request, "已设为常见问题。")
    return redirect("communication:question", pk=item.pk)


@login_required
@require_safe
def faq(request: HttpRequest) -> HttpResponse:
    qs = FaqEntry.objects.filter(active=True)
    text = request.GET.get("q", "").strip()
    for word in text.split()[:5]:
        from django.db.models import Q

        qs = qs.filter(Q(question_text__icontains=word) | Q(answer_text__icontains=word))
    if request.GET.get("form"):
        qs = qs.filter(form_code=request.GET["form"])
    if request.GET.get("field"):
        qs = qs.filter(field_code=request.GET["field"])
    return render(request, "communication/faq.html", {
        "page": _page(request, qs), "q": text, "can_manage": selectors.can_promote(request.user),
    })


@login_required
@require_POST
def faq_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(FaqEntry, pk=pk, active=True)
    try:
        actions.faq_withdraw(acting_user=request.user, faq_id=entry.pk)
    except actions.CommError as e:
        raise PermissionDenied(e.message) from None
    messages.success(request, "已撤下该常见问题。")
    return redirect("communication:faq")


@login_required
@require_safe
def stats(request: HttpRequest) -> HttpResponse:
    if not selectors.can_see_stats(request.user):
        raise PermissionDenied("只有分析用户和平台管理员可以查看该页面。")
    task = Task.objects.filter(code=request.GET.get("task", "")).first()
    rows = selectors.field_stats(task)
    return render(request, "communication/stats.html", {
        "rows": rows[:500], "total": len(rows), "tasks": Task.objects.order_by("-period_end"), "task": task,
    })


# --- message settings and unsubscribe ---------------------------------------------------------------------------

def _time(value: str) -> time | None:
    try:
        return time.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def contact_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        try:
            actions.contact_update(
                acting_user=user, email=request.POST.get("email", ""), mobile=request.POST.get("mobile", ""),
                daily_digest=bool(request.POST.get("daily_digest")),
                quiet_start=_time(request.POST.get("quiet_start", "")),
                quiet_end=_time(request.POST.get("quiet_end", "")),
                unsubscribed=[c for c in Category.values if c != Category.DIGEST
                              and not request.POST.get(f"cat_{c}")])
        except actions.CommError as e:
            messages.error(request, e.message)
        else:
            messages.success(request, "已保存。")
            return redirect("communication:settings")
    from .models import ContactPreference

    pref = ContactPreference.objects.filter(user=user).first() or ContactPreference(user=user)
    categories = [(value, label, not pref.is_unsubscribed(value)) for value, label in Category.choices
                  if value != Category.DIGEST]
    return render(request, "communication/settings.html", {"pref": pref, "categories": categories})


def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Works without login: GET shows what the link does (mail scanners follow links), POST unsubscribes."""
    done = None
    error = ""
    if request.method == "POST":
        try:
            user, category = actions.unsubscribe(token=token)
            done = Category(category).label
        except actions.CommError as e:
            error = e.message
    else:
        from django.core import signing

        try:
            data = signing.loads(token, salt=actions.UNSUBSCRIBE_SALT)
            Category(data["c"])
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            error = "退订链接无效或已过期。"
        else:
            return render(request, "communication/unsubscribe.html", {"label": Category(data["c"]).label})
    return render(request, "communication/unsubscribe.html", {"done": done, "error": error},
                  status=400 if error else 200)
