"""python manage.py export_xlsx [--task CODE] [--unit CODE] [--kind task|audit|…] --out FILE"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Unit
from exports import registry
from exports.xlsx import write_workbook
from reporting.models import Task
from reporting.selectors import current_task


class Command(BaseCommand):
    help = "把一个填报任务的数据导出为 Excel（每张表、每个成员子表一个工作表）。命令行导出不按账号限制范围。"

    def add_arguments(self, parser):
        parser.add_argument("--task", help="任务编码（默认：当前任务）")
        parser.add_argument("--unit", help="只导出该单位及其下级单位")
        parser.add_argument("--kind", default="task", help="导出类型：task（默认）、audit，或其他已注册类型")
        parser.add_argument("--out", required=True, help="输出文件 .xlsx")

    def handle(self, *args, task: str | None, unit: str | None, kind: str, out: str, **options):
        the_task = Task.objects.filter(code=task).first() if task else current_task()
        if the_task is None:
            raise CommandError(f"没有找到任务：{task}" if task else "没有当前任务。")
        if unit and not Unit.objects.filter(code=unit).exists():
            raise CommandError(f"没有找到单位：{unit}")
        try:
            registry.get(kind)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        params = {"unit": unit} if unit else {}
        started = time.perf_counter()
        rows = write_workbook(out, registry.iter_sheets(kind, None, the_task, params))
        self.stdout.write(self.style.SUCCESS(
            f"已导出 {rows} 行到 {out}（{the_task.name}，用时 {time.perf_counter() - started:.1f} 秒）"))
