"""The named cast every test uses. Built with the same code as `seed_demo` (accounts.demo), so tests and the
demo agree on the hierarchy:

nation 100000 ─ 山东省 370000 ─ 济南市 370100 ─ 3701001 (urban) · 3701001-2 (urban) · 3701002 (county)
             │               └ 青岛市 370200 ─ 3702001 · 3702002
             └ 四川省 510000 ─ 成都市 510100 ─ 5101001 · 5101002
                             └ 资阳市 512000 ─ 5120001 · 5120002
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from accounts.demo import build_hierarchy
from accounts.models import Unit, User
from reporting import actions
from reporting.models import Submission, Task

PASSWORD = "Cast#pass-2019"


@dataclass
class Cast:
    task: Task
    nation_reviewer: User  # 国家级审核
    analyst: User  # 国家级分析
    admin: User
    sd_filler: User  # 山东省 fills 表1
    sd_reviewer: User  # 山东省 reviews 表2, re-checks 表3/表4
    jinan_filler: User  # 济南市 fills 表2
    jinan_reviewer: User  # 济南市 reviews its alliances
    qingdao_reviewer: User
    jinan_urban: User  # 3701001 lead hospital, fills 表3
    jinan_urban2: User  # 3701001-2, a sibling alliance
    jinan_county: User  # 3701002, fills 表4
    qingdao_urban: User  # 3702001, another city's alliance
    sc_reviewer: User  # 四川省, another province
    zy_urban: User  # 资阳 5120001

    def unit(self, code: str) -> Unit:
        return Unit.objects.get(code=code)

    def submission(self, user_or_code: User | str, form_code: str | None = None) -> Submission:
        code = user_or_code if isinstance(user_or_code, str) else user_or_code.unit.code
        qs = Submission.objects.filter(task=self.task, unit__code=code)
        if form_code:
            qs = qs.filter(form_code=form_code)
        return qs.get()


def build_cast() -> Cast:
    build_hierarchy(PASSWORD)
    now = timezone.now()
    task = actions.task_create(
        acting_user=None, code="t2019", name="2019年分级诊疗第三方评估",
        period_start=now.date().replace(year=2019, month=1, day=1),
        period_end=now.date().replace(year=2019, month=6, day=30),
        window_open=now - timezone.timedelta(days=1), window_close=now + timezone.timedelta(days=20),
        catalog_slug=settings.FJZL_DEFAULT_CATALOG,
    )
    actions.submissions_ensure(acting_user=None, task=task)
    u = {x.username: x for x in User.objects.select_related("unit")}
    return Cast(
        task=task,
        nation_reviewer=u["100000-sh"], analyst=u["100000-fx"], admin=u["admin"],
        sd_filler=u["370000"], sd_reviewer=u["370000-sh"],
        jinan_filler=u["370100"], jinan_reviewer=u["370100-sh"], qingdao_reviewer=u["370200-sh"],
        jinan_urban=u["3701001"], jinan_urban2=u["3701001-2"], jinan_county=u["3701002"],
        qingdao_urban=u["3702001"], sc_reviewer=u["510000-sh"], zy_urban=u["5120001"],
    )
