"""Writes on accounts go through actions with audit rows: admin edits of units and users, password change,
API token issue; audit rows themselves cannot be changed or deleted in the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Role, UnitLevel
from tests.accounts.conftest import PASSWORD, api_token, web_login

pytestmark = pytest.mark.urls("tests.accounts.urls_api")
NEW_PASSWORD = "Vw7#kPz2-qRtx"


def test_it_audits_an_admin_edit_of_a_unit(tree, client):
    admin = tree.user("admin")
    client.force_login(admin)
    unit = tree.jinan
    response = client.post(reverse("admin:accounts_unit_change", args=[unit.pk]), {
        "code": unit.code, "name": "济南市（新名）", "level": unit.level, "parent": unit.parent_id,
        "org_code": unit.org_code, "is_tcm": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    unit.refresh_from_db()
    assert unit.name == "济南市（新名）"
    event = AuditEvent.objects.get(action="unit_update", object_id=str(unit.pk))
    assert event.actor == admin and event.data["changed"]["name"] == "济南市（新名）"


def test_it_audits_an_admin_edit_of_a_user(tree, client):
    admin = tree.user("admin")
    client.force_login(admin)
    target = tree.user("370100")
    page = client.get(reverse("admin:accounts_user_change", args=[target.pk]))
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update({"username": target.username, "role": Role.REVIEWER, "unit": target.unit_id,
                 "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00", "display_name": "新名字",
                 "is_active": "on"})
    data.pop("last_login", None)
    data.pop("groups", None)
    data.pop("user_permissions", None)
    data.pop("date_joined", None)
    response = client.post(reverse("admin:accounts_user_change", args=[target.pk]), data)
    assert response.status_code == 302, [str(e) for e in response.context["adminform"].form.errors.items()]
    target.refresh_from_db()
    assert target.role == Role.REVIEWER
    event = AuditEvent.objects.get(action="user_update", object_id=str(target.pk))
    assert event.actor == admin and event.data["changed"]["role"] == Role.REVIEWER


def test_it_keeps_audit_rows_read_only_in_the_admin(tree, client):
    client.force_login(tree.user("admin"))
    event = AuditEvent.objects.create(action="probe")
    page = client.get(reverse("admin:accounts_auditevent_changelist"))
    assert page.status_code == 200 and "delete_selected" not in page.content.decode()
    assert client.get(reverse("admin:accounts_auditevent_delete", args=[event.pk])).status_code == 403
    client.post(reverse("admin:accounts_auditevent_change", args=[event.pk]), {"action": "changed"})
    event.refresh_from_db()
    assert event.action == "probe"


def test_it_audits_a_password_change_and_a_token_issue(tree, client):
    user = tree.user("370100")
    web_login(client, "370100", PASSWORD)
    response = client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                                        "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="user_password_change", object_id=str(user.pk)).count() == 1
    assert client.get("/").status_code in (200, 302)  # still logged in after the change
    assert api_token(client.__class__(), "370100", NEW_PASSWORD).status_code == 200
    assert AuditEvent.objects.filter(action="token_issue", actor=user).count() == 1


def test_it_creates_units_through_the_admin_with_an_audit_row(tree, client):
    client.force_login(tree.user("admin"))
    response = client.post(reverse("admin:accounts_unit_add"), {
        "code": "3701009", "name": "济南市某医疗集团", "level": UnitLevel.URBAN_ALLIANCE, "parent": tree.jinan.pk,
        "org_code": "", "is_tcm": ""})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="unit_create", data__changed__code="3701009").exists()
