"""Helpers for the data-entry page tests: a logged-in client and JSON calls to the page's endpoints."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from reporting.models import Submission


class EntryClient:
    """A browser session of one user on the data-entry page and its JSON endpoints."""

    def __init__(self, user: User | None) -> None:
        self.client = Client()
        self.user = user
        if user is not None:
            self.client.force_login(user)

    def page(self, submission: Submission):
        return self.client.get(reverse("submission_entry", args=[submission.pk]))

    def state(self, submission: Submission):
        return self.client.get(reverse("submission_state_api", args=[submission.pk]))

    def post(self, name: str, args: list, body: dict[str, Any]):
        return self.client.post(reverse(name, args=args), data=json.dumps(body), content_type="application/json")

    def save(self, submission: Submission, changes: list[dict[str, Any]] | dict[str, Any], *,
             base_revision: int | None = None, explanations: dict[str, str] | None = None):
        if isinstance(changes, dict):
            changes = [{"field": k, "value": v} for k, v in changes.items()]
        body: dict[str, Any] = {"changes": changes}
        if base_revision is not None:
            body["base_revision"] = base_revision
        if explanations is not None:
            body["explanations"] = explanations
        return self.post("submission_save_api", [submission.pk], body)

    def check(self, submission: Submission):
        return self.post("submission_check_api", [submission.pk], {})

    def add_member(self, submission: Submission, key: str, unit: str = ""):
        return self.post("member_add_api", [submission.pk], {"key": key, "unit": unit})

    def remove_member(self, submission: Submission, key: str):
        return self.post("member_remove_api", [submission.pk, key], {})


@pytest.fixture
def as_user():
    """as_user(user) -> EntryClient logged in as that user (None = anonymous)."""
    return EntryClient
