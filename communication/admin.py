from django.contrib import admin

from .models import Delivery, FaqEntry, Notice, Question


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "channel", "event", "state", "attempts", "created_at", "sent_at")
    list_filter = ("state", "channel", "category")
    search_fields = ("address", "subject", "key")
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "publisher_unit", "pinned", "published_at", "withdrawn_at")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("title", "category", "unit", "responsible_unit", "status", "created_at")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    list_display = ("question_text", "form_code", "field_code", "active")

    def has_change_permission(self, request, obj=None):
        return False
