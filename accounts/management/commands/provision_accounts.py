from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.provisioning import (
    ProvisioningError,
    UnitRow,
    provision,
    read_unit_file,
    region_rows,
    write_distribution_sheet,
)


class Command(BaseCommand):
    help = ("Create units and their accounts from a unit list (csv/xlsx: 单位编码, 单位名称, 层级, 上级编码), "
            "each new account with a random one-time password, and write the distribution sheet (xlsx).")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--units", help="unit list, .csv or .xlsx")
        parser.add_argument("--regions", action="store_true",
                            help="also provision the nation, the 32 provinces and all prefecture-level cities "
                                 "(accounts/data/regions.json)")
        parser.add_argument("--out", help="distribution sheet to write (default: 账号分发表-<time>.xlsx)")
        parser.add_argument("--reset-passwords", action="store_true",
                            help="give existing accounts of the listed units a new one-time password as well")

    def handle(self, *args: object, units: str | None, regions: bool, out: str | None, reset_passwords: bool,
               **options: object) -> None:
        if not units and not regions:
            raise CommandError("请用 --units 指定单位清单文件，或用 --regions 导入全国省、市两级。")
        rows: list[UnitRow] = region_rows() if regions else []
        try:
            if units:
                if not Path(units).exists():
                    raise CommandError(f"文件不存在：{units}")
                listed = read_unit_file(units)
                codes = {r.code for r in listed if r.code}
                rows = [r for r in rows if r.code not in codes] + listed
            out_path = Path(out or f"账号分发表-{timezone.localtime():%Y%m%d-%H%M%S}.xlsx")
            # The sheet is written inside the transaction: if it cannot be written, nothing is created, so no
            # one-time password is ever lost.
            with transaction.atomic():
                result = provision(rows, reset_passwords=reset_passwords, progress=self._progress)
                write_distribution_sheet(result.sheet, out_path)
        except ProvisioningError as e:
            raise CommandError("单位清单有误，未做任何修改：\n" + "\n".join(e.problems)) from e
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(warning))
        self.stdout.write(self.style.SUCCESS(
            f"新建单位 {len(result.units_created)} 个（已存在 {len(result.units_existing)} 个）；"
            f"新建账号 {len(result.users_created)} 个，重置密码 {len(result.passwords_reset)} 个，"
            f"未改变 {len(result.users_unchanged)} 个。"))
        if any(row.password for row in result.sheet):
            self.stdout.write(f"账号分发表：{out_path}（含初始密码，请妥善保管，分发后删除）")
        else:
            self.stdout.write(f"账号清单：{out_path}（没有新密码；需要重新分发密码时加 --reset-passwords）")

    def _progress(self, done: int, total: int) -> None:
        if done % 100 == 0 and done < total:
            self.stdout.write(f"  已处理账号 {done}/{total} …")
