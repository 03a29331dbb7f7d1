"""Results tests: alliances' forms filled with generated, engine-clean values through the real save and review
path (review.demo.fill_form), then frozen and published through results.actions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from reporting.models import Submission
from review import demo
from tests.cast import Cast


@pytest.fixture
def fill(cast: Cast) -> Callable[..., Submission]:
    def _fill(who: User | str, form_code: str | None = None, state: str = demo.APPROVED) -> Submission:
        return demo.fill_form(cast.submission(who, form_code), state=state)

    return _fill


@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    def _client(user: User | None) -> APIClient:
        from rest_framework.authtoken.models import Token

        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return _client
