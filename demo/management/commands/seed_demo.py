import json
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.demo import build_hierarchy, give_emails
from demo.signals import demo_seeded
from demo.states import lay_out_states
from reporting import actions
from reporting.models import Task

DEMO_TASK = "fjzl2019"
PREVIOUS_TASK = "fjzl2018"


class Command(BaseCommand):
    help = "Build the demo hierarchy, accounts, task (filing window open today) and demo data."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="Demo#2019-fjzl", help="password of every demo account")
        parser.add_argument("--json", action="store_true", help="print the created accounts as JSON")

    def handle(self, *args, password: str, json: bool = False, **options):
        with transaction.atomic():
            accounts = build_hierarchy(password)
            task = self._tasks()
            actions.submissions_ensure(acting_user=None, task=task)
            if task.previous_id:
                actions.submissions_ensure(acting_user=None, task=task.previous)
            self._demo_values(task)
            give_emails(accounts)
            demo_seeded.send(sender=self.__class__, task=task)
        if json:
            self.stdout.write(_json_dumps([a.as_json() for a in accounts]))
            return
        opened, closes = timezone.localtime(task.window_open), timezone.localtime(task.window_close)
        self.stdout.write(self.style.SUCCESS(f"演示数据已就绪：{task.name}，填报窗口 {opened:%Y-%m-%d %H:%M}"
                                             f" 至 {closes:%Y-%m-%d %H:%M}"))
        self.stdout.write(f"演示账号（密码均为 {password}）：")
        for a in accounts:
            unit = a.unit.name if a.unit else ""
            self.stdout.write(f"  {a.username:<14} {a.role:<9} {unit}")

    def _tasks(self) -> Task:
        tz = timezone.get_current_timezone()
        today = timezone.localdate()
        # A living demo: the window opens this morning and closes in three weeks, whenever it is seeded.
        window_open = datetime.combine(today, time(0, 0), tz)
        window_close = datetime.combine(today + timedelta(days=21), time(18, 0), tz)
        previous = Task.objects.filter(code=PREVIOUS_TASK).first() or actions.task_create(
            acting_user=None, code=PREVIOUS_TASK, name="2018年分级诊疗第三方评估",
            period_start=date(2018, 1, 1), period_end=date(2018, 6, 30),
            window_open=datetime(2018, 8, 10, 8, 0, tzinfo=tz), window_close=datetime(2018, 8, 31, 18, 0, tzinfo=tz),
            catalog_slug=settings.FJZL_DEFAULT_CATALOG, is_current=False,
        )
        task = Task.objects.filter(code=DEMO_TASK).first()
        if task is None:
            task = actions.task_create(
                acting_user=None, code=DEMO_TASK, name="2019年分级诊疗第三方评估",
                period_start=date(2019, 1, 1), period_end=date(2019, 6, 30),
                window_open=window_open, window_close=window_close,
                catalog_slug=settings.FJZL_DEFAULT_CATALOG, previous=previous,
            )
        else:
            task = actions.task_window_set(acting_user=None, task_id=task.pk, window_open=window_open,
                                           window_close=window_close, is_current=True)
        return task

    def _demo_values(self, task: Task) -> None:
        lay_out_states(task)


def _json_dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)
