"""Read-only admin list of re-evaluation jobs (written only by indicators.actions): state, counts, failure."""

from django.contrib import admin

from .models import ReevaluationJob


@admin.register(ReevaluationJob)
class ReevaluationJobAdmin(admin.ModelAdmin):
    list_display = ("id", "task", "state", "total", "evaluated", "changed", "created_at", "finished_at", "error")
    list_filter = ("state",)
    list_select_related = ("task",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
