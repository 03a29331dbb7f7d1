"""Template helpers for the review boxes that other pages include (the data-entry page):

    {% load review_tags %}
    {% submit_state submission as box %}     → what the 上报 box shows (gate list, deadline, rejection)
    {% review_state submission as rbox %}    → the reviewer actions the current user may take
    {% field_comments submission as notes %} → {"code" or "memberkey/code": [FieldComment, …]}
    {{ notes|comments_for:"code" }}          → the comments of one field ("memberkey/code" for a member field)
"""

from __future__ import annotations

from typing import Any

from django import template
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from reporting.catalog_loader import member_definition
from reporting.models import Status, Submission, Transition
from reporting.workflow import TRANSITIONS, Actor, actor_kinds, allowed_actions

from ..actions import blocking_items, member_names
from ..hooks import extra_blocking, extra_targets, links
from ..models import FieldComment

register = template.Library()

REASON_ACTIONS = ("reject", "recheck_reject", "withdraw", "reopen")


def _user(context: template.Context) -> Any:
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


def _latest_reason(submission: Submission) -> Transition | None:
    return (Transition.objects.filter(submission=submission, action__in=REASON_ACTIONS)
            .select_related("actor", "actor__unit").order_by("-at", "-id").first())


def _latest(submission: Submission) -> Transition | None:
    return (Transition.objects.filter(submission=submission).exclude(action="start")
            .select_related("actor", "actor__unit").order_by("-at", "-id").first())


def label_comments(submission: Submission, comments: list[FieldComment]) -> list[FieldComment]:
    """Give each comment a `label`: the field's label (with the member entry's name for member fields)."""
    lead = {f["code"]: f.get("label", f["code"]) for f in submission.form_version.definition.get("fields", [])}
    member = {}
    if any(c.member_key for c in comments):
        member = {f["code"]: f.get("label", f["code"]) for f in (member_definition(submission) or {}).get("fields", [])}
    names = dict(member_names(submission)) if member else {}
    for c in comments:
        if c.member_key:
            c.label = f"{names.get(c.member_key) or '成员单位'} · {member.get(c.field_code, c.field_code)}"
        else:
            c.label = lead.get(c.field_code) or extra_targets(submission).get(c.field_code, c.field_code)
    return comments


@register.simple_tag(takes_context=True)
def submit_state(context: template.Context, submission: Submission) -> dict:
    """Everything templates/review/_submit_box.html shows (computed once per submission object and request)."""
    cached = getattr(submission, "_submit_state", None)
    if cached is not None:
        return cached
    user = _user(context)
    is_filler = user is not None and Actor.FILLER in actor_kinds(user, submission)
    now = timezone.now()
    deadline = submission.deadline()
    window_open = submission.task.window_open <= now <= deadline
    result = submission.result or {}
    blocking = blocking_items(result, submission.form_version.definition, member_definition(submission),
                              member_names(submission)) + extra_blocking(submission) if submission.is_editable else []
    soft_explained = [v for v in result.get("violations", []) or []
                      if v.get("severity") == "soft" and v.get("explained")]
    # read only when a template shows it (a rejection or reopening reason), not on every autosave's panel
    latest = SimpleLazyObject(lambda: _latest_reason(submission))
    comments = label_comments(submission, list(FieldComment.objects.filter(submission=submission, resolved=False)
                                                .select_related("author", "author__unit")))
    can_submit = is_filler and submission.status in TRANSITIONS["submit"].sources and window_open
    submission._submit_state = {
        "submission": submission,
        "is_filler": is_filler,
        "can_submit": can_submit,
        "ready": can_submit and not blocking,
        "blocking": blocking,
        "soft_explained": soft_explained,
        "evaluated": bool(result),
        "deadline": deadline,
        "extended": submission.deadline_override is not None,
        "window_open": window_open,
        "not_yet_open": now < submission.task.window_open,
        "latest": latest,
        "rejected": submission.status == Status.REJECTED,
        "comments": comments,
        "submit_url": reverse("review:submit", args=[submission.pk]),
        "review_url": reverse("review:submission", args=[submission.pk]),
        "audit_url": reverse("review:audit", args=[submission.pk]),
        "links": links(submission),
        "next": context.get("next_url") or (context.get("request").get_full_path() if context.get("request") else ""),
    }
    return submission._submit_state


@register.simple_tag(takes_context=True)
def review_state(context: template.Context, submission: Submission) -> dict:
    """Everything templates/review/_review_box.html shows: the actions the current user may take."""
    user = _user(context)
    allowed = set(allowed_actions(user, submission)) if user is not None else set()
    allowed.discard("start")
    allowed.discard("submit")
    kinds = actor_kinds(user, submission) if user is not None else set()
    request = context.get("request")
    return {
        "submission": submission,
        "allowed": allowed,
        "any": bool(allowed),
        "can_comment": Actor.SUPERVISOR in kinds and submission.status != Status.NOT_STARTED,
        "act_url": reverse("review:act", args=[submission.pk]),
        "comment_url": reverse("review:comment_add", args=[submission.pk]),
        "review_url": reverse("review:submission", args=[submission.pk]),
        "audit_url": reverse("review:audit", args=[submission.pk]),
        "next": context.get("next_url") or (request.get_full_path() if request else ""),
        "latest": _latest(submission),
        "default_deadline": timezone.localtime(timezone.now() + timezone.timedelta(days=7)).strftime(
            "%Y-%m-%dT18:00"),
        "fields": [(f["code"], f.get("label", f["code"])) for f in submission.form_version.definition.get("fields", [])],
    }


