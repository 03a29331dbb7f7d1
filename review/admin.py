"""Read-only admin views of the workflow records (they are written only by review.actions / workflow)."""

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin as ReadOnly
from reporting.models import Transition

from .models import FieldComment, Notification


@admin.register(Transition)
class TransitionAdmin(ReadOnly):
    list_display = ("at", "submission", "action", "from_status", "to_status", "actor", "reason")
    list_filter = ("action", "to_status")
    search_fields = ("submission__unit__code", "submission__unit__name", "reason")
    list_select_related = ("submission__unit", "actor")


@admin.register(FieldComment)
class FieldCommentAdmin(ReadOnly):
    list_display = ("created_at", "submission", "field_code", "member_key", "author", "resolved")
    list_filter = ("resolved",)
    list_select_related = ("submission__unit", "author")


@admin.register(Notification)
class NotificationAdmin(ReadOnly):
    list_display = ("created_at", "recipient", "verb", "text", "read_at")
    list_filter = ("verb",)
    list_select_related = ("recipient",)
