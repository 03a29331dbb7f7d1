from __future__ import annotations

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin

from .models import TaskReport


@admin.register(TaskReport)
class TaskReportAdmin(ReadOnlyAdmin):
    """Read-only here: plans are changed with `manage.py report_plan` (through the action layer)."""

    list_display = ("task", "unit_level", "framework", "required_for_submit")
    list_filter = ("unit_level", "required_for_submit")
