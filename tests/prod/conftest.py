from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User


@pytest.fixture
def api() -> Callable[[User], APIClient]:
    """An API client authenticated with a fresh token of `user`."""

    def _client(user: User) -> APIClient:
        from accounts.actions import token_issue

        client = APIClient()
        _, key = token_issue(acting_user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return _client
