"""Every write of the results app: one transaction each, with its audit row.

Release and objection states move only through `_move()`, which locks the row (select_for_update), checks the
transition table and writes the audit row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Unit, UnitLevel, User, audit
from reporting.catalog_loader import folder_catalog
from reporting.models import Task

from . import services
from .logic import items as item_logic
from .logic import scoring
from .logic.targets import OPS
from .models import (
    AUDIENCE_RANK,
    Audience,
    IndicatorSystem,
    LocalTarget,
    Objection,
    ObjectionStatus,
    QualitativeScore,
    Release,
    ReleaseStatus,
    SchemeStatus,
    ScoringScheme,
)


class ResultsError(Exception):
    """A refused request; `code` is permission | status | invalid (API: 403 / 409 / 400)."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Move:
    sources: tuple[str, ...]
    target: str
    label: str


RELEASE_TRANSITIONS: dict[str, Move] = {
    "open_feedback": Move((ReleaseStatus.FROZEN,), ReleaseStatus.FEEDBACK, "开启结果反馈"),
    "close_feedback": Move((ReleaseStatus.FEEDBACK,), ReleaseStatus.DECIDED, "结束结果反馈"),
    "publish": Move((ReleaseStatus.FROZEN, ReleaseStatus.DECIDED, ReleaseStatus.PUBLISHED),
                    ReleaseStatus.PUBLISHED, "结果发布"),
    "supersede": Move((ReleaseStatus.FROZEN, ReleaseStatus.FEEDBACK, ReleaseStatus.DECIDED,
                       ReleaseStatus.PUBLISHED), ReleaseStatus.SUPERSEDED, "由新版本替代"),
}
OBJECTION_TRANSITIONS: dict[str, Move] = {
    "accept": Move((ObjectionStatus.OPEN,), ObjectionStatus.ACCEPTED, "采纳异议"),
    "reject": Move((ObjectionStatus.OPEN,), ObjectionStatus.REJECTED, "不予采纳"),
    "withdraw": Move((ObjectionStatus.OPEN,), ObjectionStatus.WITHDRAWN, "撤回异议"),
}
TABLES = {Release: RELEASE_TRANSITIONS, Objection: OBJECTION_TRANSITIONS}


def _move(model, pk: int, action: str, *, acting_user: User | None, unit: Unit | None = None, **data):
    """The one state-changing function: lock, check the table, set the status, audit. Call inside atomic()."""
    table = TABLES[model]
    rule = table.get(action)
    if rule is None:
        raise ResultsError(f"未知操作：{action}")
    obj = model.objects.select_for_update().get(pk=pk)
    if obj.status not in rule.sources:
        raise ResultsError(f"当前状态为“{obj.get_status_display()}”，不能{rule.label}。", "status")
    old = obj.status
    obj.status = rule.target
    obj.save(update_fields=["status"])
    audit(actor=acting_user, action=f"{model._meta.model_name}_{action}", unit=unit, obj=obj,
          **{"from": old, "to": rule.target, **data})
    return obj


def _require_national(user: User | None) -> None:
    # None = the command line (trusted, like exports' builders)
    if user is not None and not services.is_national(user):
        raise ResultsError("只有国家级用户可以进行该操作。", "permission")


def _actor_unit(user: User | None) -> Unit | None:
    return user.unit if user is not None and user.unit_id else None


# ---- layered targets -------------------------------------------------------------------------------------

def indicator_labels() -> dict[str, str]:
    catalog = folder_catalog()
    return {i.code: i.label for form in catalog.forms.values() for i in form.indicators}


def local_target_set(*, acting_user: User, indicator_code: str, op: str, value: float, source: str) -> LocalTarget:
    """A province or city reviewer/analyst sets its own target for an indicator, for its subtree."""
    if not services.is_level(acting_user, UnitLevel.PROVINCE, UnitLevel.CITY):
        raise ResultsError("只有省级或市级审核、分析用户可以设定本地目标。", "permission")
    if indicator_code not in indicator_labels():
        raise ResultsError(f"指标不存在：{indicator_code}")
    if op not in OPS:
        raise ResultsError("比较方式无效。")
    source = (source or "").strip()
    if not source:
        raise ResultsError("请写明目标的依据文件。")
    with transaction.atomic():
        old = list(LocalTarget.objects.select_for_update().filter(unit=acting_user.unit,
                                                                  indicator_code=indicator_code, active=True))
        LocalTarget.objects.filter(pk__in=[t.pk for t in old]).update(active=False)
        target = LocalTarget.objects.create(unit=acting_user.unit, indicator_code=indicator_code, op=op,
                                            value=float(value), source=source[:300], set_by=acting_user)
        audit(actor=acting_user, action="local_target_set", unit=acting_user.unit, obj=target,
              indicator=indicator_code, op=op, value=float(value), source=source,
              replaced=[{"op": t.op, "value": t.value, "source": t.source} for t in old])
    return target


