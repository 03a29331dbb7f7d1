"""Writes on units and users. Each action runs in one transaction with its audit row."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

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
    from axes.utils import reset as axes_reset

    password = generate_password_for(user)
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    # Existing API tokens were issued against the old password.
    _revoke_all_tokens(user)
    axes_reset(username=user.get_username())
    audit(actor=acting_user, action="user_password_reset", unit=user.unit, obj=user, username=user.username)
    return password


@transaction.atomic
def user_password_changed(*, acting_user: User) -> None:
    """Called after Django's password change form saved: lifts the first-login lock."""
    if acting_user.must_change_password:
        User.objects.filter(pk=acting_user.pk).update(must_change_password=False)
        acting_user.must_change_password = False
    # Tokens issued against the old password stop working (a leaked password is rotated out of the API too).
    revoked = _revoke_all_tokens(acting_user)
    audit(actor=acting_user, action="user_password_change", unit=acting_user.unit, obj=acting_user,
          tokens_revoked=revoked)


# --- API tokens ------------------------------------------------------------------------------------------------

MAX_ACTIVE_TOKENS = 20


def _revoke_all_tokens(user: User) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


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


@transaction.atomic
def token_revoke(*, acting_user: User, token_id: int) -> ApiToken:
    """Revoke one of the caller's own tokens (ApiToken.DoesNotExist for anybody else's: a 404)."""
    token = ApiToken.objects.select_for_update().get(pk=token_id, user=acting_user)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit(actor=acting_user, action="token_revoke", unit=acting_user.unit, obj=token, prefix=token.prefix)
    return token
