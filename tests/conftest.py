"""Shared test setup: a small named cast of users per role and level, built through the action layer."""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

from tests.browser import browser  # noqa: F401  (the shared headless-Chromium fixture)
from tests.cast import Cast, build_cast

# Hashing with Argon2 dominates a test that creates thirty users; tests that check Argon2 set it back.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                             *settings.PASSWORD_HASHERS]


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Celery runs tasks in-process in tests unless a test starts a real worker itself."""
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield


@pytest.fixture
def cast(db) -> Cast:
    return build_cast()


@pytest.fixture
def api():
    """api(user) → a DRF client authenticated with a fresh API token of `user` (accounts.actions.token_issue);
    api(None) → an anonymous one."""
    from rest_framework.test import APIClient

    from accounts.actions import token_issue

    def _client(user):
        client = APIClient()
        if user is not None:
            _, key = token_issue(acting_user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return _client


REAL_CELERY_LOCK = Path(tempfile.gettempdir()) / "fjzl-real-celery.lock"


@pytest.fixture
def real_celery():
    """The real Redis broker, for a test that starts a real Celery worker.

    Every such test, in any xdist worker and in any other test run on this machine, shares Redis' default queue:
    a worker started by one test would take another test's message and look for its row in the wrong database.
    So they run one at a time (an exclusive file lock) and each starts and ends with an empty queue, including the
    unacknowledged messages a killed worker leaves behind."""
    from config.celery import app

    url = os.environ["REDIS_URL"]
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "result_backend")}
    with REAL_CELERY_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            app.conf.task_always_eager = False
            app.conf.broker_url = url
            app.conf.result_backend = url
            app._after_fork()  # drop pooled connections to the previous broker
            _empty_broker(app)
            yield app
        finally:
            app.conf.update(saved)
            app._after_fork()
            _empty_broker(app, url)
            fcntl.flock(lock, fcntl.LOCK_UN)


def _empty_broker(app, url: str | None = None) -> None:
    import redis

    client = redis.Redis.from_url(url or app.conf.broker_url)
    queue = app.conf.task_default_queue
    client.delete(*client.keys(f"{queue}*"), "unacked", "unacked_index", "unacked_mutex")
    client.close()


@pytest.fixture(autouse=True)
def _fresh_peer_cache() -> None:
    """reporting.evaluation caches peer values per (task, form) for minutes; tests must not share them."""
    from reporting import evaluation, workflow

    evaluation._peer_cache.clear()
    workflow._declared_approver.cache_clear()
