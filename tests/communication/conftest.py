"""Communication tests: every cast member has an e-mail address; forms are filled through tests.filling."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from accounts.actions import user_email_set
from accounts.models import User
from reporting.models import Submission
from tests import filling as demo
from tests.cast import Cast


@pytest.fixture(autouse=True)
def _local_media(settings, tmp_path):
    """Uploaded files (notice attachments) go to a temporary folder."""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "m")}}}


@pytest.fixture
def mailable(cast: Cast) -> Cast:
    for user in User.objects.all():
        user_email_set(acting_user=None, user=user, email=f"{user.username}@demo.invalid")
    for value in vars(cast).values():
        if isinstance(value, User):
            value.refresh_from_db()
    return cast


@pytest.fixture
def fill(cast: Cast) -> Callable[..., Submission]:
    def _fill(who: User | str, form_code: str | None = None, state: str = demo.CLEAN_DRAFT) -> Submission:
        return demo.fill_form(cast.submission(who, form_code), state=state)

    return _fill
