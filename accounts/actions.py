"""Writes on units and users. Each action runs in one transaction with its audit row."""

from __future__ import annotations

from datetime import timedelta

from axes.utils import reset as axes_reset
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from .models import ApiToken, Role, Unit, User, audit
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
    _revoke_all_tokens(user)
    axes_reset(username=user.get_username())
    audit(actor=acting_user, action="user_password_reset", unit=user.unit, obj=user, username=user.username)
    return password


# --- API tokens ------------------------------------------------------------------------------------------------

MAX_ACTIVE_TOKENS = 20


def _revoke_all_tokens(user: User) -> int:
    legacy, _ = Token.objects.filter(user=user).delete()  # DRF's old single token (accounts.authentication)
    return legacy + ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def token_issue(*, acting_user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new API token for `acting_user`; returns the row and the key (shown once, only its digest is kept).
    Expires after settings.FJZL_API_TOKEN_DAYS; beyond MAX_ACTIVE_TOKENS the oldest active ones are revoked."""
    from .tokens import digest, new_key

    key = new_key()
    now = timezone.now()
    token = ApiToken.objects.create(user=acting_user, digest=digest(key), prefix=key[:8], name=name[:100],
                                    expires_at=now + timedelta(days=settings.FJZL_API_TOKEN_DAYS))
    surplus = list(ApiToken.objects.filter(user=acting_user, revoked_at__isnull=True, expires_at__gt=now)
                   .order_by("-created_at", "-id").values_list("id", flat=True)[MAX_ACTIVE_TOKENS:])
    if surplus:
        ApiToken.objects.filter(id__in=surplus).update(revoked_at=now)
    audit(actor=acting_user, action="token_issue", unit=acting_user.unit, obj=token, prefix=token.prefix)
    return token, key


def token_mark_used(*, acting_user: User, token_id: int, now) -> None:
    """Record when an API token was last used (the list of one's own tokens shows it). Bookkeeping of a read,
    not a change anybody made, so no audit row; the authentication class calls it at most every five minutes."""
    ApiToken.objects.filter(pk=token_id, user=acting_user).update(last_used_at=now)


@transaction.atomic
def token_revoke(*, acting_user: User, token_id: int) -> ApiToken:
    """Revoke one of the caller's own tokens (ApiToken.DoesNotExist for anybody else's: a 404)."""
    token = ApiToken.objects.select_for_update().get(pk=token_id, user=acting_user)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit(actor=acting_user, action="token_revoke", unit=acting_user.unit, obj=token, prefix=token.prefix)
    return token


# --- deactivation and moves ---------------------------------------------------------------------------------------

@transaction.atomic
def user_deactivate(*, acting_user: User | None, user: User) -> User:
    """Users are deactivated, never deleted (their audit rows keep naming them): no login, no API token."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    revoked = _revoke_all_tokens(user)
    audit(actor=acting_user, action="user_deactivate", unit=user.unit, obj=user, username=user.username,
          tokens_revoked=revoked)
    return user


class UnitMoveRefused(Exception):
    """The move would break the hierarchy; the message is for the user."""


@transaction.atomic
def unit_move(*, acting_user: User | None, unit: Unit, new_parent: Unit) -> Unit:
    """Move `unit` (and its whole subtree) under `new_parent`: every path below is rewritten in one UPDATE, so
    scoping (which reads paths) follows the move at once: the old province's reviewers stop seeing the subtree,
    the new one's start."""
    from django.db.models import F, Value
    from django.db.models.functions import Concat, Substr

    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    new_parent = Unit.objects.select_for_update().get(pk=new_parent.pk)
    if new_parent.path.startswith(unit.path):
        raise UnitMoveRefused("不能把单位移到它自己或它的下级单位之下。")
    old_path, old_parent = unit.path, unit.parent
    new_path = f"{new_parent.path}{unit.code}/"
    if new_path == old_path:
        return unit
    moved = Unit.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1)))
    Unit.objects.filter(pk=unit.pk).update(parent=new_parent)
    unit.refresh_from_db()
    audit(actor=acting_user, action="unit_move", unit=unit, obj=unit, old_parent=old_parent.code if old_parent
          else "", new_parent=new_parent.code, old_path=old_path, new_path=new_path, units=moved)
    return unit


@transaction.atomic
def user_password_change(*, acting_user: User, password: str) -> None:
    """A user changes their own password (validated by the form): lifts the first-login lock."""
    acting_user.set_password(password)
    acting_user.must_change_password = False
    acting_user.save(update_fields=["password", "must_change_password"])
    # Tokens issued against the old password stop working (a leaked password is rotated out of the API too).
    revoked = _revoke_all_tokens(acting_user)
    audit(actor=acting_user, action="user_password_change", unit=acting_user.unit, obj=acting_user,
          tokens_revoked=revoked)


@transaction.atomic
def user_email_set(*, acting_user: User | None, user: User, email: str) -> None:
    """Set the e-mail address messages are sent to ("" removes it)."""
    if user.email != email:
        User.objects.filter(pk=user.pk).update(email=email)
        user.email = email
    audit(actor=acting_user, action="user_email_set", unit=user.unit, obj=user)


@transaction.atomic
def user_password_set(*, acting_user: User | None, user: User, password: str,
                      must_change_password: bool = False) -> None:
    """Set a known password (the demo seed resets its accounts' passwords so the printed logins work)."""
    user.set_password(password)
    user.must_change_password = must_change_password
    user.save(update_fields=["password", "must_change_password"])
    audit(actor=acting_user, action="user_password_set", unit=user.unit, obj=user, username=user.username)


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
