"""python manage.py restore FOLDER [--database NAME] [--media-root DIR] [--verify-only] --yes

Checks every file of the backup against its manifest, then restores the database (pg_restore --clean into the
configured database, or into another existing PostgreSQL database on the same server with --database) and the
media files, and compares each table's row count and content hash with the manifest."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.backup import BackupError, restore, table_fingerprints, verify


class Command(BaseCommand):
    help = "从 backup 生成的备份恢复数据库和文件（先校验，后恢复，再逐表核对行数与内容哈希）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument("--database", default=None, help="恢复到同一服务器上另一个已存在的数据库（演练用）")
        parser.add_argument("--media-root", type=Path, default=None)
        parser.add_argument("--verify-only", action="store_true", help="只校验备份文件")
        parser.add_argument("--yes", action="store_true", help="确认覆盖目标数据库")

    def handle(self, *args, folder: Path, database: str | None, media_root: Path | None, verify_only: bool,
               yes: bool, **options) -> None:
        try:
            if verify_only:
                manifest = verify(folder)
                self.stdout.write(f"备份校验通过：{len(manifest['tables'])} 张数据表，{manifest['media']['files']} 个文件。")
                return
            if not yes:
                raise CommandError("恢复会覆盖目标数据库；确认请加 --yes。")
            manifest = restore(folder, database_url_name=database, media_root=media_root)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        differences = compare(manifest["tables"], database)
        if differences:
            raise CommandError("恢复后与备份清单不一致：" + "；".join(differences[:20]))
        self.stdout.write(f"恢复完成并核对一致：{len(manifest['tables'])} 张数据表。")


def compare(expected: dict, database: str | None) -> list[str]:
    """Tables whose row count or content hash differs from the manifest after the restore."""
    found = table_fingerprints(database)
    return [f"{table}: {want} ≠ {found.get(table)}" for table, want in expected.items() if found.get(table) != want]
