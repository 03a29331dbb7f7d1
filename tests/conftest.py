"""Shared test setup: a small named cast of users per role and level, built through the action layer."""

from __future__ import annotations

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






@pytest.fixture(autouse=True)
def _fresh_peer_cache() -> None:
    """reporting.evaluation caches peer values per (task, form) for minutes; tests must not share them."""
    from reporting import evaluation, workflow

    evaluation._peer_cache.clear()
    workflow._declared_approver.cache_clear()
