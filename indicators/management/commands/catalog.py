import json

from django.core.management.base import BaseCommand

from indicators.describe import describe_form
from reporting.catalog_loader import folder_catalog


class Command(BaseCommand):
    help = "Print the form catalog (forms, fields, checks incl. derived ones, indicators)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print JSON (default: a short summary)")
        parser.add_argument("--catalog", default=None, help="catalog folder slug (default: settings)")

    def handle(self, *args, json: bool = False, catalog: str | None = None, **options):
        cat = folder_catalog(catalog)
        forms = [describe_form(form) for form in sorted(cat, key=lambda f: f.code)]
        if json:
            self.stdout.write(_dumps({"slug": cat.slug, "name": cat.name, "forms": forms}))
            return
        self.stdout.write(f"{cat.name}（{cat.slug}）")
        for f in forms:
            self.stdout.write(f"  {f['code']:<5} {f['title']}: {len(f['fields'])} 项指标, {len(f['checks'])} 条审核规则, "
                              f"{len(f['indicators'])} 个计算指标")


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)
