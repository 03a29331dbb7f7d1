"""Results tests: alliances' forms filled with generated, engine-clean values through the real save and review
path (tests.filling.fill_form), then frozen and published through results.actions."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from accounts.models import User
from reporting.models import Submission
from tests import filling as demo
from tests.cast import Cast


@pytest.fixture
def fill(cast: Cast) -> Callable[..., Submission]:
    def _fill(who: User | str, form_code: str | None = None, state: str = demo.APPROVED) -> Submission:
        return demo.fill_form(cast.submission(who, form_code), state=state)

    return _fill



@pytest.fixture
def chain(cast: Cast):
    """2017 ← 2018 ← 2019 tasks linked by Task.previous (created through reporting.actions.task_create), and
    fill(task, unit code, form, state, previous=submission) for any of them."""
    from django.conf import settings
    from django.utils import timezone

    from reporting import actions as reporting_actions

    now = timezone.now()
    tasks = []
    previous = None
    for year in (2017, 2018, 2019):
        previous = reporting_actions.task_create(
            acting_user=None, code=f"y{year}", name=f"{year}年分级诊疗第三方评估",
            period_start=now.date().replace(year=year, month=1, day=1),
            period_end=now.date().replace(year=year, month=12, day=31),
            window_open=now - timezone.timedelta(days=1), window_close=now + timezone.timedelta(days=20),
            catalog_slug=settings.FJZL_DEFAULT_CATALOG, previous=previous, is_current=False)
        reporting_actions.submissions_ensure(acting_user=None, task=previous)
        tasks.append(previous)
    return tasks


def fill_in(task, unit_code: str, form_code: str, state: str = demo.APPROVED,
            previous: Submission | None = None) -> Submission:
    sub = Submission.objects.get(task=task, unit__code=unit_code, form_code=form_code)
    return demo.fill_form(sub, state=state, previous=previous)


@pytest.fixture
def reported(cast: Cast, fill):
    """Three urban alliances' 表3, approved: two in 山东 (济南, 青岛), one in 四川 (资阳)."""
    return {code: fill(code, "t3", demo.APPROVED) for code in ("3701001", "3702001", "5120001")}
