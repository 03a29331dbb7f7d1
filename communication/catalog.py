"""Forms and fields a question can be tied to: those of the current task's catalog (form code + field code)."""

from __future__ import annotations

from django.conf import settings

from reporting.catalog_loader import read_catalog, task_definitions
from reporting.selectors import current_task


def definitions(task=None) -> dict[str, dict]:
    """form code -> definition: the task's (the current task by default), else the default catalog."""
    task = task or current_task()
    found = task_definitions(task) if task is not None else {}
    if not found:
        _, forms = read_catalog(settings.FJZL_DEFAULT_CATALOG)
        found = {f["code"]: f for f in forms}
    return found


def field_label(form_code: str, field_code: str | None, task=None) -> str | None:
    """The form's title (field_code None) or the field's label; None when either does not exist."""
    definition = definitions(task).get(form_code)
    if definition is None:
        return None
    if field_code is None:
        return definition.get("title", form_code)
    return next((f.get("label", f["code"]) for f in definition.get("fields", []) if f["code"] == field_code), None)


def choices(task=None) -> list[dict]:
    """[{code, title, fields: [{code, label}]}] for the question form."""
    return [{"code": code, "title": d.get("title", code),
             "fields": [{"code": f["code"], "label": f.get("label", f["code"])} for f in d.get("fields", [])]}
            for code, d in sorted(definitions(task).items())]
