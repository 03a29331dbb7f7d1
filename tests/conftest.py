"""Shared test setup: a small named cast of users per role and level, built through the action layer."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from tests.browser import browser  # noqa: F401  (the shared headless-Chromium fixture)
from tests.cast import Cast, build_cast


def _own_redis_database_per_xdist_worker() -> None:
    """Tests that start a real Celery worker (exports jobs, re-evaluation, reminders) share one Redis. With two
    xdist workers, a Celery worker started by one test could take another test's message and look for its job in
    the wrong test database, leaving that job queued. Each xdist worker therefore gets its own Redis database."""
    url, xdist_worker = os.environ.get("REDIS_URL"), os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not xdist_worker.startswith("gw"):
        return
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    os.environ["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{(base + 1 + int(xdist_worker[2:])) % 16}"))


_own_redis_database_per_xdist_worker()


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






@pytest.fixture(autouse=True)
def _fresh_peer_cache() -> None:
    """reporting.evaluation caches peer values per (task, form) for minutes; tests must not share them."""
    from reporting import evaluation, workflow

    evaluation._peer_cache.clear()
    workflow._declared_approver.cache_clear()
