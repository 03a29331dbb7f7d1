"""The restore drill: backup → restore into a fresh database → every table's row count and content hash equal,
the media files byte for byte; a damaged backup is refused before anything is overwritten."""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.backup import MANIFEST, table_fingerprints
from exports.actions import export_request
from reporting.actions import submission_save

DRILL_DB = "prod_restore_drill"


def _admin_connection():
    params = connection.get_connection_params()
    params["dbname"] = "postgres"
    conn = psycopg2.connect(**params)
    conn.autocommit = True
    return conn


@pytest.fixture
def drill_db():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL restore drill")
    admin = _admin_connection()
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{DRILL_DB}"')
        cursor.execute(f'CREATE DATABASE "{DRILL_DB}"')
    yield DRILL_DB
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{DRILL_DB}" WITH (FORCE)')
    admin.close()


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.endswith(".part")}


@pytest.mark.django_db(transaction=True)
def test_it_restores_a_backup_into_a_fresh_database_with_equal_tables_and_files(cast, drill_db, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    sub = cast.submission(cast.jinan_urban, "t3")
    submission_save(acting_user=cast.jinan_urban, submission_id=sub.pk,
                    changes=[{"field": "hospital_name", "value": "济南市中心医院"},
                             {"field": "total_surgeries", "value": 120}])
    job = export_request(acting_user=cast.analyst, task=cast.task, kind="task", inline=True)
    assert job.state == "done"
    source = table_fingerprints()
    source_files = _files(Path(settings.MEDIA_ROOT))
    assert source_files

    call_command("backup", out=tmp_path / "backups")
    folder = next((tmp_path / "backups").iterdir())
    assert (folder / MANIFEST).exists()
    restored_media = tmp_path / "restored-media"
    call_command("restore", folder, database=drill_db, media_root=restored_media, yes=True)

    restored = table_fingerprints(drill_db)
    assert restored == source
    assert sum(t["rows"] for t in restored.values()) > 100
    assert _files(restored_media) == source_files


@pytest.mark.django_db(transaction=True)
def test_it_refuses_a_damaged_backup_before_touching_the_database(cast, drill_db, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("backup", out=tmp_path / "backups")
    folder = next((tmp_path / "backups").iterdir())
    dump = folder / "database.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    with pytest.raises(CommandError, match="校验和不符"):
        call_command("restore", folder, database=drill_db, yes=True)
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", folder, database=drill_db)
