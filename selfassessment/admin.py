from __future__ import annotations

from django.contrib import admin

from .models import TaskReport


@admin.register(TaskReport)
class TaskReportAdmin(admin.ModelAdmin):
    """Read-only here: plans are changed with `manage.py report_plan` (through the action layer)."""

    list_display = ("task", "unit_level", "framework", "required_for_submit")
    list_filter = ("unit_level", "required_for_submit")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
