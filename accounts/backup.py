"""Backups that restore: the database (pg_dump custom format on PostgreSQL, a consistent SQLite copy for the
embedded default) plus the media files, with a manifest of SHA-256 checksums, row counts and content hashes
per table (used by `restore --verify` and the restore drill test)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django.utils import timezone

MANIFEST = "manifest.json"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is for the operator."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_env(db: dict) -> dict[str, str]:
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _pg_args(db: dict) -> list[str]:
    args = []
    if db.get("HOST"):
        args += ["-h", str(db["HOST"])]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", str(db["USER"])]
    return args


def pg_url(db: dict, name: str | None = None) -> str:
    user = quote(str(db.get("USER") or ""))
    password = f":{quote(str(db['PASSWORD']))}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgresql://{auth}{db.get('HOST') or 'localhost'}{port}/{quote(name or db['NAME'])}"


def _pg_fingerprints(cursor) -> dict[str, dict]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    out: dict[str, dict] = {}
    for (table,) in cursor.fetchall():
        quoted = '"' + table.replace('"', '""') + '"'
        cursor.execute(f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                       f"FROM {quoted} t")
        count, digest = cursor.fetchone()
        out[table] = {"rows": count, "md5": digest}
    return out


def table_fingerprints(database: str | None = None) -> dict[str, dict]:
    """Per table: row count and an MD5 over the rows' text in a stable order, of the configured database or of
    another PostgreSQL database on the same server."""
    if connection.vendor == "postgresql":
        if database is None:
            with connection.cursor() as cursor:
                return _pg_fingerprints(cursor)
        import psycopg2

        params = {**connection.get_connection_params(), "dbname": database}
        conn = psycopg2.connect(**params)
        try:
            with conn.cursor() as cursor:
                return _pg_fingerprints(cursor)
        finally:
            conn.close()
    out: dict[str, dict] = {}
    conn = sqlite3.connect(database) if database else None
    try:
        cursor = conn.cursor() if conn else connection.cursor()
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT * FROM "{table}"')
            rows = sorted(repr(tuple(r)) for r in cursor.fetchall())
            out[table] = {"rows": len(rows), "md5": hashlib.md5("|".join(rows).encode()).hexdigest()}
    finally:
        if conn:
            conn.close()
    return out


@dataclass
class BackupResult:
    folder: Path
    manifest: dict


def backup(out_dir: Path | None = None) -> BackupResult:
    root = Path(out_dir or getattr(settings, "FJZL_BACKUP_DIR", settings.BASE_DIR / "var" / "backups"))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    folder = root / f"fjzl-{stamp}"
    n = 1
    while folder.exists():
        n += 1
        folder = root / f"fjzl-{stamp}-{n}"
    folder.mkdir(parents=True)
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        dump = folder / "database.dump"
        proc = subprocess.run(["pg_dump", "-Fc", "--no-owner", "--no-privileges", "-f", str(dump), *_pg_args(db),
                               str(db["NAME"])], env=_pg_env(db), capture_output=True, text=True)
        if proc.returncode != 0:
            raise BackupError(f"pg_dump 失败：{proc.stderr.strip()[:500]}")
        engine = "postgresql"
    elif connection.vendor == "sqlite":
        dump = folder / "database.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(dump)
        with target:
            connection.connection.backup(target)  # consistent online copy
        target.close()
        engine = "sqlite"
    else:
        raise BackupError(f"不支持的数据库：{connection.vendor}")
    fingerprints = table_fingerprints()
    media_root = Path(settings.MEDIA_ROOT)
    media = folder / "media.tar.gz"
    files = 0
    with tarfile.open(media, "w:gz") as tar:
        if media_root.exists():
            for path in sorted(media_root.rglob("*")):
                if path.is_file() and not path.name.endswith(".part"):
                    tar.add(path, arcname=str(path.relative_to(media_root)))
                    files += 1
    manifest = {
        "format": FORMAT, "created_at": timezone.now().isoformat(), "engine": engine,
        "database": {"file": dump.name, "sha256": sha256(dump), "bytes": dump.stat().st_size},
        "media": {"file": media.name, "sha256": sha256(media), "bytes": media.stat().st_size, "files": files},
        "tables": fingerprints,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return BackupResult(folder=folder, manifest=manifest)


def verify(folder: Path) -> dict:
    """The manifest, after checking every file against its checksum (BackupError when one differs)."""
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise BackupError(f"{folder} 中没有 {MANIFEST}，不是本平台的备份。")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for part in ("database", "media"):
        file = Path(folder) / manifest[part]["file"]
        if not file.exists() or sha256(file) != manifest[part]["sha256"]:
            raise BackupError(f"备份文件 {file.name} 缺失或校验和不符，拒绝恢复。")
    return manifest


def restore(folder: Path, *, database_url_name: str | None = None, media_root: Path | None = None) -> dict:
    """Restore a verified backup into the configured database (or the PostgreSQL database named
    `database_url_name` on the same server) and media folder. The target database must exist."""
    folder = Path(folder)
    manifest = verify(folder)
    db = connection.settings_dict
    dump = folder / manifest["database"]["file"]
    if manifest["engine"] == "postgresql":
        if connection.vendor != "postgresql":
            raise BackupError("该备份来自 PostgreSQL，只能恢复到 PostgreSQL。")
        name = database_url_name or str(db["NAME"])
        proc = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                               "--exit-on-error", "--single-transaction", *_pg_args(db), "-d", name, str(dump)],
                              env=_pg_env(db), capture_output=True, text=True)
        if proc.returncode != 0:
            raise BackupError(f"pg_restore 失败：{proc.stderr.strip()[:500]}")
    else:
        target = Path(database_url_name or db["NAME"])
        connection.close()
        shutil.copyfile(dump, target)
    media_target = Path(media_root or settings.MEDIA_ROOT)
    media_target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / manifest["media"]["file"], "r:gz") as tar:
        tar.extractall(media_target, filter="data")  # no absolute paths, no "..", no devices
    return manifest
