from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.provisioning import provision, region_rows


class Command(BaseCommand):
    help = ("Create the nation (100000), the 32 provinces and all prefecture-level cities from "
            "accounts/data/regions.json. Units only; accounts come from provision_accounts --regions.")

    def handle(self, *args: object, **options: object) -> None:
        result = provision(region_rows(), create_accounts=False)
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(warning))
        self.stdout.write(self.style.SUCCESS(
            f"行政区划导入完成：新建 {len(result.units_created)} 个单位，已存在 {len(result.units_existing)} 个。"))
