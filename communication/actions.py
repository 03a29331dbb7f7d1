"""Writes of the communication app: notices, the 留言板 and FAQ, contact preferences and outgoing messages.

Each function is one transaction with its audit row. `notify(...)` is the public entry for every other app:
it writes one Delivery row per person and channel in the caller's transaction and queues the sending after
commit, so a mail server that is down never blocks the write that caused the message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User, audit
from reporting.models import Task

from . import channels
from .events import event as event_kind
from .models import (
    Category,
    ContactPreference,
    Delivery,
    DeliveryState,
    FaqEntry,
    Notice,
    NoticeAttachment,
    NoticeKind,
    NoticeRead,
    Question,
    QuestionCategory,
    QuestionStatus,
    QuestionTransition,
    Reply,
)
from .selectors import (
    audience_levels_for,
    can_answer,
    can_promote,
    can_publish,
    is_asker,
    notices_for,
    responsible_unit_for,
)

logger = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "communication.unsubscribe"
_muted: ContextVar[bool] = ContextVar("communication_muted", default=False)


@contextmanager
def muted() -> Iterator[None]:
    """No messages are recorded inside (seeding demo data, bulk imports)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


class CommError(Exception):
    """A write that cannot be done; the message is for the user. code: invalid | permission | status."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def clean_text(value: str, limit: int) -> str:
    """Stored as typed (escaped when shown), minus NUL and other control characters but newlines and tabs."""
    text = "".join(ch for ch in str(value or "") if ch in "\n\t" or ord(ch) >= 32).strip()
    return text[:limit]


def absolute(path: str) -> str:
    return settings.COMM_SITE_URL.rstrip("/") + path


# --- outgoing messages -----------------------------------------------------------------------------------------

def _preference(user: User) -> ContactPreference | None:
    try:
        return user.contact
    except ContactPreference.DoesNotExist:
        return None


def quiet_until(pref: ContactPreference | None, now: datetime) -> datetime:
    """`now`, or the end of the user's quiet hours when `now` falls inside them (local time; may wrap midnight)."""
    if pref is None or pref.quiet_start is None or pref.quiet_end is None or pref.quiet_start == pref.quiet_end:
        return now
    local = timezone.localtime(now)
    t, start, end = local.time(), pref.quiet_start, pref.quiet_end
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return now
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, local.tzinfo)


