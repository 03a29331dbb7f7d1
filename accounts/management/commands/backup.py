"""python manage.py backup [--out DIR] [--json]: database + media files + manifest (checksums, per-table row counts
and content hashes) into DIR/fjzl-<timestamp>/ (default settings.FJZL_BACKUP_DIR)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.backup import BackupError, backup


class Command(BaseCommand):
    help = "备份数据库（PostgreSQL: pg_dump 自定义格式；SQLite: 文件副本）和上传/导出文件，附校验清单。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", type=Path, default=None, help="备份目录（默认 FJZL_BACKUP_DIR）")
        parser.add_argument("--json", action="store_true", help="输出清单 JSON")

    def handle(self, *args, out: Path | None = None, json: bool = False, **options) -> None:
        try:
            result = backup(out)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        if json:
            self.stdout.write(_dumps({"folder": str(result.folder), **result.manifest}))
        else:
            m = result.manifest
            self.stdout.write(f"备份完成：{result.folder}（数据库 {m['database']['bytes']} 字节，"
                              f"文件 {m['media']['files']} 个，数据表 {len(m['tables'])} 张）")


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)
