"""Pages of the sampling app: batches (new → preview → commit), a batch with its board, a sample (raise items,
on-site records), an item (answer; diff and close / send back / escalate), the item list (drill-down)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role, Unit, UnitLevel, User
from reporting.catalog_loader import member_definition
from reporting.models import Task
from reporting.selectors import current_task

from . import actions
from .models import Item, ItemState, Part, Sample
from .selection import KIND_LABELS, PARAM_LABELS, Params, SelectionError
from .selectors import (
    answered_ids,
    batches_for,
    board,
    diff,
    is_overdue,
    item_filter,
    items_for,
    members_of,
    onsite_summary,
    samples_for,
    shown,
)
from .transitions import ItemError, allowed_item_actions, is_sampler


def _is_sampler_user(user: User) -> bool:
    return bool(user.role in (Role.ANALYST, Role.REVIEWER) and user.unit_id
                and user.unit.level in (UnitLevel.NATION, UnitLevel.PROVINCE))


def _require_sampler(user: User) -> None:
    if not _is_sampler_user(user):
        raise PermissionDenied("只有国家级或省级的审核、分析用户可以抽检。")


def _date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def _int(raw: str | None, default: int | None = None) -> int | None:
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        return default


def _float(raw: str | None, default: float) -> float:
    try:
        return float(str(raw).strip())
    except (TypeError, ValueError):
        return default


def _scopes(user: User) -> list[Unit]:
    if user.unit.level == UnitLevel.NATION:
        return [user.unit, *Unit.objects.filter(level=UnitLevel.PROVINCE).order_by("code")]
    return [user.unit]


def _params_from(data) -> tuple[Params, list[str]]:
    errors = []
    size, seed = _int(data.get("size")), _int(data.get("seed"))
    if size is None or size < 1:
        errors.append("抽样数量须为正整数。")
    if seed is None:
        errors.append("随机种子须为整数。")
    split = [c.strip() for c in (data.get("indicators") or "").replace("，", ",").split(",") if c.strip()]
    params = Params(size=size or 1, seed=seed or 0, random_share=_float(data.get("random_share"), 0.3),
                    forms=[f for f in data.getlist("forms") if f], z_threshold=_float(data.get("z"), 3.5),
                    indicators=split, min_explanation_chars=_int(data.get("min_chars"), 10) or 10,
                    change_share=_float(data.get("change_share"), 0.5),
                    change_min_base=_float(data.get("change_min_base"), 10),
                    min_rejections=_int(data.get("min_rejections"), 2) or 2)
    return params, errors


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    _require_sampler(request.user)
    batches = list(batches_for(request.user).order_by("-created_at", "-id")[:100])
    task = current_task()
    return render(request, "sampling/index.html", {
        "batches": batches, "tasks": Task.objects.order_by("-period_end", "-id")[:20], "task": task,
        "scopes": _scopes(request.user), "forms": ["t1", "t2", "t3", "t4"], "seed": dt.date.today().strftime("%Y%m%d"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def preview(request: HttpRequest) -> HttpResponse:
    """The selection as it would be committed (nothing written); the commit form carries the same parameters."""
    _require_sampler(request.user)
    data = request.POST if request.method == "POST" else request.GET
    task = get_object_or_404(Task, code=data.get("task", ""))
    scope = get_object_or_404(Unit, code=data.get("scope", ""))
    params, errors = _params_from(data)
    picks = []
    if not errors:
        try:
            picks = actions.batch_preview(acting_user=request.user, task=task, scope=scope, params=params)
        except SelectionError as e:
            errors.append(str(e))
    if request.method == "POST" and data.get("commit") and not errors:
        try:
            batch = actions.batch_create(acting_user=request.user, task=task, scope=scope, params=params,
                                         name=data.get("name", ""))
        except SelectionError as e:
            errors.append(str(e))
        else:
            messages.success(request, f"已创建抽检批次，共抽取{batch.samples.count()}份报表。")
            return HttpResponseRedirect(reverse("sampling:batch", args=[batch.pk]))
    return render(request, "sampling/preview.html", {
        "task": task, "scope": scope, "params": params, "picks": picks, "errors": errors,
        "kind_labels": KIND_LABELS, "query": data, "forms": params.forms,
        "risk": sum(1 for p in picks if p.part == Part.RISK), "random": sum(1 for p in picks if p.part == Part.RANDOM),
    }, status=400 if errors else 200)


def _batch_or_404(request: HttpRequest, pk: int):
    return get_object_or_404(batches_for(request.user), pk=pk)


@login_required
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_sampler(request.user)
    batch = _batch_or_404(request, pk)
    samples = list(batch.samples.select_related("unit", "submission__form_version").order_by("position", "id"))
    counts: dict[int, dict[str, int]] = {}
    for sample_id, state in Item.objects.filter(batch=batch).values_list("sample_id", "state"):
        counts.setdefault(sample_id, {}).setdefault(state, 0)
        counts[sample_id][state] += 1
    rows = [{"sample": s, "items": sum(counts.get(s.pk, {}).values()),
             "open": sum(n for st, n in counts.get(s.pk, {}).items() if st != ItemState.CLOSED)} for s in samples]
    return render(request, "sampling/batch.html", {
        "batch": batch, "rows": rows, "board": board(batch, request.user), "onsite": onsite_summary(batch),
        "kind_labels": KIND_LABELS,
        "param_rows": [(PARAM_LABELS.get(k, k), "、".join(map(str, v)) if isinstance(v, list) else v)
                       for k, v in batch.params.items() if v not in ([], None)],
    })


def _field_choices(sample: Sample) -> list[dict]:
    """Fields the sampler may point at: lead form fields, then each member entry's fields."""
    submission = sample.submission
    out = [{"value": f"|{f['code']}", "label": f"{f.get('label', f['code'])}（{f['code']}）"}
           for f in submission.form_version.definition.get("fields", [])]
    sub = member_definition(submission)
    if sub:
        for key, values in submission.members.order_by("position", "id").values_list("key", "values"):
            name = (values or {}).get("hospital_name") or "成员单位"
            out += [{"value": f"{key}|{f['code']}", "label": f"{name}：{f.get('label', f['code'])}"}
                    for f in sub.get("fields", [])]
    return out


