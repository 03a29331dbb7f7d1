"""Show or set which self-assessment framework each level writes for a task.

    manage.py report_plan --task t2019                          # show
    manage.py report_plan --task t2019 --level urban_alliance --framework ylt2018_a3 --required
    manage.py report_plan --task t2019 --level city --none       # no report for that level
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import UnitLevel
from reporting.models import Task
from selfassessment.actions import report_plans_ensure, task_report_set
from selfassessment.catalog import available_frameworks
from selfassessment.models import TaskReport


class Command(BaseCommand):
    help = "查看或设置任务的自评估报告框架（各层级写哪一个框架、上报时是否必须提交）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--task", required=True)
        parser.add_argument("--level", choices=[v for v, _ in UnitLevel.choices])
        parser.add_argument("--framework", choices=available_frameworks())
        parser.add_argument("--required", action="store_true", help="上报时必须完成报告并上传盖章扫描件")
        parser.add_argument("--none", action="store_true", help="该层级不写报告")

    def handle(self, *args, **options) -> None:
        task = Task.objects.filter(code=options["task"]).first()
        if task is None:
            raise CommandError(f"没有任务 {options['task']}")
        if options["level"]:
            if not options["none"] and not options["framework"]:
                raise CommandError("请用 --framework 指定框架，或用 --none 取消该层级的报告。")
            task_report_set(acting_user=None, task=task, unit_level=options["level"],
                            framework_code=None if options["none"] else options["framework"],
                            required_for_submit=options["required"])
        else:
            report_plans_ensure(acting_user=None, task=task)
        for plan in TaskReport.objects.filter(task=task).select_related("framework"):
            required = "上报必交" if plan.required_for_submit else "选交"
            self.stdout.write(f"{plan.get_unit_level_display()}\t{plan.framework.title}"
                              f"（{plan.framework.code} {plan.framework.content_hash[:8]}）\t{required}")
