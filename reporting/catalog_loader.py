"""The catalog loader: reads catalog folders (reporting/catalogs/<slug>/*.json, the catalog itself) into\nimmutable FormVersion rows, points tasks at them, and answers which definitions a task uses.\n\nThe compiler (JSON definition -> engine objects) is `engine.compiler`; the page layout is `reporting.entry_layout`.\n"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from engine import Catalog, load_catalog_dir
from engine.compiler import canonical_json

from .models import Task, TaskForm

CATALOG_ROOT = Path(__file__).resolve().parent / "catalogs"


def content_hash(definition: dict) -> str:
    return hashlib.sha256(canonical_json(definition).encode("utf-8")).hexdigest()


def read_catalog(slug: str, root: Path | None = None) -> tuple[dict, list[dict]]:
    """Return (manifest, form definitions) of a catalog folder, in manifest order."""
    folder = (root or CATALOG_ROOT) / slug
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    forms = [json.loads((folder / name).read_text(encoding="utf-8")) for name in manifest["forms"]]
    return manifest, forms


@lru_cache(maxsize=8)
def folder_catalog(slug: str | None = None) -> Catalog:
    """The compiled catalog of a folder (no database): for commands, analysis and tests."""
    return load_catalog_dir(CATALOG_ROOT / (slug or settings.FJZL_DEFAULT_CATALOG))


def available_catalogs(root: Path | None = None) -> list[str]:
    base = root or CATALOG_ROOT
    return sorted(p.name for p in base.iterdir() if (p / "manifest.json").exists())


def task_definitions(task: Task) -> dict[str, dict]:
    """form code -> definition dict, for the versions the task currently uses."""
    return {tf.form_code: tf.version.definition for tf in task.task_forms.select_related("version")}


def member_definition(submission) -> dict | None:
    """The member sub-form (t3m/t4m) definition the task currently uses for this lead form, or None.

    Kept on the submission instance: one page or action asks for it from several places (panel, comments,
    gate) and a task's versions do not change under one request."""
    cached = submission.__dict__.get("_member_definition")
    if cached is not None:
        return cached[0]
    code = submission.form_version.definition.get("subform")
    definition = None
    if code:
        tf = TaskForm.objects.filter(task_id=submission.task_id, form_code=code).select_related("version").first()
        definition = tf.version.definition if tf else None
    submission.__dict__["_member_definition"] = (definition,)
    return definition
