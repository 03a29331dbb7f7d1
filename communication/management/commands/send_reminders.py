import json
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from reporting.models import Task


class Command(BaseCommand):
    help = ("催报提醒: N days before the deadline to units not yet 上报, overdue to the unit and after M days to its "
            "supervisor, reviewers with forms waiting more than K days. Prints who gets what.")

    def add_arguments(self, parser):
        parser.add_argument("--task", required=True, help="task code, e.g. fjzl2019")
        parser.add_argument("--dry-run", action="store_true", help="print the plan, send nothing")
        parser.add_argument("--json", action="store_true", help="print the plan as JSON")
        parser.add_argument("--now", help="pretend it is this ISO time (testing a schedule)")

    def handle(self, *args, task: str, dry_run: bool, json: bool, now: str | None, **options):
        from communication.actions import reminders_send
        from communication.reminders import as_json, plan

        found = Task.objects.filter(code=task).first()
        if found is None:
            raise CommandError(f"任务不存在：{task}")
        at = timezone.now()
        if now:
            try:
                at = datetime.fromisoformat(now)
            except ValueError:
                raise CommandError(f"时间格式不正确：{now}") from None
            if timezone.is_naive(at):
                at = timezone.make_aware(at)
        if dry_run:
            items = plan(found, now=at)
        else:
            with transaction.atomic():
                items = reminders_send(acting_user=None, task=found, now=at)
        if json:
            self.stdout.write(_dumps({"task": found.code, "dry_run": dry_run, "reminders": as_json(items)}))
            return
        verb = "将发送" if dry_run else "已安排发送"
        self.stdout.write(f"{found.name}：{len(items)}条提醒{verb}")
        for item in as_json(items):
            who = "、".join(f"{r['username']}<{r['email'] or '无邮箱'}>" for r in item["recipients"]) or "（无收件人）"
            self.stdout.write(f"  [{item['event']}] {item['unit_name']}（{item['unit']}） → {who}：{item['subject']}")


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)