def unsubscribe_token(user_id: int, category: str) -> str:
    return signing.dumps({"u": user_id, "c": category}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(user_id: int, category: str) -> str:
    return absolute(reverse("communication:unsubscribe", args=[unsubscribe_token(user_id, category)]))


ENQUEUE_ONE_BY_ONE = 20  # more deliveries than this (a national notice) are sent by one flush task


def _enqueue(ids: list[int]) -> None:
    from .tasks import flush_deliveries, send_delivery

    try:
        if len(ids) > ENQUEUE_ONE_BY_ONE:
            flush_deliveries.delay()
            return
        for pk in ids:
            send_delivery.delay(pk)
    except Exception:  # noqa: BLE001 - broker down: flush_deliveries (beat) sends them later
        logger.warning("could not queue deliveries %s; the periodic flush will send them", ids[:20], exc_info=True)


def notify(*, event: str, recipients: Iterable[User], subject: str, body: str, key: str, url: str = "",
           acting_user: User | None = None) -> list[int]:
    """Record one message per person and enabled channel for an event, in the caller's transaction.

    `key` identifies the event occurrence (e.g. "submission:12:transition:40"): calling again with the same
    key writes nothing new, so a retried caller never mails twice. People without an address on a channel,
    or who unsubscribed from the event's category, get nothing on it; a user preferring the daily digest gets
    the message held for it; quiet hours delay it. Returns the ids of the deliveries written now."""
    kind = event_kind(event)
    people = {u.pk: u for u in recipients if u is not None and u.is_active}
    if not people or _muted.get():
        return []
    now = timezone.now()
    prefs = {p.user_id: p for p in ContactPreference.objects.filter(user_id__in=list(people))}
    full_key = f"{event}:{key}"[:200]
    rows = []
    for user in people.values():
        pref = prefs.get(user.pk)
        if pref is not None and pref.is_unsubscribed(kind.category):
            continue
        for channel in channels.enabled():
            address = channel.address_for(user)
            if not address:
                continue
            held = pref is not None and pref.daily_digest and kind.category != Category.DIGEST
            rows.append(Delivery(user=user, channel=channel.name, category=kind.category, event=event,
                                 key=full_key, address=address[:254], subject=subject[:200], body=body,
                                 url=url[:300], state=DeliveryState.HELD if held else DeliveryState.PENDING,
                                 not_before=quiet_until(pref, now)))
    if not rows:
        return []
    with transaction.atomic():
        before = set(Delivery.objects.filter(key=full_key, user_id__in=list(people)).values_list("pk", flat=True))
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        new = list(Delivery.objects.filter(key=full_key, user_id__in=list(people)).exclude(pk__in=before)
                   .values_list("pk", "state"))
        if new:
            audit(actor=acting_user, action="notify", event=event, key=full_key, deliveries=len(new))
    pending = [pk for pk, state in new if state == DeliveryState.PENDING]
    if pending:
        transaction.on_commit(lambda: _enqueue(pending))
    return [pk for pk, _ in new]


def _backoff(attempts: int) -> timedelta:
    base = settings.COMM_RETRY_BASE_SECONDS
    return timedelta(seconds=min(base * (2 ** max(attempts - 1, 0)), settings.COMM_RETRY_MAX_SECONDS))


def _footer(delivery: Delivery) -> str:
    lines = ["", "—", "此邮件由分级诊疗制度建设信息平台自动发送，请勿直接回复。"]
    if delivery.url:
        lines.insert(0, f"\n查看详情：{absolute(delivery.url) if delivery.url.startswith('/') else delivery.url}")
    return "\n".join(lines)


@dataclass
class SendOutcome:
    state: str  # sent | retry | failed | busy | skipped | later | done (already handled)
    retry_in: float = 0.0


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> SendOutcome:
    """Send one delivery at most once.

    The row is locked (FOR UPDATE SKIP LOCKED) for the whole send and marked sent in the same transaction:
    a second worker skips it, a sent row is never sent again, and a worker that dies mid-send rolls back,
    leaving the row pending for the next try. A refused hand-over counts an attempt and schedules the next
    one with exponential backoff; after COMM_MAX_ATTEMPTS the row is failed."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update(skip_locked=True).select_related("user")
                    .filter(pk=delivery_id).first())
        if delivery is None:
            return SendOutcome("busy")
        if delivery.state != DeliveryState.PENDING:
            return SendOutcome("done")
        if delivery.not_before > now:
            return SendOutcome("later", (delivery.not_before - now).total_seconds())
        pref = _preference(delivery.user)
        if pref is not None and pref.is_unsubscribed(delivery.category) or not delivery.user.is_active:
            delivery.state = DeliveryState.SKIPPED
            delivery.save(update_fields=["state"])
            return SendOutcome("skipped")
        delivery.attempts += 1
        unsubscribe = (unsubscribe_url(delivery.user_id, delivery.category)
                       if delivery.category != Category.DIGEST else "")
        body = delivery.body + _footer(delivery)
        if unsubscribe:
            body += f"\n不再接收此类邮件（{Category(delivery.category).label}）：{unsubscribe}"
        message = channels.Outgoing(delivery_id=delivery.pk, address=delivery.address, subject=delivery.subject,
                                    body=body, unsubscribe_url=unsubscribe)
        try:
            channels.get(delivery.channel).send(message)
        except channels.ChannelError as e:
            delivery.last_error = str(e)[:2000]
            if delivery.attempts >= settings.COMM_MAX_ATTEMPTS:
                delivery.state = DeliveryState.FAILED
                audit(actor=None, action="delivery_failed", delivery=delivery.pk, error=delivery.last_error)
            delay = _backoff(delivery.attempts)
            delivery.not_before = now + delay
            delivery.save(update_fields=["attempts", "last_error", "not_before", "state"])
            if delivery.state == DeliveryState.FAILED:
                return SendOutcome("failed")
            return SendOutcome("retry", delay.total_seconds())
        delivery.state = DeliveryState.SENT
        delivery.sent_at = timezone.now()
        delivery.last_error = ""
        delivery.save(update_fields=["attempts", "state", "sent_at", "last_error"])
    return SendOutcome("sent")


def deliveries_flush(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Send every pending delivery that is due (periodic: picks up retries, quiet hours that ended and
    messages whose queueing failed). Each send locks its own row, so running beside the workers is safe."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    last = 0
    while True:  # in id order, each row once per run (a row that is retried moves its not_before past `now`)
        ids = list(Delivery.objects.filter(state=DeliveryState.PENDING, not_before__lte=now, pk__gt=last)
                   .order_by("id").values_list("pk", flat=True)[:limit])
        for pk in ids:
            outcome = delivery_send(delivery_id=pk, now=now)
            counts[outcome.state] = counts.get(outcome.state, 0) + 1
        if len(ids) < limit:
            return counts
        last = ids[-1]


def digests_send(*, now: datetime | None = None) -> int:
    """Bundle every user's held messages into one 每日汇总 delivery (marking them digested) and queue it."""
    now = now or timezone.now()
    made = 0
    user_ids = set(Delivery.objects.filter(state=DeliveryState.HELD).values_list("user_id", flat=True))
    for user_id in sorted(user_ids):
        with transaction.atomic():
            parts = list(Delivery.objects.select_for_update(skip_locked=True)
                         .filter(user_id=user_id, state=DeliveryState.HELD).order_by("created_at", "id"))
            if not parts:
                continue
            user = User.objects.get(pk=user_id)
            date = timezone.localtime(now).date()
            lines = [f"{user}，您好！以下是分级诊疗制度建设信息平台 {date:%Y-%m-%d} 的消息汇总（共{len(parts)}条）：", ""]
            for i, p in enumerate(parts, start=1):
                when = timezone.localtime(p.created_at).strftime("%m-%d %H:%M")
                lines += [f"{i}. 【{Category(p.category).label}】{p.subject}（{when}）", p.body.strip(), ""]
            ids = notify(event="digest", recipients=[user], subject=f"【分级诊疗平台】每日消息汇总（{len(parts)}条）",
                         body="\n".join(lines), key=f"{user_id}:{parts[0].pk}")
            Delivery.objects.filter(pk__in=[p.pk for p in parts]).update(
                state=DeliveryState.DIGESTED, digest_id=ids[0] if ids else None)
            made += 1
    return made


def contact_update(*, acting_user: User, email: str | None = None, mobile: str | None = None,
                   daily_digest: bool | None = None, quiet_start: time | None = None,
                   quiet_end: time | None = None, unsubscribed: Iterable[str] | None = None,
                   user: User | None = None) -> ContactPreference:
    """Contact details and message preferences of the acting user (or, for an admin, of `user`)."""
    target = user or acting_user
    if target.pk != acting_user.pk and not (acting_user.is_superuser or acting_user.role == Role.ADMIN):
        raise CommError("只能修改本人的联系方式。", code="permission")
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    with transaction.atomic():
        if email is not None:
            email = email.strip()
            if email:
                try:
                    validate_email(email)
                except ValidationError:
                    raise CommError("电子邮箱格式不正确。") from None
            from accounts.actions import user_email_set

            user_email_set(acting_user=acting_user, user=target, email=email)
        pref, _ = ContactPreference.objects.select_for_update().get_or_create(user=target)
        if mobile is not None:
            mobile = mobile.strip()
            if mobile and not (mobile.isdigit() and 5 <= len(mobile) <= 20):
                raise CommError("手机号格式不正确。")
            pref.mobile = mobile
        if daily_digest is not None:
            pref.daily_digest = daily_digest
        pref.quiet_start, pref.quiet_end = quiet_start, quiet_end
        if unsubscribed is not None:
            pref.unsubscribed = Notice.pack(sorted(c for c in set(unsubscribed) if c in Category.values))
        pref.save()
        audit(actor=acting_user, action="contact_update", unit=target.unit, obj=target,
              digest=pref.daily_digest, unsubscribed=pref.unsubscribed)
    return pref


def unsubscribe(*, token: str) -> tuple[User, str]:
    """Unsubscribe by the signed link of a mail (works without login). Raises CommError for a bad link."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=settings.COMM_UNSUBSCRIBE_MAX_AGE)
        user = User.objects.get(pk=int(data["u"]))
        category = str(data["c"])
    except (signing.BadSignature, User.DoesNotExist, KeyError, TypeError, ValueError):
        raise CommError("退订链接无效或已过期。") from None
    if category not in Category.values:
        raise CommError("退订链接无效或已过期。")
    with transaction.atomic():
        pref, _ = ContactPreference.objects.select_for_update().get_or_create(user=user)
        if not pref.is_unsubscribed(category):
            pref.unsubscribed = Notice.pack(sorted({*pref.unsubscribed.split(","), category} - {""}))
            pref.save(update_fields=["unsubscribed"])
        audit(actor=None, action="unsubscribe", unit=user.unit, obj=user, category=category)
    return user, category


# --- notices ---------------------------------------------------------------------------------------------------

def notice_publish(*, acting_user: User, title: str, body: str, kind: str = NoticeKind.NOTICE,
                   task: Task | None = None, levels: Iterable[str] = (), roles: Iterable[str] = (),
                   pinned: bool = False, send_mail: bool = True, files: Iterable = ()) -> Notice:
    """Publish for the publisher's subtree, addressed to some levels / roles (none = all); mails the audience.

    `files`: uploaded files, stored through the `files` app (its checks apply) when it is installed."""
    if not can_publish(acting_user):
        raise CommError("只有国家、省、市级审核用户可以发布通知。", code="permission")
    title = clean_text(title, 200)
    body = clean_text(body, 20000)
    if not title:
        raise CommError("标题不能为空。")
    if kind not in NoticeKind.values:
        raise CommError("类别不正确。")
    allowed_levels = {v for v, _ in audience_levels_for(acting_user.unit)}
    levels = sorted(set(levels))
    if not set(levels) <= allowed_levels:
        raise CommError("只能向本级及下级单位发布。")
    roles = sorted(set(roles))
    if not set(roles) <= set(Role.values):
        raise CommError("角色不正确。")
    with transaction.atomic():
        notice = Notice.objects.create(kind=kind, title=title, body=body, task=task, publisher=acting_user,
                                       publisher_unit=acting_user.unit, audience_levels=Notice.pack(levels),
                                       audience_roles=Notice.pack(roles), pinned=pinned,
                                       published_at=timezone.now())
        for upload in files:
            _attach(acting_user, notice, upload)
        audit(actor=acting_user, action="notice_publish", unit=acting_user.unit, obj=notice, title=title,
              levels=levels, roles=roles, pinned=pinned)
        if send_mail:
            from .selectors import audience_users

            label = NoticeKind(kind).label
            notify(event="notice_published", recipients=audience_users(notice).exclude(pk=acting_user.pk),
                   subject=f"【{label}】{title}", key=f"notice:{notice.pk}",
                   body=f"{acting_user.unit.name}发布了{label}：{title}\n\n{body}",
                   url=reverse("communication:notice", args=[notice.pk]), acting_user=acting_user)
    return notice


def _attach(acting_user: User, notice: Notice, upload) -> NoticeAttachment:
    """Store one file through the `files` app (its name, size, type and quota checks apply)."""
    from files.actions import file_store
    from files.sniff import FileRefused

    try:
        stored = file_store(acting_user=acting_user, unit=notice.publisher_unit, upload=upload, purpose="notice")
    except FileRefused as e:
        raise CommError(f"附件“{getattr(upload, 'name', '')}”未能上传：{e.message}") from None
    return NoticeAttachment.objects.create(notice=notice, stored_file=stored, name=stored.original_name[:255],
                                           size=stored.size)


def notice_withdraw(*, acting_user: User, notice_id: int) -> Notice:
    with transaction.atomic():
        notice = Notice.objects.select_for_update().get(pk=notice_id)
        if not (acting_user.is_superuser or acting_user.role == Role.ADMIN
                or (acting_user.role == Role.REVIEWER and acting_user.unit_id == notice.publisher_unit_id)):
            raise CommError("只有发布单位可以撤回。", code="permission")
        if notice.withdrawn_at is None:
            notice.withdrawn_at = timezone.now()
            notice.save(update_fields=["withdrawn_at"])
        audit(actor=acting_user, action="notice_withdraw", unit=notice.publisher_unit, obj=notice)
    return notice


def notices_mark_read(*, acting_user: User, notice_ids: Iterable[int] | None = None) -> int:
    """Mark notices read (every unread one in the user's audience when `notice_ids` is None)."""
    with transaction.atomic():
        qs = notices_for(acting_user).exclude(reads__user=acting_user)
        if notice_ids is not None:
            qs = qs.filter(pk__in=list(notice_ids))
        ids = list(qs.values_list("pk", flat=True))
        NoticeRead.objects.bulk_create([NoticeRead(notice_id=pk, user=acting_user) for pk in ids],
                                       ignore_conflicts=True)
        if ids and notice_ids is None:
            audit(actor=acting_user, action="notices_mark_read", unit=acting_user.unit, count=len(ids))
    return len(ids)


# --- 留言板 -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QRule:
    sources: tuple[str, ...]
    target: str | None  # None: the status stays
    actor: str  # asker | responder | either
    label: str


QUESTION_TRANSITIONS: dict[str, QRule] = {
    "answer": QRule((QuestionStatus.PENDING, QuestionStatus.ANSWERED), QuestionStatus.ANSWERED, "responder", "答复"),
    "comment": QRule((QuestionStatus.PENDING,), None, "asker", "补充说明"),
    "follow_up": QRule((QuestionStatus.ANSWERED,), QuestionStatus.PENDING, "asker", "追问"),
    "escalate": QRule((QuestionStatus.PENDING,), None, "responder", "转上级答复"),
    "close": QRule((QuestionStatus.PENDING, QuestionStatus.ANSWERED), QuestionStatus.CLOSED, "either", "关闭"),
    "reopen": QRule((QuestionStatus.CLOSED,), QuestionStatus.PENDING, "asker", "重新打开"),
}
NEEDS_TEXT = {"answer", "comment", "follow_up"}


def _check_question_move(question: Question, action: str, user: User) -> QRule:
    rule = QUESTION_TRANSITIONS.get(action)
    if rule is None:
        raise CommError(f"未知操作：{action}")
    if question.status not in rule.sources:
        raise CommError(f"当前状态为“{question.get_status_display()}”，不能{rule.label}。", code="status")
    asker, responder = is_asker(user, question), can_answer(user, question)
    if not ({"asker": asker, "responder": responder, "either": asker or responder}[rule.actor]):
        raise CommError(f"您无权对该留言执行“{rule.label}”。", code="permission")
    if action == "escalate" and not question.responsible_unit.parent_id:
        raise CommError("已是最高一级，不能再转上级。")
    return rule


def question_allowed_actions(user: User, question: Question) -> list[str]:
    out = []
    for action in QUESTION_TRANSITIONS:
        try:
            _check_question_move(question, action, user)
        except CommError:
            continue
        out.append(action)
    return out


def question_ask(*, acting_user: User, category: str, title: str, body: str, task: Task | None = None,
                 form_code: str = "", field_code: str = "") -> Question:
    """A new 留言: the responsible level (supervisor; the nation for 指标口径) is told by mail."""
    if not acting_user.is_authenticated or acting_user.unit_id is None:
        raise CommError("您的账号没有所属单位，不能留言。", code="permission")
    if category not in QuestionCategory.values:
        raise CommError("请选择问题类别。")
    title, body = clean_text(title, 200), clean_text(body, 5000)
    if not title or not body:
        raise CommError("标题和内容都不能为空。")
    form_code, field_code = form_code.strip()[:20], field_code.strip()[:80]
    if field_code and not form_code:
        raise CommError("请同时选择表和指标。")
    if form_code:
        from .catalog import field_label

        if field_label(form_code, field_code or None) is None:
            raise CommError("所选的表或指标不存在。")
    with transaction.atomic():
        question = Question.objects.create(
            category=category, title=title, body=body, author=acting_user, unit=acting_user.unit,
            responsible_unit=responsible_unit_for(acting_user.unit, category), task=task, form_code=form_code,
            field_code=field_code, status=QuestionStatus.PENDING, status_changed_at=timezone.now())
        audit(actor=acting_user, action="question_ask", unit=acting_user.unit, obj=question, category=category)
        _mail_responders(question, acting_user, "question_asked", f"ask:{question.pk}")
    return question


def _mail_responders(question: Question, acting_user: User, event: str, key: str) -> None:
    responders = User.objects.filter(unit=question.responsible_unit, role=Role.REVIEWER, is_active=True)
    notify(event=event, recipients=responders.exclude(pk=acting_user.pk),
           subject=f"【留言板】{question.unit.name}：{question.title}", key=key,
           body=(f"{question.unit.name}在留言板提问（{question.get_category_display()}）：\n"
                 f"{question.title}\n\n{question.body}"),
           url=reverse("communication:question", args=[question.pk]), acting_user=acting_user)


def question_transition(*, acting_user: User, question_id: int, action: str, text: str = "") -> Question:
    """The one function that moves a question: locks the row, refuses illegal moves, writes the reply, the
    transition and the audit row; an answer is mailed to the asker."""
    with transaction.atomic():
        question = (Question.objects.select_for_update(of=("self",))
                    .select_related("unit", "responsible_unit", "author").get(pk=question_id))
        rule = _check_question_move(question, action, acting_user)
        text = clean_text(text, 5000)
        if action in NEEDS_TEXT and not text:
            raise CommError(f"{rule.label}内容不能为空。")
        source = question.status
        now = timezone.now()
        if text:
            Reply.objects.create(question=question, author=acting_user, unit=acting_user.unit, body=text,
                                 is_answer=action == "answer")
        fields = ["status_changed_at"]
        if rule.target is not None:
            question.status = rule.target
            fields.append("status")
        if action == "answer":
            question.answered_at = now
            fields.append("answered_at")
        if action == "escalate":
            question.responsible_unit = question.responsible_unit.parent
            fields.append("responsible_unit")
        question.status_changed_at = now
        question.save(update_fields=fields)
        QuestionTransition.objects.create(question=question, action=action, from_status=source,
                                          to_status=question.status, actor=acting_user)
        audit(actor=acting_user, action=f"question_{action}", unit=question.unit, obj=question,
              from_status=source, to_status=question.status)
        if action == "answer" and question.author_id:
            notify(event="question_answered", recipients=[question.author],
                   subject=f"【留言板】您的问题已答复：{question.title}", key=f"answer:{question.pk}:{now.timestamp()}",
                   body=f"您在留言板提出的问题“{question.title}”已由{acting_user.unit.name}答复：\n\n{text}",
                   url=reverse("communication:question", args=[question.pk]), acting_user=acting_user)
        elif action in ("follow_up", "escalate"):
            _mail_responders(question, acting_user, "question_asked", f"{action}:{question.pk}:{now.timestamp()}")
    return question


def faq_promote(*, acting_user: User, question_id: int, question_text: str = "",
                answer_text: str = "") -> FaqEntry:
    """Turn an answered question into a 常见问题 entry (kept at its form field when it has one)."""
    if not can_promote(acting_user):
        raise CommError("只有国家级审核、分析用户和平台管理员可以发布常见问题。", code="permission")
    with transaction.atomic():
        question = Question.objects.select_for_update().get(pk=question_id)
        answer = question.replies.filter(is_answer=True).order_by("-created_at", "-id").first()
        if answer is None:
            raise CommError("该留言尚未答复，不能设为常见问题。", code="status")
        entry = FaqEntry.objects.create(
            category=question.category,
            question_text=clean_text(question_text, 2000) or f"{question.title}\n{question.body}".strip(),
            answer_text=clean_text(answer_text, 5000) or answer.body,
            form_code=question.form_code, field_code=question.field_code, source=question,
            created_by=acting_user)
        audit(actor=acting_user, action="faq_promote", unit=question.unit, obj=entry, question=question.pk)
    return entry


def faq_withdraw(*, acting_user: User, faq_id: int) -> FaqEntry:
    if not can_promote(acting_user):
        raise CommError("只有国家级审核、分析用户和平台管理员可以管理常见问题。", code="permission")
    with transaction.atomic():
        entry = FaqEntry.objects.select_for_update().get(pk=faq_id)
        entry.active = False
        entry.save(update_fields=["active"])
        audit(actor=acting_user, action="faq_withdraw", obj=entry)
    return entry


# --- reminders -------------------------------------------------------------------------------------------------

def reminders_send(*, acting_user: User | None, task: Task, now: datetime | None = None) -> list[dict]:
    """Write the reminder deliveries the plan asks for (idempotent per day: the keys carry the date)."""
    from .reminders import plan

    items = plan(task, now=now)
    with transaction.atomic():
        for item in items:
            item["deliveries"] = len(notify(event=item["event"], recipients=item["users"], subject=item["subject"],
                                            body=item["body"], key=item["key"], url=item["url"],
                                            acting_user=acting_user))
        audit(actor=acting_user, action="reminders_send", obj=task, reminders=len(items),
              deliveries=sum(i["deliveries"] for i in items))
    return items

