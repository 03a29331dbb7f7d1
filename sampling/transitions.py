"""The states of a rectification item (整改要求): the table and the one function that moves an item.

raise      → open       (the sampler raises it; the field unlocks for the unit's fillers)
answer     open → answered          (the unit corrected the value and/or explained it)
close      answered | escalated → closed   (accepted)
reopen     answered | escalated → open     (sent back; the field unlocks again)
escalate   open | answered → escalated     (to the level above / on-site verification)

`item_transition` locks the row (select_for_update), refuses an illegal move with a Chinese message, writes the
ItemStep and the audit row — in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import User, audit

from .models import Item, ItemState, ItemStep


class Who:
    FILLER = "filler"  # a filler of the item's unit
    SAMPLER = "sampler"  # an analyst/reviewer of the nation or province above the unit


@dataclass(frozen=True)
class Rule:
    sources: tuple[str, ...]
    target: str
    who: str
    label: str
    needs_note: bool = False


ITEM_TRANSITIONS: dict[str, Rule] = {
    "answer": Rule((ItemState.OPEN,), ItemState.ANSWERED, Who.FILLER, "答复"),
    "close": Rule((ItemState.ANSWERED, ItemState.ESCALATED), ItemState.CLOSED, Who.SAMPLER, "关闭"),
    "reopen": Rule((ItemState.ANSWERED, ItemState.ESCALATED), ItemState.OPEN, Who.SAMPLER, "退回", needs_note=True),
    "escalate": Rule((ItemState.OPEN, ItemState.ANSWERED), ItemState.ESCALATED, Who.SAMPLER, "升级",
                     needs_note=True),
}


class ItemError(Exception):
    """An illegal or invalid move on an item. `code`: status | permission | invalid | deadline (API: 409/403/400/409)."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def is_sampler(user: User, unit) -> bool:
    """An analyst or reviewer of the nation or a province whose subtree holds `unit` (never the unit itself)."""
    from accounts.models import Role, UnitLevel

    if not user.is_authenticated or user.unit_id is None:
        return False
    if user.role not in (Role.ANALYST, Role.REVIEWER):
        return False
    if user.unit.level not in (UnitLevel.NATION, UnitLevel.PROVINCE):
        return False
    return user.unit_id != unit.pk and unit.path.startswith(user.unit.path)


def who_is(user: User, item: Item) -> set[str]:
    from accounts.models import Role

    kinds = set()
    if user.is_authenticated and user.role == Role.FILLER and user.unit_id == item.unit_id:
        kinds.add(Who.FILLER)
    # the level that sampled (the batch's scope) or above it: a province does not settle the nation's items
    if is_sampler(user, item.unit) and item.batch.scope_unit.path.startswith(user.unit.path):
        kinds.add(Who.SAMPLER)
    return kinds


def allowed_item_actions(user: User, item: Item) -> list[str]:
    kinds = who_is(user, item)
    return [name for name, rule in ITEM_TRANSITIONS.items() if item.state in rule.sources and rule.who in kinds]


def item_transition(*, item_id: int, action: str, acting_user: User, note: str = "",
                    data: dict | None = None) -> Item:
    """Move one item. Locks the row; raises ItemError for an unknown or illegal move, the wrong person or a
    missing note. The caller does the side effects (value save, re-evaluation, notifications) around it."""
    rule = ITEM_TRANSITIONS.get(action)
    if rule is None:
        raise ItemError(f"未知操作：{action}", code="invalid")
    with transaction.atomic():
        item = (Item.objects.select_for_update(of=("self",)).select_related("unit", "batch__scope_unit")
                .get(pk=item_id))
        if item.state not in rule.sources:
            raise ItemError(f"整改要求状态为“{item.get_state_display()}”，不能{rule.label}。", code="status")
        if rule.who not in who_is(acting_user, item):
            who = "本单位填报用户" if rule.who == Who.FILLER else "上级抽检单位"
            raise ItemError(f"只有{who}可以{rule.label}该整改要求。", code="permission")
        note = (note or "").strip()
        if rule.needs_note and not note:
            raise ItemError(f"{rule.label}须填写说明。", code="invalid")
        source = item.state
        now = timezone.now()
        item.state = rule.target
        fields = ["state"]
        if action == "close":
            item.closed_at, item.closed_by = now, acting_user
            fields += ["closed_at", "closed_by"]
        elif action == "reopen":
            item.rounds += 1
            fields.append("rounds")
        item.save(update_fields=fields)
        ItemStep.objects.create(item=item, action=action, from_state=source, to_state=item.state,
                                actor=acting_user, note=note, data=data or {})
        audit(actor=acting_user, action=f"rectification_{action}", unit=item.unit, obj=item,
              from_state=source, to_state=item.state, note=note, details=data or {})
    return item