def local_target_remove(*, acting_user: User, target_id: int) -> None:
    with transaction.atomic():
        target = LocalTarget.objects.select_for_update().get(pk=target_id, active=True)
        if acting_user.unit_id != target.unit_id or not services.is_level(acting_user, UnitLevel.PROVINCE,
                                                                          UnitLevel.CITY):
            raise ResultsError("只能撤销本单位设定的目标。", "permission")
        target.active = False
        target.save(update_fields=["active"])
        audit(actor=acting_user, action="local_target_remove", unit=target.unit, obj=target,
              indicator=target.indicator_code)


# ---- indicator system and schemes ------------------------------------------------------------------------

def indicator_system_load(*, acting_user: User | None, definition: dict | None = None) -> IndicatorSystem:
    """Store a version of the 26号 indicator system (idempotent: the same content is the same row)."""
    _require_national(acting_user)
    definition = definition or item_logic.load_json(item_logic.SYSTEMS_DIR / f"{services.SYSTEM_CODE}.json")
    digest = item_logic.system_hash(definition)
    with transaction.atomic():
        system = IndicatorSystem.objects.filter(content_hash=digest).first()
        if system is None:
            system = IndicatorSystem.objects.create(code=definition["code"], name=definition["name"],
                                                    content_hash=digest, definition=definition)
            audit(actor=acting_user, action="indicator_system_load", unit=_actor_unit(acting_user), obj=system,
                  hash=digest)
    return system


def _system_items(system: IndicatorSystem, annex: str) -> set[str]:
    return {i["code"] for i in item_logic.annex(system.definition, annex)["items"]}


def scheme_load(*, acting_user: User | None, annex: str, definition: dict | None = None) -> ScoringScheme:
    """Store the national scheme of an annex (draft) from data (default: results/schemes/yljx2018-<annex>.json)."""
    _require_national(acting_user)
    system = indicator_system_load(acting_user=acting_user)
    definition = definition or item_logic.load_json(item_logic.SCHEMES_DIR / f"{services.SYSTEM_CODE}-{annex}.json")
    try:
        scoring.validate(definition, _system_items(system, annex))
    except scoring.SchemeError as e:
        raise ResultsError(str(e)) from e
    nation = Unit.objects.get(level=UnitLevel.NATION)
    digest = scoring.content_hash(definition)
    with transaction.atomic():
        existing = ScoringScheme.objects.filter(content_hash=digest, unit=nation).first()
        if existing is not None:
            return existing
        scheme = ScoringScheme.objects.create(code=definition["code"], name=definition["name"], annex=annex,
                                              system=system, unit=nation, definition=definition,
                                              content_hash=digest, created_by=acting_user)
        audit(actor=acting_user, action="scheme_load", unit=nation, obj=scheme, hash=digest)
    return scheme


def scheme_adjust(*, acting_user: User, base_id: int, weights: dict[str, float] | None = None,
                  added: list[dict] | None = None, reason: str) -> ScoringScheme:
    """A province's adjusted scheme for its subtree (26号: 权重动态调整, 可对指标进行必要的增补), as a draft
    recorded with who and why."""
    if not services.is_level(acting_user, UnitLevel.PROVINCE):
        raise ResultsError("只有省级审核、分析用户可以调整评分方案。", "permission")
    reason = (reason or "").strip()
    if not reason:
        raise ResultsError("请写明调整理由。")
    base = ScoringScheme.objects.select_related("system").get(pk=base_id)
    try:
        definition = scoring.adjust(base.definition, weights=weights, added=added,
                                    code=f"{base.definition['code']}-{acting_user.unit.code}")
    except scoring.SchemeError as e:
        raise ResultsError(str(e)) from e
    definition["adjusted_by"] = acting_user.unit.code
    with transaction.atomic():
        scheme = ScoringScheme.objects.create(
            code=definition["code"], name=f"{base.name}（{acting_user.unit.name}调整）", annex=base.annex,
            system=base.system, unit=acting_user.unit, base=base, definition=definition,
            content_hash=scoring.content_hash(definition), reason=reason, created_by=acting_user)
        audit(actor=acting_user, action="scheme_adjust", unit=acting_user.unit, obj=scheme, base=base.pk,
              weights=weights or {}, added=[a.get("code") for a in added or []], reason=reason)
    return scheme


