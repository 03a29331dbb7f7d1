from django.contrib import admin

from .models import Batch, Item, OnsiteCheck


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ("name", "task", "scope_unit", "seed", "created_at")
    readonly_fields = [f.name for f in Batch._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # batches are created through sampling.actions.batch_create (pages or the sample command)


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("unit", "label", "state", "deadline", "raised_at")
    list_filter = ("state",)
    readonly_fields = [f.name for f in Item._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(OnsiteCheck)
class OnsiteCheckAdmin(admin.ModelAdmin):
    list_display = ("sample", "label", "reported", "verified", "inspector", "checked_on")
    readonly_fields = [f.name for f in OnsiteCheck._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
