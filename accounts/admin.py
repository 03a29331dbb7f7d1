from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from . import actions
from .models import AuditEvent, Unit, User


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin list of records written only through the action layer: nobody adds, changes or deletes them here
    (no bulk delete either). Every app's read-only admin uses this one."""

    actions = None

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "is_tcm")
    list_filter = ("level", "is_tcm")
    search_fields = ("code", "name", "org_code", "parent__code", "parent__name")
    raw_id_fields = ("parent",)
    list_select_related = ("parent",)

    # Writes go through the actions (with their audit rows); a changed parent moves the whole subtree.
    def save_model(self, request: HttpRequest, obj: Unit, form, change: bool) -> None:
        if change and "parent" in form.changed_data and obj.parent_id:
            new_parent = obj.parent
            original = Unit.objects.get(pk=obj.pk)
            obj.parent, obj.path = original.parent, original.path
            actions.unit_save(acting_user=request.user, unit=obj,
                              changed=[f for f in form.changed_data if f != "parent"])
            try:
                actions.unit_move(acting_user=request.user, unit=obj, new_parent=new_parent)
            except actions.UnitMoveRefused as exc:
                messages.error(request, str(exc))
            obj.refresh_from_db()
            return
        actions.unit_save(acting_user=request.user, unit=obj, changed=list(form.changed_data))

    def has_delete_permission(self, request: HttpRequest, obj: Unit | None = None) -> bool:
        return False  # units carry submissions and history


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "unit", "role", "must_change_password", "is_active", "last_login")
    list_filter = ("role", "unit__level", "must_change_password", "is_active")
    search_fields = ("username", "display_name", "unit__code", "unit__name")
    raw_id_fields = ("unit",)
    list_select_related = ("unit",)
    fieldsets = BaseUserAdmin.fieldsets + (("平台", {"fields": ("unit", "role", "must_change_password", "display_name")}),)
    actions = ["reset_password", "deactivate"]

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return False  # deactivate instead: audit rows keep their actor

    @admin.action(description="停用所选用户（不删除，保留操作记录）", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset.order_by("username"):
            actions.user_deactivate(acting_user=request.user, user=user)
        messages.success(request, f"已停用 {queryset.count()} 个用户。")

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        actions.user_save(acting_user=request.user, user=obj, changed=list(form.changed_data))

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        actions.user_delete(acting_user=request.user, user=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            actions.user_delete(acting_user=request.user, user=user)

    @admin.action(description="重置密码并要求首次登录修改", permissions=["change"])
    def reset_password(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """New one-time password for each selected user, shown once in the messages (never stored in clear)."""
        for user in queryset.select_related("unit").order_by("username"):
            password = actions.user_password_reset(acting_user=request.user, user=user)
            messages.warning(request, f"{user.username}（{user.unit.name if user.unit else '无单位'}）的新初始密码："
                                      f"{password}　—— 只显示这一次，请立即转交本人；首次登录须修改密码。")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: audit rows are never added, changed or deleted by hand (no bulk delete either)."""

    list_display = ("at", "actor", "action", "unit", "object_type", "object_id")
    list_filter = ("action",)
    search_fields = ("action", "object_id", "unit__code", "actor__username")
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
