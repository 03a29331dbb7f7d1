from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.utils import timezone

from tests.accounts.conftest import PASSWORD, web_login

# A Redis server that is not there: every cache call fails with a connection error.
REDIS_DOWN = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": "redis://127.0.0.1:1/0"}}


def test_it_keeps_sessions_in_the_database():
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


def test_it_ends_a_session_after_eight_idle_hours(tree, client):
    web_login(client, "370100", PASSWORD)
    session = Session.objects.get()
    expected = timezone.now() + timedelta(hours=8)
    assert abs((session.expire_date - expected).total_seconds()) < 60
    assert session.get_decoded()["_auth_user_id"] == str(tree.user("370100").pk)


def test_it_extends_the_session_on_a_request_once_the_renewal_interval_passed(tree, client, settings):
    settings.FJZL_SESSION_RENEW_SECONDS = 0  # the interval (a minute in production) has passed
    web_login(client, "370100", PASSWORD)
    Session.objects.update(expire_date=timezone.now() + timedelta(hours=1))
    assert client.get("/").status_code == 200
    remaining = Session.objects.get().expire_date - timezone.now()
    assert remaining > timedelta(hours=7, minutes=59)


def test_it_logs_out_after_the_idle_limit(tree, client):
    web_login(client, "370100", PASSWORD)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(settings.LOGIN_URL) or "/accounts/login/" in response.url


def test_it_logs_in_and_serves_pages_while_redis_is_down(tree, client, settings):
    settings.CACHES = REDIS_DOWN
    with pytest.raises(Exception):  # noqa: B017 - any connection error proves the cache is really down
        cache.set("probe", 1)
    response = web_login(client, "370100", PASSWORD)
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert "370100" in page.content.decode()
    # The session was written and read back from the database, not the cache.
    assert Session.objects.count() == 1
    assert client.get("/").status_code == 200


def test_it_issues_api_tokens_while_redis_is_down_with_the_production_cache(tree, client, settings):
    """Production uses django-redis with IGNORE_EXCEPTIONS: login throttling degrades, logins still work."""
    settings.CACHES = {"default": {
        "BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }}
    response = client.post("/api/auth/token/", {"username": "370100", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["token"]
    assert web_login(client, "370100", PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
