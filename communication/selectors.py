"""Read-side queries of notices, the 留言板 and FAQ, always scoped by the reading user."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accounts.models import Role, Unit, UnitLevel, User
from accounts.scoping import unit_scope

from .models import FaqEntry, Notice, NoticeKind, Question, QuestionCategory, QuestionStatus

PUBLISHER_LEVELS = (UnitLevel.NATION, UnitLevel.PROVINCE, UnitLevel.CITY)
LEVEL_ORDER = [UnitLevel.NATION, UnitLevel.PROVINCE, UnitLevel.CITY, UnitLevel.URBAN_ALLIANCE,
               UnitLevel.COUNTY_ALLIANCE, UnitLevel.MEMBER]


def is_admin(user: User) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.role == Role.ADMIN))


def is_national(user: User) -> bool:
    return bool(user.is_authenticated and user.unit_id and user.unit.level == UnitLevel.NATION)


# --- notices ---------------------------------------------------------------------------------------------------

def can_publish(user: User) -> bool:
    """Reviewers of the nation, a province or a city publish for their subtree; platform admins for all."""
    if is_admin(user):
        return user.unit_id is not None
    return bool(user.is_authenticated and user.role == Role.REVIEWER and user.unit_id
                and user.unit.level in PUBLISHER_LEVELS)


def audience_levels_for(unit: Unit) -> list[tuple[str, str]]:
    """Levels a unit may address: its own and every level below it."""
    start = LEVEL_ORDER.index(unit.level) if unit.level in LEVEL_ORDER else 0
    labels = dict(UnitLevel.choices)
    return [(lvl.value, labels[lvl]) for lvl in LEVEL_ORDER[start:]]


def _ancestor_codes(unit: Unit) -> list[str]:
    return [c for c in unit.path.strip("/").split("/") if c]


def notices_for(user: User, kind: str | None = None) -> QuerySet[Notice]:
    """Published notices whose audience includes the user: published by the user's unit or an ancestor of it,
    addressed to the user's level and role (empty = all); platform admins see all, a publishing unit's
    reviewers see what their unit published."""
    qs = Notice.objects.filter(withdrawn_at__isnull=True).select_related("publisher_unit", "task")
    if kind:
        qs = qs.filter(kind=kind)
    if not user.is_authenticated:
        return qs.none()
    if is_admin(user):
        return qs
    if user.unit_id is None:
        return qs.none()
    unit = user.unit
    audience = (Q(publisher_unit__code__in=_ancestor_codes(unit))
                & (Q(audience_levels="") | Q(audience_levels__contains=f",{unit.level},"))
                & (Q(audience_roles="") | Q(audience_roles__contains=f",{user.role},")))
    own = Q(publisher_unit_id=user.unit_id) if user.role == Role.REVIEWER else Q(pk__in=[])
    return qs.filter(audience | own)


def unread_notices(user: User) -> QuerySet[Notice]:
    return notices_for(user).exclude(reads__user=user)


def unread_count(user: User) -> int:
    return unread_notices(user).count()


def notice_for(user: User, pk: int) -> Notice:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(notices_for(user), pk=pk)


def may_read_notice_file(user: User, stored) -> bool:
    """A notice's attachment is readable by whoever may read the notice."""
    from .models import NoticeAttachment

    return NoticeAttachment.objects.filter(stored_file=stored, notice__in=notices_for(user)).exists()


def audience_users(notice: Notice) -> QuerySet[User]:
    qs = User.objects.filter(is_active=True, unit__path__startswith=notice.publisher_unit.path)
    if notice.levels:
        qs = qs.filter(unit__level__in=notice.levels)
    if notice.roles:
        qs = qs.filter(role__in=notice.roles)
    return qs.select_related("unit")


def home_notices(user: User, limit: int = 5) -> list[Notice]:
    read = set()
    rows = list(notices_for(user)[:limit])
    if rows:
        from .models import NoticeRead

        read = set(NoticeRead.objects.filter(user=user, notice__in=rows).values_list("notice_id", flat=True))
    for n in rows:
        n.is_read = n.pk in read
    return rows


# --- 留言板 -----------------------------------------------------------------------------------------------------

def responsible_unit_for(unit: Unit, category: str) -> Unit:
    """Who answers: the national level for 指标口径, otherwise the supervising unit (the unit's parent)."""
    if category == QuestionCategory.INDICATOR:
        root = Unit.objects.filter(code=_ancestor_codes(unit)[0]).first()
        return root or unit
    return unit.parent if unit.parent_id else unit


def questions_for(user: User) -> QuerySet[Question]:
    """Questions of the units the user may read (accounts.scoping), plus the user's own."""
    qs = Question.objects.select_related("unit", "responsible_unit", "author")
    if not user.is_authenticated:
        return qs.none()
    scope = unit_scope(user, "unit__")
    return qs if scope is None else qs.filter(scope | Q(author=user))


def question_for(user: User, pk: int) -> Question:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(questions_for(user), pk=pk)


def can_answer(user: User, question: Question) -> bool:
    """Reviewers of the responsible unit or of a unit above it, and platform admins."""
    if is_admin(user):
        return True
    return bool(user.is_authenticated and user.role == Role.REVIEWER and user.unit_id
                and question.responsible_unit.path.startswith(user.unit.path))


def is_asker(user: User, question: Question) -> bool:
    return bool(user.is_authenticated and (question.author_id == user.pk
                                          or (user.role == Role.FILLER and user.unit_id == question.unit_id)))


