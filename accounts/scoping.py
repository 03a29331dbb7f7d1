"""Who may see which units. Every view and endpoint filters through here.

- platform admin (role admin or superuser): every unit;
- reviewer and analyst: their own unit and the whole subtree below it (a city reviewer sees the city, its
  alliances and their member units; never a sibling city);
- filler: their own unit and its member units (an alliance lead hospital fills its members'
  sub-forms), never the alliances below a city or the cities below a province;
- anyone without a unit, or not logged in: nothing.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Role, Unit, UnitLevel, User


def _is_admin(user: User) -> bool:
    return bool(user.is_superuser or user.role == Role.ADMIN)


def visible_units(user: User) -> QuerySet[Unit]:
    """The units a user may read."""
    if not user.is_authenticated:
        return Unit.objects.none()
    if _is_admin(user):
        return Unit.objects.all()
    if user.unit_id is None:
        return Unit.objects.none()
    if user.role in (Role.REVIEWER, Role.ANALYST):
        return Unit.objects.filter(path__startswith=user.unit.path)
    return Unit.objects.filter(Q(pk=user.unit_id) | Q(parent_id=user.unit_id, level=UnitLevel.MEMBER))


def can_see_unit(user: User, unit: Unit) -> bool:
    """The same rule as visible_units, for one unit, without a query."""
    if not user.is_authenticated:
        return False
    if _is_admin(user):
        return True
    if user.unit_id is None or not unit.path.startswith(user.unit.path):
        return False
    if user.role in (Role.REVIEWER, Role.ANALYST):
        return True
    return unit.pk == user.unit_id or (unit.parent_id == user.unit_id and unit.level == UnitLevel.MEMBER)
