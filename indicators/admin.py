"""Read-only admin list of re-evaluation jobs (written only by indicators.actions): state, counts, failure."""

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin

from .models import ReevaluationJob


@admin.register(ReevaluationJob)
class ReevaluationJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "task", "state", "total", "evaluated", "changed", "created_at", "finished_at", "error")
    list_filter = ("state",)
    list_select_related = ("task",)