def can_promote(user: User) -> bool:
    """FAQ entries speak for the whole platform: the national level's reviewers and analysts, and admins."""
    return is_admin(user) or (is_national(user) and user.role in (Role.REVIEWER, Role.ANALYST))


def search_questions(qs: QuerySet[Question], *, text: str = "", category: str = "", status: str = "",
                     form_code: str = "", field_code: str = "") -> QuerySet[Question]:
    for word in text.split()[:5]:
        qs = qs.filter(Q(title__icontains=word) | Q(body__icontains=word) | Q(replies__body__icontains=word))
    if category:
        qs = qs.filter(category=category)
    if status:
        qs = qs.filter(status=status)
    if form_code:
        qs = qs.filter(form_code=form_code)
    if field_code:
        qs = qs.filter(field_code=field_code)
    return qs.distinct()


_WORD = re.compile(r"[a-z0-9_]+|[\u4e00-\u9fff]")
_STOP = set("的了是在和与及或吗呢么请问如何怎么什么")


def tokens(text: str) -> set[str]:
    """Latin words and Chinese character bigrams (no dictionary needed), minus particles."""
    parts = _WORD.findall((text or "").lower())
    out = {p for p in parts if len(p) > 1}
    han = [p for p in parts if len(p) == 1 and p not in _STOP]
    out |= {a + b for a, b in zip(han, han[1:], strict=False)}
    return out


@dataclass
class Similar:
    kind: str  # "faq" | "question"
    pk: int
    title: str
    answer: str
    score: float


def similar_answered(user: User, text: str, *, form_code: str = "", field_code: str = "",
                     limit: int = 5, pool: int = 500) -> list[Similar]:
    """Answered questions and FAQ entries that share the most tokens with `text` (overlap coefficient);
    the same field counts extra. A bounded pool of recent candidates keeps it cheap."""
    want = tokens(text)
    if not want:
        return []
    found: list[Similar] = []

    def score(candidate: str, fc: str, fd: str) -> float:
        have = tokens(candidate)
        if not have:
            return 0.0
        s = len(want & have) / min(len(want), len(have))
        if field_code and fc == form_code and fd == field_code:
            s += 0.3
        return s

    for f in FaqEntry.objects.filter(active=True).order_by("-created_at")[:pool]:
        s = score(f.question_text, f.form_code, f.field_code)
        if s >= 0.3:
            found.append(Similar("faq", f.pk, f.question_text[:120], f.answer_text, s))
    answered = (questions_for(user).filter(status__in=[QuestionStatus.ANSWERED, QuestionStatus.CLOSED],
                                           answered_at__isnull=False)
                .prefetch_related("replies").order_by("-answered_at")[:pool])
    for q in answered:
        s = score(f"{q.title} {q.body}", q.form_code, q.field_code)
        if s >= 0.3:
            answer = next((r.body for r in reversed(q.replies.all()) if r.is_answer), "")
            found.append(Similar("question", q.pk, q.title, answer, s))
    found.sort(key=lambda x: -x.score)
    return found[:limit]


def faq_by_field(form_codes: list[str]) -> dict[tuple[str, str], list[FaqEntry]]:
    out: dict[tuple[str, str], list[FaqEntry]] = defaultdict(list)
    for f in FaqEntry.objects.filter(active=True, form_code__in=form_codes).exclude(field_code=""):
        out[(f.form_code, f.field_code)].append(f)
    return out


# --- maintainers' statistics -----------------------------------------------------------------------------------

def can_see_stats(user: User) -> bool:
    return is_admin(user) or (user.is_authenticated and user.role == Role.ANALYST)


def field_stats(task=None) -> list[dict]:
    """Per form field and month: questions asked about it and soft-check hits in the current results.

    Soft hits are counted from each submission's stored engine result (the fields a soft violation names),
    dated by when the result was evaluated (else the submission's last change)."""
    from reporting.models import Submission

    questions: Counter = Counter()
    qs = Question.objects.exclude(field_code="")
    if task is not None:
        qs = qs.filter(task=task)
    for form_code, field_code, created in qs.values_list("form_code", "field_code", "created_at").iterator():
        questions[(form_code, field_code, created.strftime("%Y-%m"))] += 1
    hits: Counter = Counter()
    subs = Submission.objects.exclude(result={}).select_related("form_version")
    if task is not None:
        subs = subs.filter(task=task)
    labels: dict[tuple[str, str], str] = {}
    sub_codes: dict[str, str] = {}
    for form_code, result, updated, definition in subs.values_list(
            "form_code", "result", "updated_at", "form_version__definition").iterator():
        if form_code not in sub_codes:
            sub_codes[form_code] = (definition or {}).get("subform") or ""
            for f in (definition or {}).get("fields", []):
                labels[(form_code, f["code"])] = f.get("label", f["code"])
        month = str((result or {}).get("evaluated_at") or updated.isoformat())[:7]
        for v in (result or {}).get("violations") or []:
            if v.get("severity") != "soft":
                continue
            code = sub_codes[form_code] if v.get("member") and sub_codes[form_code] else form_code
            for field_code in v.get("fields") or []:
                hits[(code, field_code, month)] += 1
    keys = set(questions) | set(hits)
    rows = [{"form_code": f, "field_code": c, "month": m, "label": labels.get((f, c), c),
             "questions": questions.get((f, c, m), 0), "soft_hits": hits.get((f, c, m), 0)}
            for f, c, m in keys]
    rows.sort(key=lambda r: (-(r["questions"] * 10 + r["soft_hits"]), r["month"], r["form_code"], r["field_code"]))
    return rows


NOTICE_KINDS = dict(NoticeKind.choices)
