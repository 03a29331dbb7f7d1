from django.core.management.base import BaseCommand, CommandError

from engine import CatalogError
from indicators.actions import task_catalog_update
from reporting.catalog_loader import read_catalog
from reporting.models import Task
from reporting.selectors import current_task


class Command(BaseCommand):
    help = "Point a task at the (changed) definitions of a catalog folder and re-evaluate its submissions."

    def add_arguments(self, parser):
        parser.add_argument("--task", default=None, help="task code (default: the current task)")
        parser.add_argument("--catalog", default=None, help="catalog folder slug (default: the task's)")

    def handle(self, *args, task: str | None, catalog: str | None, **options):
        t = Task.objects.filter(code=task).first() if task else current_task()
        if t is None:
            raise CommandError("找不到任务")
        _, forms = read_catalog(catalog or t.catalog_slug)
        try:
            changed = task_catalog_update(acting_user=None, task=t, forms=forms)
        except CatalogError as e:
            raise CommandError(str(e)) from e
        self.stdout.write(f"{t.name}: {'、'.join(changed) if changed else '无变化'}")
