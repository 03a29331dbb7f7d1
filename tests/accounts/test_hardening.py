"""Accounts hardening: common and decorated passwords, Chinese validator messages, expiring / revocable / rotated
API tokens, lockout against spraying, throttles without Redis or forgeable headers, absolute session lifetime."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts import actions
from accounts.middleware import LOGIN_AT
from accounts.models import ApiToken
from tests.accounts.conftest import PASSWORD, api_token, web_login

pytestmark = pytest.mark.urls("tests.accounts.urls_api")
CJK = re.compile(r"[\u4e00-\u9fff]")

WEAK = ["Password@123", "P@ssw0rd2019", "p@ssw0rd!", "Admin@2019", "Qwer1234!@#$", "1qaz2wsx3edc", "woaini1314!",
        "Woaini@520520", "Abc@12345678", "Iloveyou2019", "zhongguo@123", "Jinan@2019", "jinan123456", "Shandong@2019",
        "Jinanshi#2019", "Yiyuan@2019", "qq123456789", "88888888a!", "Welcome@2019", "Zhangwei#1990"]
STRONG = ["Tq#8wnVb-x4Rm", "Vw7#kPz2-qRtx", "hJ4&mQ9z!Lt2w", "灰雀-Kp7#桥边x"]


def _messages(password: str, user) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def test_it_refuses_common_and_decorated_passwords_and_the_units_pinyin(tree):
    user = tree.user("370100")  # 济南市 in 山东省
    accepted = [p for p in WEAK if not _messages(p, user)]
    assert accepted == []
    assert [p for p in STRONG if _messages(p, user)] == []


@pytest.mark.parametrize("password", ["Ab#1x", "12345678901234", "370100abcdefg", "Password@123", "Jinan@2019"])
def test_it_answers_every_validator_in_chinese(tree, password):
    messages = _messages(password, tree.user("370100"))
    assert messages
    assert all(CJK.search(m) for m in messages), messages


def test_it_answers_the_similarity_validator_in_chinese(tree):
    user = tree.user("370100")
    user.display_name = ""
    user.email = "zhangsanfeng@example.org"
    messages = _messages("zhangsanfeng1", user)
    assert messages and all(CJK.search(m) for m in messages)


def test_it_issues_a_new_expiring_token_at_each_api_login_and_lists_only_my_own(tree, client):
    first = api_token(client, "3701001", PASSWORD).json()
    second = api_token(client, "3701001", PASSWORD).json()
    assert first["token"] != second["token"]
    other = api_token(client, "3701002", PASSWORD).json()
    listed = client.get("/api/auth/tokens/", HTTP_AUTHORIZATION=f"Token {first['token']}").json()
    assert {t["id"] for t in listed} == {first["id"], second["id"]}
    assert other["id"] not in {t["id"] for t in listed}
    assert not any(first["token"] in str(t) for t in listed)  # only the digest is stored
    token = ApiToken.objects.get(pk=first["id"])
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    ApiToken.objects.filter(pk=first["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = client.get("/api/test/whoami/", HTTP_AUTHORIZATION=f"Token {first['token']}")
    assert expired.status_code == 401
    assert "过期" in expired.json()["detail"]


def test_it_revokes_my_own_token_and_never_anybody_elses(tree, client):
    mine = api_token(client, "3701001", PASSWORD).json()
    theirs = api_token(client, "3701002", PASSWORD).json()
    auth = {"HTTP_AUTHORIZATION": f"Token {mine['token']}"}
    assert client.delete(f"/api/auth/tokens/{theirs['id']}/", **auth).status_code == 404
    assert client.get("/api/test/whoami/", HTTP_AUTHORIZATION=f"Token {theirs['token']}").status_code == 200
    assert client.delete(f"/api/auth/tokens/{mine['id']}/", **auth).status_code == 204
    assert client.get("/api/test/whoami/", **auth).status_code == 401


def test_it_lists_and_revokes_tokens_on_a_page(tree, client):
    mine = api_token(client, "3701001", PASSWORD).json()
    client.force_login(tree.user("3701001"))
    page = client.get(reverse("tokens"))
    assert page.status_code == 200 and mine["token"][:8] in page.content.decode()
    other = api_token(client.__class__(), "3701002", PASSWORD).json()
    assert client.post(reverse("token_revoke", args=[other["id"]])).status_code == 404
    assert client.post(reverse("token_revoke", args=[mine["id"]])).status_code == 302
    assert ApiToken.objects.get(pk=mine["id"]).revoked_at is not None


def test_it_revokes_every_token_when_the_password_changes(tree, client):
    token = api_token(client, "3701001", PASSWORD).json()["token"]
    browser = client.__class__()
    assert web_login(browser, "3701001", PASSWORD).status_code == 302
    new = "Lq8#vTz3-mNwp"
    response = browser.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": new,
                                                         "new_password2": new})
    assert response.status_code == 302
    assert client.get("/api/test/whoami/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
    fresh = api_token(client, "3701001", new).json()["token"]
    assert fresh != token
    assert client.get("/api/test/whoami/", HTTP_AUTHORIZATION=f"Token {fresh}").status_code == 200


def test_it_revokes_tokens_on_an_admin_password_reset(tree, client):
    token = api_token(client, "3701001", PASSWORD).json()["token"]
    actions.user_password_reset(acting_user=tree.user("admin"), user=tree.user("3701001"))
    assert client.get("/api/test/whoami/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401


def test_it_locks_one_address_spraying_a_password_over_many_usernames(tree, client, settings):
    ip = "10.9.9.9"
    names = [f"sprayed{i}" for i in range(settings.FJZL_ADDRESS_FAILURE_LIMIT)]
    for name in names:
        web_login(client, name, "Password@123", ip=ip)
    # The address is now locked for every account, even with the right password …
    assert web_login(client, "370100", PASSWORD, ip=ip).status_code in (403, 429)
    # … and nobody else is.
    assert web_login(client.__class__(), "370100", PASSWORD, ip="10.9.9.10").status_code == 302


def test_it_locks_one_username_guessed_slowly_from_many_addresses(tree, client, settings):
    per_address = settings.AXES_FAILURE_LIMIT - 1  # never enough to trip the username + address lock
    addresses = [f"10.7.0.{i}" for i in range(settings.FJZL_USERNAME_FAILURE_LIMIT // per_address + 1)]
    for ip in addresses:
        for _ in range(per_address):
            web_login(client, "370100", "wrong-password", ip=ip)
    response = web_login(client, "370100", PASSWORD, ip="10.8.0.1")
    assert response.status_code in (403, 429)
    assert "锁定" in response.content.decode()
    assert web_login(client.__class__(), "3701001", PASSWORD, ip="10.8.0.1").status_code == 302


def test_it_throttles_api_logins_despite_forged_forwarded_headers_and_without_redis(tree, client, settings):
    from accounts.throttling import LoginRateThrottle

    assert LoginRateThrottle.cache.__class__.__name__ == "DatabaseCache"
    settings.CACHES = {**settings.CACHES, "default": {
        "BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2}}}
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"].split("/")[0])
    codes = []
    for i in range(limit + 1):
        response = client.post("/api/auth/token/", {"username": f"nobody{i}", "password": "x"},
                               REMOTE_ADDR="10.6.6.6", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
        codes.append(response.status_code)
    assert codes[-1] == 429
    assert 429 not in codes[:limit]


def test_it_ends_a_session_at_its_absolute_lifetime_however_active(tree, client, settings):
    assert web_login(client, "3701001", PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
    session = client.session
    session[LOGIN_AT] = int(time.time()) - settings.FJZL_SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert client.get("/").status_code == 302  # logged out for good
    assert web_login(client, "3701001", PASSWORD).status_code == 302
    assert client.get("/").status_code == 200  # a fresh login starts a fresh lifetime


def test_it_renews_the_idle_timeout_at_most_once_a_minute(tree, client, settings):
    from django.contrib.sessions.models import Session

    from accounts.middleware import RENEWED_AT

    assert web_login(client, "3701001", PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    first = Session.objects.get(session_key=key).expire_date
    for _ in range(3):  # a burst of autosaves: the session row is not written again
        assert client.get("/").status_code == 200
    assert Session.objects.get(session_key=key).expire_date == first
    session = client.session
    session[RENEWED_AT] = int(time.time()) - settings.FJZL_SESSION_RENEW_SECONDS  # a minute later
    session.save()
    stale = Session.objects.get(session_key=key).expire_date
    Session.objects.filter(session_key=key).update(expire_date=stale - timedelta(hours=1))
    assert client.get("/").status_code == 200
    assert Session.objects.get(session_key=key).expire_date > stale - timedelta(minutes=1)  # renewed
