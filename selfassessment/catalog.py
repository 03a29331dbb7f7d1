"""Framework definitions (selfassessment/frameworks/<code>.json) as immutable, content-hashed rows, and which
framework each filling level writes for a task (frameworks/plans.json per catalog, overridable per task)."""

from __future__ import annotations

import json
from pathlib import Path

from reporting.catalog_loader import content_hash

from .models import ReportFramework

FRAMEWORK_ROOT = Path(__file__).resolve().parent / "frameworks"


def read_framework(code: str, root: Path | None = None) -> dict:
    return json.loads(((root or FRAMEWORK_ROOT) / f"{code}.json").read_text(encoding="utf-8"))


def available_frameworks(root: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (root or FRAMEWORK_ROOT).glob("*.json") if p.stem != "plans")


def default_plans(catalog_slug: str, root: Path | None = None) -> list[dict]:
    """[{"levels": [...], "framework": code, "required_for_submit": bool}] for a catalog (empty if none)."""
    plans = json.loads(((root or FRAMEWORK_ROOT) / "plans.json").read_text(encoding="utf-8"))
    return list(plans.get(catalog_slug, []))


def framework_version_for(definition: dict) -> ReportFramework:
    """The ReportFramework row of this exact definition, created on first sight."""
    digest = content_hash(definition)
    version = ReportFramework.objects.filter(content_hash=digest).first()
    if version is None:
        version = ReportFramework.objects.create(code=definition["code"], title=definition["title"],
                                                 content_hash=digest, definition=definition)
    return version


def validate_framework(definition: dict) -> list[str]:
    """Problems of a framework definition (empty when it is usable)."""
    problems = []
    keys = set()
    for s in definition.get("sections", []):
        key = s.get("key", "")
        if not key or not key.replace("_", "").isalnum() or key in keys:
            problems.append(f"bad or repeated section key {key!r}")
        keys.add(key)
        if not s.get("heading"):
            problems.append(f"section {key} has no heading")
    if not any(s.get("writable") for s in definition.get("sections", [])):
        problems.append("no writable section")
    return problems