@register.simple_tag
def field_comments(submission: Submission) -> dict[str, list[FieldComment]]:
    out: dict[str, list[FieldComment]] = {}
    for c in FieldComment.objects.filter(submission=submission).select_related("author", "author__unit",
                                                                                 "answered_by"):
        key = f"{c.member_key}/{c.field_code}" if c.member_key else c.field_code
        out.setdefault(key, []).append(c)
    return out


@register.filter
def comments_for(notes: dict | None, key: str) -> list:
    return (notes or {}).get(key, [])


@register.filter
def get_item(mapping: dict | None, key: Any) -> Any:
    return (mapping or {}).get(key)


@register.filter
def action_label(action: str) -> str:
    rule = TRANSITIONS.get(action)
    return rule.label if rule else action


@register.filter
def delta_class(delta: float | None) -> str:
    if delta is None:
        return ""
    if abs(delta) >= 30:
        return "text-danger fw-semibold"
    return "text-muted"


@register.simple_tag(takes_context=True)
def live_state(context: template.Context, submission: Submission) -> dict:
    """The latest evaluation of the data-entry page as one view (templates/reporting/_live_*.html): the verdict of
    the 上报 card and the list of the results panel come from the same stored (or just computed) result, so the
    card can never call a form ready while the list shows open problems."""
    from ..selectors import indicator_rows

    cached = getattr(submission, "_live_state", None)
    if cached is not None:
        return cached
    result = submission.result or {}
    names = dict(member_names(submission)) if submission.form_version.definition.get("subform") else {}
    items: list[dict] = []
    hard = soft = soft_explained = 0
    for v in result.get("violations", []) or []:
        kind = "hard" if v.get("severity") == "hard" else "soft"
        explained = kind == "soft" and bool(v.get("explained"))
        hard += kind == "hard"
        soft += kind == "soft"
        soft_explained += explained
        member = v.get("member") or ""
        items.append({"kind": kind, "check": v.get("check", ""), "message": v.get("message", ""),
                      "member": member, "member_name": names.get(member, "") if member else "",
                      "field": (v.get("fields") or [""])[0], "explained": explained})
    items.sort(key=lambda i: (i["kind"] != "hard", i["explained"]))
    unfilled_items = [b for b in blocking_items(result, submission.form_version.definition,
                                                member_definition(submission), list(names.items()))
                      if b["kind"] == "unfilled"]
    unfilled = sum(len(b["fields"]) for b in unfilled_items)
    for b in unfilled_items:
        items.append({"kind": "unfilled", "check": "", "message": b["message"], "member": b["member"],
                      "member_name": "", "field": (b["fields"] or [""])[0], "explained": False})
    extra = extra_blocking(submission) if submission.is_editable else []  # e.g. the required report (hooks)
    for b in extra:
        items.append({"kind": b.get("kind", "other"), "check": b.get("check", ""), "message": b["message"],
                      "member": "", "member_name": "", "field": "", "explained": False})
    soft_open = soft - soft_explained
    evaluated = bool(result)
    open_problems = hard + soft_open + len(unfilled_items) + len(extra)
    now = timezone.now()
    if submission.status == Status.SUBMITTED:
        state, text = "submitted", f"已于 {timezone.localtime(submission.submitted_at):%Y-%m-%d %H:%M} 上报，等待上级审核。" \
            if submission.submitted_at else "已上报，等待上级审核。"
    elif submission.status in (Status.APPROVED, Status.RECHECKED):
        state, text = "done", f"{submission.get_status_display()}。"
    elif now < submission.task.window_open:
        state, text = "closed", "填报尚未开始。"
    elif now > submission.deadline():
        state, text = "closed", "已过填报截止时间，报表已锁定，不能上报；如需补报请联系上级单位延期。"
    elif not evaluated:
        state, text = "none", "尚未审核：上报前请点击“审核”检查已填内容。"
    elif open_problems:
        parts = [f"审核{hard}项须修改" if hard else "", f"合理性审核{soft_open}项须填写说明" if soft_open else "",
                 f"{unfilled}项必填内容未填写" if unfilled else "",
                 "；".join(b["message"].rstrip("。") for b in extra)]
        state, text = "blocked", "尚有问题，处理后才能上报：" + "、".join(p for p in parts if p) + "。"
    elif soft_explained:
        state, text = "ready", f"可以上报：{soft_explained}项合理性审核提示已填写说明。"
    else:
        state, text = "ready", "未发现审核问题，可以上报。"
    counts = [f"须修改 {hard}" if hard else "", f"待说明 {soft_open}" if soft_open else "",
              f"已说明 {soft_explained}" if soft_explained else "", f"未填 {unfilled}" if unfilled else ""]
    submission._live_state = {
        "evaluated": evaluated, "state": state, "text": text, "items": items,
        "hard": hard, "soft": soft, "soft_open": soft_open, "soft_explained": soft_explained, "unfilled": unfilled,
        "counts_text": " · ".join(c for c in counts if c) or "无问题",
        "indicators": indicator_rows(submission.form_version.definition, result, None),
    }
    return submission._live_state


@register.simple_tag(takes_context=True)
def page_url(context: template.Context, param: str, number: int) -> str:
    """The current URL with `param` set to page `number` (other filters and pagers kept)."""
    request = context.get("request")
    query = request.GET.copy() if request is not None else QueryDict(mutable=True)
    query[param] = str(number)
    return "?" + query.urlencode()
