"""Writes on units and users. Each action runs in one transaction with its audit row."""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.db import transaction
from rest_framework.authtoken.models import Token

from .models import Role, Unit, User, audit
from .passwords import generate_password_for


@transaction.atomic
def unit_create(*, acting_user: User | None, code: str, name: str, level: str, parent: Unit | None,
                org_code: str = "", is_tcm: bool = False) -> Unit:
    unit = Unit.objects.create(code=code, name=name, level=level, parent=parent, org_code=org_code,
                               is_tcm=is_tcm)
    audit(actor=acting_user, action="unit_create", unit=unit, obj=unit, code=code, name=name, level=level)
    return unit


@transaction.atomic
def user_create(*, acting_user: User | None, username: str, unit: Unit | None, role: str, password: str,
                must_change_password: bool = True, display_name: str = "") -> User:
    user = User(username=username, unit=unit, role=role, must_change_password=must_change_password,
                display_name=display_name, is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN)
    user.set_password(password)
    user.save()
    audit(actor=acting_user, action="user_create", unit=unit, obj=user, username=username, role=role)
    return user


@transaction.atomic
def user_create_with_one_time_password(*, acting_user: User | None, username: str, unit: Unit | None,
                                       role: str, display_name: str = "") -> tuple[User, str]:
    """Create an account with a random one-time password; returns the user and the password (shown once)."""
    password = generate_password_for(User(username=username, unit=unit, role=role))
    user = user_create(acting_user=acting_user, username=username, unit=unit, role=role, password=password,
                       must_change_password=True, display_name=display_name)
    return user, password


@transaction.atomic
def user_password_reset(*, acting_user: User | None, user: User) -> str:
    """Give `user` a new random one-time password that must be changed at the next login.

    Returns the password so the caller can show it once; it is never stored or audited in clear text. Any
    login lockout of the account is lifted, since the reset is how a locked-out user gets back in.
    """
    password = generate_password_for(user)
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    # Existing API tokens were issued against the old password.
    Token.objects.filter(user=user).delete()
    axes_reset(username=user.get_username())
    audit(actor=acting_user, action="user_password_reset", unit=user.unit, obj=user, username=user.username)
    return password


@transaction.atomic
def user_password_change(*, acting_user: User, password: str) -> None:
    """A user changes their own password (validated by the form): lifts the first-login lock."""
    acting_user.set_password(password)
    acting_user.must_change_password = False
    acting_user.save(update_fields=["password", "must_change_password"])
    audit(actor=acting_user, action="user_password_change", unit=acting_user.unit, obj=acting_user)


@transaction.atomic
def user_email_set(*, acting_user: User | None, user: User, email: str) -> None:
    """Set the e-mail address messages are sent to ("" removes it)."""
    if user.email != email:
        User.objects.filter(pk=user.pk).update(email=email)
        user.email = email
    audit(actor=acting_user, action="user_email_set", unit=user.unit, obj=user)
def user_password_set(*, acting_user: User | None, user: User, password: str,
                      must_change_password: bool = False) -> None:
    """Set a known password (the demo seed resets its accounts' passwords so the printed logins work)."""
    user.set_password(password)
    user.must_change_password = must_change_password
    user.save(update_fields=["password", "must_change_password"])
    audit(actor=acting_user, action="user_password_set", unit=user.unit, obj=user, username=user.username)


@transaction.atomic
def token_issue(*, acting_user: User) -> Token:
    """The API token of `acting_user` (created on first use; the same token on every later login)."""
    token, created = Token.objects.get_or_create(user=acting_user)
    if created:
        audit(actor=acting_user, action="token_issue", unit=acting_user.unit, obj=acting_user)
    return token


def _changes(obj, fields: list[str]) -> dict[str, str]:
    return {f: "" if f == "password" else str(getattr(obj, f, "")) for f in fields}


@transaction.atomic
def unit_save(*, acting_user: User, unit: Unit, changed: list[str]) -> Unit:
    """An administrator's edit (or creation) of a unit in the admin, audited with the changed fields."""
    created = unit.pk is None
    unit.save()
    audit(actor=acting_user, action="unit_create" if created else "unit_update", unit=unit, obj=unit,
          changed=_changes(unit, changed))
    return unit


@transaction.atomic
def unit_delete(*, acting_user: User, unit: Unit) -> None:
    audit(actor=acting_user, action="unit_delete", obj=unit, code=unit.code, name=unit.name)
    unit.delete()


@transaction.atomic
def user_save(*, acting_user: User, user: User, changed: list[str]) -> User:
    """An administrator's edit (or creation) of an account in the admin, audited (never the password)."""
    created = user.pk is None
    user.save()
    audit(actor=acting_user, action="user_create" if created else "user_update", unit=user.unit, obj=user,
          username=user.username, changed=_changes(user, changed))
    return user


@transaction.atomic
def user_delete(*, acting_user: User, user: User) -> None:
    audit(actor=acting_user, action="user_delete", unit=user.unit, obj=user, username=user.username)
    user.delete()
