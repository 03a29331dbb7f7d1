"""Mail for the review workflow: review.signals.notifications_created → communication.actions.notify.

One delivery per in-app notification (keyed by the notification's id, so it is idempotent), written in the
review action's own transaction. A failure here is logged and never breaks the review action.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import receiver
from django.urls import reverse

from demo.signals import demo_seeded
from review.signals import notifications_created

from .events import EVENTS

logger = logging.getLogger(__name__)

SUBJECTS = {
    "submitted": "待审核：{unit}已上报《{form}》",
    "approved": "审核通过：《{form}》",
    "rejected": "已驳回：《{form}》",
    "rechecked": "复核通过：《{form}》",
    "recheck_rejected": "复核驳回：《{form}》",
    "withdrawn": "审核结果已撤销：《{form}》",
    "reopened": "填报截止时间已延期：《{form}》",
    "commented": "审核批注：《{form}》",
    "answered": "批注已回复：{unit}《{form}》",
    "rectification": "整改要求：《{form}》",
    "rectification_raised": "整改要求：《{form}》",
    "rectification_escalated": "整改事项逾期：{unit}《{form}》",
    "rectification_answered": "整改已回复：{unit}《{form}》",
    "rectification_closed": "整改事项已关闭：《{form}》",
    "rectification_reopened": "整改事项重新打开：《{form}》",
    "rectification_due": "整改事项到期提醒：《{form}》",
}
REVIEWER_VERBS = {"submitted", "answered", "rectification_answered"}


def _comments(submission) -> str:
    from reporting.catalog_loader import member_definition
    from review.models import FieldComment

    rows = list(FieldComment.objects.filter(submission=submission, resolved=False).order_by("created_at", "id"))
    if not rows:
        return ""
    labels = {f["code"]: f.get("label", f["code"]) for f in submission.form_version.definition.get("fields", [])}
    sub = member_definition(submission) or {}
    labels.update({f"m:{f['code']}": f.get("label", f["code"]) for f in sub.get("fields", [])})
    lines = ["", "审核批注："]
    for i, c in enumerate(rows, start=1):
        label = labels.get(f"m:{c.field_code}" if c.member_key else c.field_code, c.field_code)
        lines.append(f"{i}. {label}：{c.text}")
    return "\n".join(lines)


@receiver(notifications_created)
def mail_review_notifications(sender, notifications, submission, verb, **kwargs) -> None:
    if verb not in EVENTS or not notifications or submission is None:
        return
    from .actions import notify

    try:
        with transaction.atomic():
            form = submission.form_version.definition.get("title") or submission.form_code
            subject = "【分级诊疗平台】" + SUBJECTS.get(verb, "{form}").format(unit=submission.unit.name, form=form)
            extra = ""
            if verb in ("rejected", "recheck_rejected"):
                extra = _comments(submission)
            for n in notifications:
                to_reviewer = verb in REVIEWER_VERBS
                url = reverse("review:submission" if to_reviewer else "submission_entry", args=[submission.pk])
                body = (f"{n.recipient}，您好！\n\n{n.text}\n\n任务：{submission.task.name}\n"
                        f"单位：{submission.unit.name}\n报表：{form}{extra}")
                notify(event=verb, recipients=[n.recipient], subject=subject, body=body,
                       key=f"notification:{n.pk}", url=url)
    except Exception:  # noqa: BLE001 - mail must never break a review action
        logger.exception("could not record mail for %s notifications", verb)


@receiver(demo_seeded)
def seed_demo_content(sender, task, **kwargs) -> None:
    """seed_demo: the 下载区's documents, a pinned notice and the manual's FAQ as answered questions."""
    from .demo import seed

    seed(task)
