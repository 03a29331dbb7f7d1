from __future__ import annotations

from django.contrib import admin

from .models import FileLimit, StoredFile


@admin.register(FileLimit)
class FileLimitAdmin(admin.ModelAdmin):
    list_display = ("__str__", "unit", "max_file_bytes", "max_unit_bytes")
    raw_id_fields = ("unit",)


@admin.register(StoredFile)
class StoredFileAdmin(admin.ModelAdmin):
    list_display = ("original_name", "unit", "purpose", "kind", "size", "uploaded_by", "created_at")
    list_filter = ("purpose", "kind")
    search_fields = ("original_name", "sha256", "unit__code", "unit__name")
    raw_id_fields = ("unit", "uploaded_by")
    readonly_fields = ("key", "size", "sha256", "kind", "created_at")
    list_select_related = ("unit", "uploaded_by")

    def has_add_permission(self, request) -> bool:  # uploads go through files.actions.file_store only
        return False
