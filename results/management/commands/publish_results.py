"""python manage.py publish_results --task CODE --audience province|sector|public — publish the newest frozen
(or already published) release of the task to an audience tier."""

from django.core.management.base import BaseCommand, CommandError

from reporting.models import Task
from results import actions
from results.models import Release, ReleaseStatus


class Command(BaseCommand):
    help = "发布任务的评估结果（省级 province / 行业内 sector / 公众 public）"

    def add_arguments(self, parser):
        parser.add_argument("--task", required=True, help="任务编码")
        parser.add_argument("--audience", required=True, choices=["province", "sector", "public"])

    def handle(self, *args, task, audience, **options):
        t = Task.objects.filter(code=task).first()
        if t is None:
            raise CommandError(f"任务不存在：{task}")
        release = (Release.objects.filter(task=t).exclude(status=ReleaseStatus.SUPERSEDED)
                   .order_by("-version").first())
        if release is None:
            raise CommandError("该任务尚未冻结结果，请先运行 freeze_results。")
        try:
            release = actions.release_publish(acting_user=None, release_id=release.pk, audience=audience)
        except actions.ResultsError as e:
            raise CommandError(e.message) from e
        self.stdout.write(f"{t.code} 第 {release.version} 版已发布（{release.get_audience_display()}）")
