"""Loading catalog folders (reporting/catalogs/<slug>/) into immutable FormVersion rows."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django.db import transaction

from indicators.engine.catalog import canonical_json

from .models import FormVersion, Task, TaskForm

CATALOG_ROOT = Path(__file__).resolve().parent / "catalogs"


def content_hash(definition: dict) -> str:
    return hashlib.sha256(canonical_json(definition).encode("utf-8")).hexdigest()


def read_catalog(slug: str, root: Path | None = None) -> tuple[dict, list[dict]]:
    """Return (manifest, form definitions) of a catalog folder, in manifest order."""
    folder = (root or CATALOG_ROOT) / slug
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    forms = [json.loads((folder / name).read_text(encoding="utf-8")) for name in manifest["forms"]]
    return manifest, forms


def available_catalogs(root: Path | None = None) -> list[str]:
    base = root or CATALOG_ROOT
    return sorted(p.name for p in base.iterdir() if (p / "manifest.json").exists())


def form_version_for(definition: dict) -> FormVersion:
    """The FormVersion row of this exact definition, created on first sight."""
    digest = content_hash(definition)
    version = FormVersion.objects.filter(content_hash=digest).first()
    if version is None:
        version = FormVersion.objects.create(
            form_code=definition["code"], title=definition.get("title", definition["code"]),
            content_hash=digest, definition=definition,
        )
    return version


@transaction.atomic
def attach_catalog(task: Task, forms: list[dict]) -> list[str]:
    """Point the task at these definitions; returns the form codes whose version changed."""
    changed: list[str] = []
    for definition in forms:
        version = form_version_for(definition)
        tf, created = TaskForm.objects.get_or_create(task=task, form_code=definition["code"],
                                                     defaults={"version": version})
        if not created and tf.version_id != version.id:
            tf.version = version
            tf.save(update_fields=["version", "assigned_at"])
            changed.append(definition["code"])
        elif created:
            changed.append(definition["code"])
    return changed


def task_definitions(task: Task) -> dict[str, dict]:
    """form code -> definition dict, for the versions the task currently uses."""
    return {tf.form_code: tf.version.definition for tf in task.task_forms.select_related("version")}


def member_definition(submission) -> dict | None:
    """The member sub-form (t3m/t4m) definition the task currently uses for this lead form, or None."""
    code = submission.form_version.definition.get("subform")
    if not code:
        return None
    tf = TaskForm.objects.filter(task_id=submission.task_id, form_code=code).select_related("version").first()
    return tf.version.definition if tf else None
