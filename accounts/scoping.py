"""Who may see which units. Every view and endpoint filters through here."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Role, Unit, User


def visible_units(user: User) -> QuerySet[Unit]:
    """The units a user may read: its own unit, and for reviewers/analysts/admins the whole subtree below it."""
    if not user.is_authenticated:
        return Unit.objects.none()
    if user.is_superuser or user.role == Role.ADMIN:
        return Unit.objects.all()
    if user.unit_id is None:
        return Unit.objects.none()
    if user.role in (Role.REVIEWER, Role.ANALYST):
        return Unit.objects.filter(path__startswith=user.unit.path)
    # A filler sees its own unit and the member units under it (sub-forms of its alliance).
    return Unit.objects.filter(path__startswith=user.unit.path)


def can_see_unit(user: User, unit: Unit) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.role == Role.ADMIN:
        return True
    return user.unit_id is not None and unit.path.startswith(user.unit.path)
