"""DRF authentication that keeps the first-login rule: an account with a one-time password gets no API access.

Token authentication is resolved inside DRF, after the middleware ran, so ForcePasswordChangeMiddleware cannot
see token users; this class refuses them (403) instead. Configured in REST_FRAMEWORK
["DEFAULT_AUTHENTICATION_CLASSES"].
"""

from __future__ import annotations

from rest_framework import authentication, exceptions

from .models import User

MUST_CHANGE_PASSWORD = "首次登录须先在网页上修改初始密码，修改后才能使用接口。"


class MustChangePassword(exceptions.PermissionDenied):
    default_detail = MUST_CHANGE_PASSWORD
    default_code = "must_change_password"


def refuse_one_time_password(user: User) -> None:
    if getattr(user, "must_change_password", False):
        raise MustChangePassword()


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>` against accounts.models.ApiToken: unknown, expired or revoked keys and
    inactive users are refused (401); last use is recorded at most every few minutes."""

    def authenticate_credentials(self, key: str) -> tuple[User, object]:
        from django.utils import timezone

        from .actions import token_mark_used
        from .models import ApiToken
        from .tokens import token_for_key

        token = token_for_key(key) or legacy_token(key)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("令牌无效、已过期或已被吊销，请重新获取。")
        if not isinstance(token, ApiToken):
            refuse_one_time_password(token.user)
            return token.user, token
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
            token_mark_used(acting_user=token.user, token_id=token.pk, now=now)
        refuse_one_time_password(token.user)
        return token.user, token


class SessionAuthentication(authentication.SessionAuthentication):
    def authenticate(self, request) -> tuple[User, None] | None:
        result = super().authenticate(request)
        if result is not None:
            refuse_one_time_password(result[0])
        return result


def legacy_token(key: str):
    """A key of DRF's single per-user token (issued before accounts.ApiToken), honoured under the same rules:
    it expires settings.FJZL_API_TOKEN_DAYS after issue and is deleted on every password change or reset and on
    deactivation (accounts.actions). The login endpoint no longer issues these."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    since = timezone.now() - timedelta(days=settings.FJZL_API_TOKEN_DAYS)
    return Token.objects.select_related("user").filter(key=key, created__gt=since).first()
