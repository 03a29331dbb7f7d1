"""The 数据查询平台 pages (login) and the public results page /results/ (no login)."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role, UnitLevel
from reporting.models import Task

from . import actions, services
from .logic.targets import LEVEL_LABELS, OP_LABELS, OPS
from .models import (
    Audience,
    LocalTarget,
    Objection,
    ObjectionStatus,
    Release,
    ReleaseStatus,
    SchemeStatus,
    ScoringScheme,
)


def _task(code: str) -> Task:
    return get_object_or_404(Task, code=code)


def _fail(request: HttpRequest, e: actions.ResultsError) -> None:
    if e.code == "permission":
        raise PermissionDenied(e.message)
    messages.error(request, e.message)


# ---- public ----------------------------------------------------------------------------------------------

@require_GET
def public_index(request: HttpRequest) -> HttpResponse:
    """公众: only what was published to the public, as medians with small cells suppressed; no login."""
    releases = list(Release.objects.filter(status=ReleaseStatus.PUBLISHED, audience=Audience.PUBLIC)
                    .select_related("task").order_by("-task__period_end", "-version"))
    chosen = next((r for r in releases if r.task.code == request.GET.get("task")), releases[0] if releases else None)
    table = services.public_table(chosen.snapshot) if chosen else []
    return render(request, "results/public.html", {
        "releases": releases, "release": chosen, "table": table, "min_cell": services.min_cell_units(),
    })


# ---- 数据查询平台 ------------------------------------------------------------------------------------------

@login_required
@require_GET
def platform(request: HttpRequest) -> HttpResponse:
    tasks = list(Task.objects.all())
    task = next((t for t in tasks if t.code == request.GET.get("task")), tasks[0] if tasks else None)
    release = services.readable_release(request.user, task) if task else None
    cards = []
    if release is not None:
        level = request.GET.get("level", "")
        for code, card in release.snapshot["units"].items():
            if level and card["level"] != level:
                continue
            if services.may_read_card(request.user, release, code, card):
                cards.append(card)
    return render(request, "results/platform.html", {
        "tasks": tasks, "task": task, "release": release, "cards": cards[:500], "n_cards": len(cards),
        "is_national": services.is_national(request.user), "levels": UnitLevel.choices,
        "level": request.GET.get("level", ""),
    })


def _card_or_404(request: HttpRequest, task_code: str, unit_code: str):
    task = _task(task_code)
    version = request.GET.get("v")
    release = services.readable_release(request.user, task, version=int(version) if version and version.isdigit()
                                        else None)
    if release is None:
        raise Http404("该任务的结果尚未发布。")
    card = release.snapshot["units"].get(unit_code)
    if card is None or not services.may_read_card(request.user, release, unit_code, card):
        raise Http404("没有该单位的结果。")
    return task, release, card


@login_required
@require_GET
def card(request: HttpRequest, task_code: str, unit_code: str) -> HttpResponse:
    task, release, card = _card_or_404(request, task_code, unit_code)
    comparisons = {c["code"]: c for c in services.comparisons(release.snapshot, card)}
    rows = []
    for ind in card["indicators"]:
        rows.append({**ind, "cmp": comparisons.get(ind["code"], {}),
                     "target_texts": [{"text": services.target_text(t), "source": t["source"],
                                       "attained": t["attained"]} for t in ind["targets"]]})
    user = request.user
    can_object = (release.status == ReleaseStatus.FEEDBACK and services.is_level(user, UnitLevel.PROVINCE)
                  and card["path"].startswith(user.unit.path))
    objections = Objection.objects.filter(release=release, unit__code=unit_code).select_related("filed_by",
                                                                                               "decided_by")
    chart = {"labels": [r["label"] for r in rows], "values": [r["value"] for r in rows],
             "national": [next((t["value"] for t in r["targets"] if t["level"] == "nation"), None) for r in rows],
             "local": [next((t["value"] for t in reversed(r["targets"]) if t["level"] != "nation"), None)
                       for r in rows],
             "median": [r["cmp"].get("nation", {}).get("median") for r in rows]}
    can_score = services.is_national(user) or (
        services.is_level(user, UnitLevel.PROVINCE, UnitLevel.CITY) and card["path"].startswith(user.unit.path)
        and card["code"] != user.unit.code)
    rubric = []
    if card.get("scheme"):
        scheme = ScoringScheme.objects.filter(content_hash=card["scheme"]["hash"]).first()
        rubric = [r["level"] for r in (scheme.definition.get("rubric", []) if scheme else [])]
    return render(request, "results/card.html", {
        "task": task, "release": release, "card": card, "rows": rows, "can_object": can_object,
        "objections": objections, "chart": chart, "is_national": services.is_national(user),
        "can_score": can_score, "rubric": rubric,
        "qualitative": [i for i in card.get("items", []) if i["kind"] == "qualitative"],
    })


@login_required
@require_POST
def objection_file(request: HttpRequest, task_code: str, unit_code: str) -> HttpResponse:
    task, release, card = _card_or_404(request, task_code, unit_code)
    try:
        actions.objection_file(acting_user=request.user, release_id=release.pk, unit_code=unit_code,
                               indicator_code=request.POST.get("indicator", ""), text=request.POST.get("text", ""))
        messages.success(request, "异议已提交，等待国家级处理。")
    except actions.ResultsError as e:
        _fail(request, e)
    return redirect("results:card", task_code=task.code, unit_code=unit_code)


@login_required
@require_POST
def qualitative_score(request: HttpRequest, task_code: str, unit_code: str) -> HttpResponse:
    task, release, card = _card_or_404(request, task_code, unit_code)
    try:
        actions.qualitative_score_set(acting_user=request.user, task_id=task.pk, unit_code=unit_code,
                                      item_code=request.POST.get("item", ""), level=request.POST.get("level", ""),
                                      note=request.POST.get("note", ""))
        messages.success(request, "定性指标评分已保存，下次冻结结果时计入。")
    except actions.ResultsError as e:
        _fail(request, e)
    return redirect("results:card", task_code=task.code, unit_code=unit_code)


@login_required
@require_POST
def card_export(request: HttpRequest, task_code: str, unit_code: str) -> HttpResponse:
    from exports.actions import export_request

    task, release, card = _card_or_404(request, task_code, unit_code)
    job = export_request(acting_user=request.user, task=task, kind="result_card",
                         params={"unit": unit_code, "version": release.version}, inline=True)
    return redirect("exports:download", pk=job.pk)


# ---- national management ---------------------------------------------------------------------------------

def _national(request: HttpRequest) -> None:
    if not services.is_national(request.user):
        raise PermissionDenied("只有国家级用户可以管理结果发布。")


@login_required
def manage(request: HttpRequest, task_code: str) -> HttpResponse:
    _national(request)
    task = _task(task_code)
    if request.method == "POST":
        op = request.POST.get("op", "")
        try:
            if op == "freeze":
                r = actions.release_freeze(acting_user=request.user, task_id=task.pk, note=request.POST.get("note", ""))
                messages.success(request, f"已冻结结果第 {r.version} 版。")
            elif op == "open_feedback":
                days = int(request.POST.get("days") or 7)
                actions.release_open_feedback(acting_user=request.user, release_id=int(request.POST["release"]),
                                              until=timezone.now() + timedelta(days=days))
                messages.success(request, "已开启结果反馈。")
            elif op == "close_feedback":
                actions.release_close_feedback(acting_user=request.user, release_id=int(request.POST["release"]))
                messages.success(request, "已结束结果反馈。")
            elif op == "publish":
                actions.release_publish(acting_user=request.user, release_id=int(request.POST["release"]),
                                        audience=request.POST.get("audience", ""))
                messages.success(request, "结果已发布。")
            elif op == "decide":
                actions.objection_decide(acting_user=request.user, objection_id=int(request.POST["objection"]),
                                         accept=request.POST.get("accept") == "1",
                                         decision=request.POST.get("decision", ""))
                messages.success(request, "异议已处理。")
            else:
                return HttpResponseBadRequest("未知操作。")
        except actions.ResultsError as e:
            _fail(request, e)
        except (KeyError, ValueError):
            return HttpResponseBadRequest("请求参数有误。")
        return redirect("results:manage", task_code=task.code)
    releases = list(Release.objects.filter(task=task).order_by("-version"))
    objections = (Objection.objects.filter(release__task=task).select_related("unit", "filed_by", "release",
                                                                               "decided_by"))
    return render(request, "results/manage.html", {
        "task": task, "releases": releases, "objections": objections, "audiences": Audience.choices,
        "open_status": ObjectionStatus.OPEN,
    })


# ---- layered targets and schemes -------------------------------------------------------------------------

def _analyst_or_reviewer(request: HttpRequest) -> None:
    if request.user.role not in (Role.REVIEWER, Role.ANALYST) and not request.user.is_platform_admin:
        raise PermissionDenied


@login_required
def targets(request: HttpRequest) -> HttpResponse:
    _analyst_or_reviewer(request)
    user = request.user
    if request.method == "POST":
        if not services.is_level(user, UnitLevel.PROVINCE, UnitLevel.CITY):
            raise PermissionDenied("只有省级或市级审核、分析用户可以设定本地目标。")
        try:
            if request.POST.get("remove"):
                actions.local_target_remove(acting_user=user, target_id=int(request.POST["remove"]))
                messages.success(request, "目标已撤销。")
            else:
                actions.local_target_set(acting_user=user, indicator_code=request.POST.get("indicator", ""),
                                         op=request.POST.get("op", ""), value=float(request.POST.get("value", "")),
                                         source=request.POST.get("source", ""))
                messages.success(request, "目标已保存。")
        except actions.ResultsError as e:
            _fail(request, e)
        except (ValueError, LocalTarget.DoesNotExist):
            messages.error(request, "请填写有效的目标值。")
        return redirect("results:targets")
    qs = LocalTarget.objects.filter(active=True).select_related("unit", "set_by")
    if not user.is_platform_admin and user.unit_id:
        qs = qs.filter(unit__path__startswith=user.unit.path) | qs.filter(
            unit__code__in=[c for c in user.unit.path.strip("/").split("/") if c])
    labels = actions.indicator_labels()
    return render(request, "results/targets.html", {
        "targets": [(t, labels.get(t.indicator_code, t.indicator_code)) for t in qs.order_by("unit__path")],
        "labels": sorted(labels.items()), "ops": [(o, OP_LABELS[o]) for o in OPS],
        "may_set": services.is_level(user, UnitLevel.PROVINCE, UnitLevel.CITY), "level_labels": LEVEL_LABELS,
    })


@login_required
def schemes(request: HttpRequest) -> HttpResponse:
    _analyst_or_reviewer(request)
    user = request.user
    if request.method == "POST":
        try:
            if request.POST.get("op") == "adopt":
                actions.scheme_adopt(acting_user=user, scheme_id=int(request.POST["scheme"]))
                messages.success(request, "评分方案已采用。")
            elif request.POST.get("op") == "load":
                for annex in ("a1", "a2"):
                    actions.scheme_load(acting_user=user, annex=annex)
                messages.success(request, "已载入国家评分方案。")
            elif request.POST.get("op") == "adjust":
                weights = json.loads(request.POST.get("weights") or "{}")
                added = json.loads(request.POST.get("added") or "[]")
                actions.scheme_adjust(acting_user=user, base_id=int(request.POST["scheme"]), weights=weights,
                                      added=added, reason=request.POST.get("reason", ""))
                messages.success(request, "已保存调整后的评分方案（草案），可先试算再采用。")
            else:
                return HttpResponseBadRequest("未知操作。")
        except actions.ResultsError as e:
            _fail(request, e)
        except (KeyError, ValueError, TypeError):
            messages.error(request, "请求参数有误（权重与新增指标须为 JSON）。")
        return redirect("results:schemes")
    qs = ScoringScheme.objects.select_related("unit", "created_by", "base")
    if not services.is_national(user):
        qs = qs.filter(unit__code__in=[c for c in user.unit.path.strip("/").split("/") if c])
    return render(request, "results/schemes.html", {
        "schemes": qs, "tasks": Task.objects.all(), "is_national": services.is_national(user),
        "may_adjust": services.is_level(user, UnitLevel.PROVINCE), "adopted": SchemeStatus.ADOPTED,
    })


@login_required
@require_GET
def scheme_dry_run(request: HttpRequest, pk: int) -> HttpResponse:
    _analyst_or_reviewer(request)
    user = request.user
    scheme = get_object_or_404(ScoringScheme.objects.select_related("unit", "system"), pk=pk)
    if not services.is_national(user) and scheme.unit_id != user.unit_id:
        raise Http404
    task = get_object_or_404(Task, code=request.GET.get("task", ""))
    rows = services.dry_run(scheme, task)
    return render(request, "results/dry_run.html", {"scheme": scheme, "task": task, "rows": rows,
                                                    "back": reverse("results:schemes")})
