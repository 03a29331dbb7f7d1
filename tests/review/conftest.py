"""Review tests: forms filled with generated, engine-clean values (tests.filling.fill_form) through the real
save path, so every test starts from a form a filler could actually submit."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from accounts.models import User
from reporting.models import Submission
from tests import filling as demo
from tests.cast import Cast


@pytest.fixture
def fill(cast: Cast) -> Callable[..., Submission]:
    """fill(unit_code_or_user, form_code=None, state="clean_draft") -> the submission in that state."""

    def _fill(who: User | str, form_code: str | None = None, state: str = demo.CLEAN_DRAFT) -> Submission:
        return demo.fill_form(cast.submission(who, form_code), state=state)

    return _fill

