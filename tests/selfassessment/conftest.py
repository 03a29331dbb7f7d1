"""Report tests: forms filled with generated, engine-clean values through the real save path (tests.filling),
reports written through the action layer, files on a temporary local storage (the S3 variant comes from
tests/files/conftest.py's storage_backend)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from reporting.models import Submission
from selfassessment import actions
from tests import filling as demo
from tests.cast import Cast
from tests.files.conftest import s3_server, storage_backend  # noqa: F401  (shared storage fixtures)
from tests.files.samples import pdf_bytes, upload


@pytest.fixture(autouse=True)
def _local_media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "m")}}}


@pytest.fixture
def fill(cast: Cast) -> Callable[..., Submission]:
    def _fill(who: User | str, form_code: str | None = None, state: str = demo.CLEAN_DRAFT) -> Submission:
        return demo.fill_form(cast.submission(who, form_code), state=state)

    return _fill


@pytest.fixture
def api() -> Callable[[User], APIClient]:
    def _client(user: User) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return _client


@pytest.fixture
def require_reports(cast: Cast):
    """The task asks every filling level for its report before 上报."""
    for level, code in (("province", "fjzl2019_a1"), ("city", "fjzl2019_a1"), ("urban_alliance", "fjzl2019_a2"),
                        ("county_alliance", "fjzl2019_a2")):
        actions.task_report_set(acting_user=cast.admin, task=cast.task, unit_level=level, framework_code=code,
                                required_for_submit=True)


def write_all(user: User, submission: Submission, text: str = "<p>已完成。</p>") -> None:
    from selfassessment.selectors import report_for

    report = report_for(submission)
    actions.report_save(acting_user=user, submission_id=submission.pk,
                        sections={s["key"]: text for s in report.framework.writable_sections})


def stamp(user: User, submission: Submission):
    return actions.attachment_add(acting_user=user, submission_id=submission.pk,
                                  upload=upload("盖章版.pdf", pdf_bytes("stamped")), stamped=True)
