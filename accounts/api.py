"""API login: POST /api/auth/token/ with username and password returns {"token": …}."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import actions
from .authentication import MUST_CHANGE_PASSWORD
from .models import ApiToken
from .throttling import LoginRateThrottle
from .tokens import active_tokens

LOCKED_OUT = "登录失败次数过多，该用户名在此地址已被暂时锁定，请 30 分钟后再试或联系上级管理员。"
BAD_CREDENTIALS = "用户名或密码错误。"


class ObtainTokenView(ObtainAuthToken):
    """ObtainAuthToken with the platform's rules.

    The serializer passes the request to authenticate(), so django-axes counts failures here exactly as on the
    login page (same username + address pair). Axes marks the DRF request, which its middleware never sees,
    so the lockout answer is given here. An account with a one-time password gets no token.
    """

    throttle_classes = [LoginRateThrottle]
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
        token, key = actions.token_issue(acting_user=user, name=str(request.data.get("name") or "")[:100])
        # A successful API login counts as a login: last_login is updated and axes clears earlier failures.
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response({"token": key, "id": token.pk, "expires_at": token.expires_at})


class TokenSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "prefix", "name", "created_at", "expires_at", "last_used_at", "current"]

    def get_current(self, token: ApiToken) -> bool:
        return token == self.context.get("current")


class TokenListView(APIView):
    """The caller's own active API tokens (never the keys, only their first characters)."""

    @extend_schema(summary="我的接口令牌（有效的）", responses={200: TokenSerializer(many=True)})
    def get(self, request: Request) -> Response:
        tokens = active_tokens().filter(user=request.user)
        current = request.auth if isinstance(request.auth, ApiToken) else None
        return Response(TokenSerializer(tokens, many=True, context={"current": current}).data)


class TokenDetailView(APIView):
    """Revoke one of the caller's own tokens; anybody else's token is a 404."""

    @extend_schema(summary="吊销我的一个接口令牌", request=None,
                   responses={204: None, 404: inline_serializer("TokenNotFound", {"detail": serializers.CharField()})})
    def delete(self, request: Request, pk: int) -> Response:
        try:
            actions.token_revoke(acting_user=request.user, token_id=pk)
        except ApiToken.DoesNotExist:
            raise Http404("没有该令牌。") from None
        return Response(status=status.HTTP_204_NO_CONTENT)
