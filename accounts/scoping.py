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


def unit_scope(user: User, prefix: str = "") -> Q | None:
    """The scoping rule as a filter on units; `prefix` reaches units through a relation ("unit__").

    None means no restriction (platform admins). Every scoped query builds on this one rule."""
    if not user.is_authenticated or (not _is_admin(user) and user.unit_id is None):
        return Q(**{f"{prefix}pk__in": []})
    if _is_admin(user):
        return None
    if user.role in (Role.REVIEWER, Role.ANALYST):
        return Q(**{f"{prefix}path__startswith": user.unit.path})
    return Q(**{f"{prefix}pk": user.unit_id}) | Q(**{f"{prefix}parent_id": user.unit_id,
                                                    f"{prefix}level": UnitLevel.MEMBER})


def visible_units(user: User) -> QuerySet[Unit]:
    """The units a user may read."""
    scope = unit_scope(user)
    return Unit.objects.all() if scope is None else Unit.objects.filter(scope)


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
