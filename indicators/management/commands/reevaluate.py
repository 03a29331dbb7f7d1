"""Re-evaluate every started submission of a task in the foreground (the job a rule change starts in the
background) and say how many were evaluated and how many stored results changed."""

from django.core.management.base import BaseCommand, CommandError

from indicators.actions import task_reevaluate
from reporting.models import Task


class Command(BaseCommand):
    help = "重新审核某任务的全部已填报报表：manage.py reevaluate --task CODE"

    def add_arguments(self, parser):
        parser.add_argument("--task", required=True, help="任务编码（Task.code）")

    def handle(self, *args, task: str, **options):
        found = Task.objects.filter(code=task).first()
        if found is None:
            raise CommandError(f"任务“{task}”不存在。")
        count, changed = task_reevaluate(acting_user=None, task_id=found.pk)
        self.stdout.write(f"evaluated {count} submissions, {changed} results changed "
                          f"（已重新审核 {count} 份报表，其中 {changed} 份的审核结果有变化）")