@login_required
@require_GET
def sample_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_sampler(request.user)
    sample = get_object_or_404(samples_for(request.user).filter(batch__in=batches_for(request.user)), pk=pk)
    items = list(Item.objects.filter(sample=sample).select_related("submission", "unit").order_by("id"))
    answered, members = answered_ids(items), members_of(items)
    checks = list(sample.onsite_checks.all())
    rows = [{"item": i, "diff": diff(i, members), "overdue": is_overdue(i), "answered": i.pk in answered} for i in items]
    return render(request, "sampling/sample.html", {
        "sample": sample, "batch": sample.batch, "submission": sample.submission, "rows": rows,
        "choices": _field_choices(sample), "checks": checks, "can_act": is_sampler(request.user, sample.unit),
        "kind_labels": KIND_LABELS, "default_deadline": dt.date.today() + dt.timedelta(days=14),
        "today": dt.date.today(),
    })


@login_required
@require_POST
def item_raise(request: HttpRequest, pk: int) -> HttpResponse:
    _require_sampler(request.user)
    sample = get_object_or_404(samples_for(request.user).filter(batch__in=batches_for(request.user)), pk=pk)
    member, _, code = (request.POST.get("target_field") or "").partition("|")
    target = "report" if request.POST.get("target") == "report" else "field"
    try:
        actions.item_raise(acting_user=request.user, submission_id=sample.submission_id, field_code=code,
                           member_key=member, text=request.POST.get("text", ""),
                           deadline=_date(request.POST.get("deadline")), target=target,
                           section=request.POST.get("section", ""), batch_id=sample.batch_id)
    except ItemError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, "已提出整改要求，并已通知填报单位。")
    return HttpResponseRedirect(reverse("sampling:sample", args=[sample.pk]))


@login_required
@require_POST
def onsite_add(request: HttpRequest, pk: int) -> HttpResponse:
    _require_sampler(request.user)
    sample = get_object_or_404(samples_for(request.user).filter(batch__in=batches_for(request.user)), pk=pk)
    member, _, code = (request.POST.get("target_field") or "").partition("|")
    try:
        actions.onsite_record(acting_user=request.user, sample_id=sample.pk, field_code=code, member_key=member,
                              verified=request.POST.get("verified"), inspector=request.POST.get("inspector", ""),
                              checked_on=_date(request.POST.get("checked_on")),
                              conclusion=request.POST.get("conclusion", ""),
                              attachments=request.FILES.getlist("attachments"))
    except ItemError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, "已保存现场抽查结果。")
    return HttpResponseRedirect(reverse("sampling:sample", args=[sample.pk]) + "#onsite")


@login_required
@require_GET
def item_list(request: HttpRequest) -> HttpResponse:
    p = request.GET
    qs = item_filter(items_for(request.user), batch=p.get("batch"), state=p.get("state"), unit=p.get("unit"),
                     overdue=p.get("overdue") == "1").select_related("submission__form_version")
    items = list(qs.order_by("deadline", "id")[:500])
    answered = answered_ids(items)
    return render(request, "sampling/items.html", {
        "rows": [{"item": i, "overdue": is_overdue(i), "answered": i.pk in answered} for i in items],
        "states": ItemState.choices, "query": p, "batch": p.get("batch", ""),
    })


@login_required
@require_GET
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(items_for(request.user).select_related("submission__form_version"), pk=pk)
    allowed = allowed_item_actions(request.user, item)
    return render(request, "sampling/item.html", {
        "item": item, "diff": diff(item), "allowed": allowed, "overdue": is_overdue(item),
        "steps": list(item.steps.select_related("actor")), "answered_shown": shown(item.answered_value),
        "today": dt.date.today(),
    })


@login_required
@require_POST
def item_act(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(items_for(request.user), pk=pk)
    verb = request.POST.get("action", "")
    note = request.POST.get("note", "")
    try:
        if verb == "answer":
            raw = request.POST.get("value")
            change = raw is not None and raw.strip() != "" and raw.strip() != shown(diff(item)["after"])
            actions.item_answer(acting_user=request.user, item_id=item.pk, text=request.POST.get("text", ""),
                                value=raw, set_value=change, evidence=request.FILES.get("evidence"))
            done = "已提交整改答复。"
        elif verb == "close":
            actions.item_close(acting_user=request.user, item_id=item.pk, note=note)
            done = "已关闭该整改要求。"
        elif verb == "reopen":
            actions.item_reopen(acting_user=request.user, item_id=item.pk, note=note,
                                deadline=_date(request.POST.get("deadline")))
            done = "已退回该整改要求。"
        elif verb == "escalate":
            actions.item_escalate(acting_user=request.user, item_id=item.pk, note=note)
            done = "已升级该整改要求。"
        else:
            raise Http404
    except ItemError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, done)
    return HttpResponseRedirect(reverse("sampling:item", args=[item.pk]))


@login_required
@require_POST
def board_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Start the board's Excel export through the export path (exports.actions.export_request)."""
    from exports.actions import export_request

    _require_sampler(request.user)
    batch = _batch_or_404(request, pk)
    job = export_request(acting_user=request.user, task=batch.task, kind="sampling_board",
                         params={"batch": batch.pk}, inline=True)
    return HttpResponseRedirect(reverse("exports:download", args=[job.pk]))