def scheme_adopt(*, acting_user: User | None, scheme_id: int) -> ScoringScheme:
    """Adopt a scheme for its unit's subtree; the previously adopted one of the same annex and unit retires."""
    with transaction.atomic():
        scheme = ScoringScheme.objects.select_for_update().select_related("unit").get(pk=scheme_id)
        if acting_user is not None:
            own = acting_user.unit_id == scheme.unit_id and services.is_level(acting_user, UnitLevel.PROVINCE)
            if not (own or (scheme.unit.level == UnitLevel.NATION and services.is_national(acting_user))):
                raise ResultsError("无权采用该评分方案。", "permission")
        if scheme.status == SchemeStatus.ADOPTED:
            return scheme
        retired = list(ScoringScheme.objects.select_for_update().filter(
            annex=scheme.annex, unit=scheme.unit, status=SchemeStatus.ADOPTED).values_list("pk", flat=True))
        ScoringScheme.objects.filter(pk__in=retired).update(status=SchemeStatus.RETIRED)
        scheme.status, scheme.adopted_at = SchemeStatus.ADOPTED, timezone.now()
        scheme.save(update_fields=["status", "adopted_at"])
        audit(actor=acting_user, action="scheme_adopt", unit=scheme.unit, obj=scheme, retired=retired)
    return scheme


def qualitative_score_set(*, acting_user: User, task_id: int, unit_code: str, item_code: str, level: str,
                          note: str = "") -> QualitativeScore:
    """A reviewer above the unit (or the national level) scores a 定性 item on the scheme's rubric."""
    unit = Unit.objects.get(code=unit_code)
    task = Task.objects.get(pk=task_id)
    allowed = services.is_national(acting_user) or (
        services.is_level(acting_user, UnitLevel.PROVINCE, UnitLevel.CITY) and unit.is_within(acting_user.unit)
        and unit.pk != acting_user.unit_id)
    if not allowed:
        raise ResultsError("只有上级审核、分析用户可以对定性指标评分。", "permission")
    system = services.latest_system()
    schemes = list(ScoringScheme.objects.exclude(status=SchemeStatus.RETIRED))
    qualitative_codes = {i["code"] for a in (system.definition["annexes"] if system else [])
                         for i in a["items"] if i.get("kind") == item_logic.QUALITATIVE}
    # items a province added to its scheme for its subtree
    qualitative_codes |= {i["code"] for s in schemes if unit.is_within(s.unit) for i in s.definition["items"]
                          if i.get("kind") == item_logic.QUALITATIVE}
    levels = {r["level"] for s in schemes for r in s.definition.get("rubric", [])}
    if item_code not in qualitative_codes:
        raise ResultsError("该指标不是定性指标。")
    if level not in levels:
        raise ResultsError("评分等级无效。")
    with transaction.atomic():
        score, _ = QualitativeScore.objects.update_or_create(
            task=task, unit=unit, item_code=item_code,
            defaults={"level": level, "note": note[:2000], "scored_by": acting_user})
        audit(actor=acting_user, action="qualitative_score_set", unit=unit, obj=score, item=item_code, level=level)
    return score


# ---- release -------------------------------------------------------------------------------------------

def release_freeze(*, acting_user: User | None, task_id: int, note: str = "") -> Release:
    """Freeze the task's results as a new immutable version; a version after a published one carries the change
    log against it (the published one stays as its readers saw it until the new one is published)."""
    _require_national(acting_user)
    task = Task.objects.get(pk=task_id)
    snapshot = services.build_snapshot(task)
    with transaction.atomic():
        Task.objects.select_for_update().filter(pk=task.pk).first()  # one freeze at a time per task
        last = Release.objects.filter(task=task).order_by("-version").first()
        published = Release.objects.filter(task=task, status=ReleaseStatus.PUBLISHED).order_by("-version").first()
        version = (last.version + 1) if last else 1
        snapshot["version"] = version
        digest = scoring.content_hash(snapshot)
        for stale in Release.objects.filter(task=task, status__in=(ReleaseStatus.FROZEN, ReleaseStatus.FEEDBACK,
                                                                   ReleaseStatus.DECIDED)):
            _move(Release, stale.pk, "supersede", acting_user=acting_user, unit=_actor_unit(acting_user),
                  by_version=version)
        release = Release.objects.create(
            task=task, version=version, snapshot=snapshot, content_hash=digest, frozen_by=acting_user,
            note=note, change_log=services.change_log(published.snapshot if published else None, snapshot))
        audit(actor=acting_user, action="release_freeze", unit=_actor_unit(acting_user), obj=release,
              task=task.code, version=version, hash=digest, changes=len(release.change_log))
    return release


