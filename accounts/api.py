"""API login: POST /api/auth/token/ with username and password returns {"token": …}."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from . import actions
from .authentication import MUST_CHANGE_PASSWORD

LOCKED_OUT = "登录失败次数过多，该用户名在此地址已被暂时锁定，请 30 分钟后再试或联系上级管理员。"
BAD_CREDENTIALS = "用户名或密码错误。"


class ObtainTokenView(ObtainAuthToken):
    """ObtainAuthToken with the platform's rules.

    The serializer passes the request to authenticate(), so django-axes counts failures here exactly as on the
    login page (same username + address pair). Axes marks the DRF request, which its middleware never sees,
    so the lockout answer is given here. An account with a one-time password gets no token.
    """

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            if getattr(request, "axes_locked_out", False):
                return Response({"detail": LOCKED_OUT, "code": "locked_out"}, status=status.HTTP_403_FORBIDDEN)
            return Response({"detail": BAD_CREDENTIALS, "code": "bad_credentials"},
                            status=status.HTTP_400_BAD_REQUEST)
        user = serializer.validated_data["user"]
        if user.must_change_password:
            return Response({"detail": MUST_CHANGE_PASSWORD, "code": "must_change_password"},
                            status=status.HTTP_403_FORBIDDEN)
        token = actions.token_issue(acting_user=user)
        # A successful API login counts as a login: last_login is updated and axes clears earlier failures.
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response({"token": token.key})
