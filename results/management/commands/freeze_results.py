"""python manage.py freeze_results --task CODE — freeze the task's results as a new release version."""

from django.core.management.base import BaseCommand, CommandError

from reporting.models import Task
from results import actions


class Command(BaseCommand):
    help = "冻结任务的评估结果（生成不可变的新版本）"

    def add_arguments(self, parser):
        parser.add_argument("--task", required=True, help="任务编码")
        parser.add_argument("--note", default="", help="说明")

    def handle(self, *args, task, note, **options):
        t = Task.objects.filter(code=task).first()
        if t is None:
            raise CommandError(f"任务不存在：{task}")
        try:
            release = actions.release_freeze(acting_user=None, task_id=t.pk, note=note)
        except actions.ResultsError as e:
            raise CommandError(e.message) from e
        self.stdout.write(f"{t.code} 第 {release.version} 版已冻结：{len(release.snapshot['units'])} 个单位，"
                          f"校验码 {release.content_hash}，变更 {len(release.change_log)} 项")