def release_open_feedback(*, acting_user: User | None, release_id: int, until: datetime | None = None) -> Release:
    _require_national(acting_user)
    with transaction.atomic():
        release = _move(Release, release_id, "open_feedback", acting_user=acting_user,
                        unit=_actor_unit(acting_user), until=until.isoformat() if until else None)
        release.feedback_until = until
        release.save(update_fields=["feedback_until"])
    return release


def release_close_feedback(*, acting_user: User | None, release_id: int) -> Release:
    _require_national(acting_user)
    with transaction.atomic():
        if Objection.objects.filter(release_id=release_id, status=ObjectionStatus.OPEN).exists():
            raise ResultsError("仍有未处理的异议，请先逐条处理。", "status")
        return _move(Release, release_id, "close_feedback", acting_user=acting_user, unit=_actor_unit(acting_user))


def release_publish(*, acting_user: User | None, release_id: int, audience: str) -> Release:
    """Publish to an audience tier (省级 → 行业内 → 公众, only ever widening). Publishing a newer version retires
    the previously published one."""
    _require_national(acting_user)
    if audience not in Audience.values:
        raise ResultsError("发布范围无效。")
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release_id)
        if release.status == ReleaseStatus.FEEDBACK:
            release = release_close_feedback(acting_user=acting_user, release_id=release_id)
        if AUDIENCE_RANK[audience] < AUDIENCE_RANK.get(release.audience, 0):
            raise ResultsError(f"已向“{release.get_audience_display()}”发布，发布范围只能扩大。", "status")
        older = list(Release.objects.filter(task=release.task, status=ReleaseStatus.PUBLISHED)
                     .exclude(pk=release.pk).values_list("pk", flat=True))
        release = _move(Release, release_id, "publish", acting_user=acting_user, unit=_actor_unit(acting_user),
                        audience=audience)
        for pk in older:
            _move(Release, pk, "supersede", acting_user=acting_user, unit=_actor_unit(acting_user),
                  by_version=release.version)
        release.audience = audience
        release.published_at = release.published_at or timezone.now()
        release.save(update_fields=["audience", "published_at"])
    return release


def objection_file(*, acting_user: User, release_id: int, unit_code: str, indicator_code: str,
                   text: str) -> Objection:
    """A province files an objection to one indicator of a card in its subtree, while feedback is open."""
    text = (text or "").strip()
    if not text:
        raise ResultsError("请填写异议内容。")
    if not services.is_level(acting_user, UnitLevel.PROVINCE):
        raise ResultsError("只有省级审核、分析用户可以提出异议。", "permission")
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release_id)
        if release.status != ReleaseStatus.FEEDBACK:
            raise ResultsError("当前不在结果反馈期内，不能提出异议。", "status")
        if release.feedback_until and timezone.now() > release.feedback_until:
            raise ResultsError("结果反馈期已结束。", "status")
        card = release.snapshot["units"].get(unit_code)
        if card is None or not card["path"].startswith(acting_user.unit.path):
            raise ResultsError("只能对本省范围内单位的结果提出异议。", "permission")
        if indicator_code not in {i["code"] for i in card["indicators"]} | {i["code"] for i in card["items"]}:
            raise ResultsError("该结果卡中没有这个指标。")
        unit = Unit.objects.get(code=unit_code)
        objection = Objection.objects.create(release=release, unit=unit, indicator_code=indicator_code,
                                             text=text[:4000], filed_by=acting_user)
        audit(actor=acting_user, action="objection_file", unit=unit, obj=objection, release=release.pk,
              indicator=indicator_code)
    return objection


def objection_decide(*, acting_user: User | None, objection_id: int, accept: bool, decision: str) -> Objection:
    """The national level answers an objection (采纳 / 不予采纳) with its reasons."""
    _require_national(acting_user)
    decision = (decision or "").strip()
    if not decision:
        raise ResultsError("请填写处理意见。")
    with transaction.atomic():
        objection = _move(Objection, objection_id, "accept" if accept else "reject", acting_user=acting_user,
                          unit=_actor_unit(acting_user), decision=decision)
        objection.decision, objection.decided_by, objection.decided_at = decision, acting_user, timezone.now()
        objection.save(update_fields=["decision", "decided_by", "decided_at"])
    return objection


def objection_withdraw(*, acting_user: User, objection_id: int) -> Objection:
    with transaction.atomic():
        objection = Objection.objects.select_related("release").get(pk=objection_id)
        if objection.filed_by_id != acting_user.pk:
            raise ResultsError("只能撤回本人提出的异议。", "permission")
        return _move(Objection, objection_id, "withdraw", acting_user=acting_user, unit=objection.unit)
