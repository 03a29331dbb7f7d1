"""Audit rows are immutable, users are deactivated instead of deleted, and moving a unit moves its subtree."""

from __future__ import annotations

import pytest
from django.db.models import ProtectedError
from django.urls import reverse

from accounts import actions
from accounts.models import AuditEvent, Unit, User
from accounts.scoping import visible_units
from reporting.selectors import submissions_for

pytestmark = pytest.mark.django_db


def test_it_never_deletes_or_edits_audit_rows_in_the_admin(cast, client):
    client.force_login(cast.admin)
    event = AuditEvent.objects.first()
    changelist = reverse("admin:accounts_auditevent_changelist")
    response = client.post(changelist, {"action": "delete_selected", "_selected_action": [event.pk]})
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert client.get(reverse("admin:accounts_auditevent_delete", args=[event.pk])).status_code in (403, 302)
    assert client.post(reverse("admin:accounts_auditevent_change", args=[event.pk]),
                       {"action": "forged"}).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == event.action
    assert response.status_code in (200, 302)


def test_it_keeps_the_actor_of_audit_rows_by_refusing_to_delete_users(cast, client):
    actions.token_issue(acting_user=cast.jinan_urban)  # any action leaves an audit row naming the user
    with pytest.raises(ProtectedError):
        cast.jinan_urban.delete()
    client.force_login(cast.admin)
    assert client.get(reverse("admin:accounts_user_delete", args=[cast.jinan_urban.pk])).status_code in (403, 302)
    response = client.post(reverse("admin:accounts_user_changelist"),
                           {"action": "deactivate", "_selected_action": [cast.jinan_urban.pk]})
    assert response.status_code == 302
    user = User.objects.get(pk=cast.jinan_urban.pk)
    assert not user.is_active
    assert AuditEvent.objects.filter(action="user_deactivate", object_id=str(user.pk)).exists()


def test_it_moves_a_units_subtree_in_one_action_and_scoping_follows(cast):
    qingdao = cast.unit("370200")
    sichuan = cast.unit("510000")
    alliance = cast.unit("3702001")
    assert alliance in visible_units(cast.sd_reviewer)
    actions.unit_move(acting_user=cast.admin, unit=qingdao, new_parent=sichuan)
    for unit in Unit.objects.filter(code__in=["370200", "3702001", "3702002"]):
        assert unit.path.startswith("/100000/510000/370200/")
    assert not submissions_for(cast.sd_reviewer).filter(unit__code="3702001").exists()
    assert submissions_for(cast.sc_reviewer).filter(unit__code="3702001").exists()
    event = AuditEvent.objects.get(action="unit_move")
    assert event.data["old_parent"] == "370000" and event.data["new_parent"] == "510000"


def test_it_moves_the_subtree_when_the_admin_changes_a_parent(cast, client):
    client.force_login(cast.admin)
    qingdao = cast.unit("370200")
    url = reverse("admin:accounts_unit_change", args=[qingdao.pk])
    response = client.post(url, {"code": qingdao.code, "name": qingdao.name, "level": qingdao.level,
                                 "parent": cast.unit("510000").pk, "org_code": "", "sort_key": qingdao.sort_key})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Unit.objects.get(code="3702001").path == "/100000/510000/370200/3702001/"


def test_it_refuses_to_move_a_unit_below_itself(cast):
    with pytest.raises(actions.UnitMoveRefused):
        actions.unit_move(acting_user=cast.admin, unit=cast.unit("370000"), new_parent=cast.unit("370100"))


def test_it_audits_explanation_edits_and_member_renames_old_to_new(cast):
    from reporting.actions import members_add, submission_save
    from reporting.models import ValueChange

    sub = cast.submission(cast.jinan_urban, "t3")
    submission_save(acting_user=cast.jinan_urban, submission_id=sub.pk, changes=[],
                    explanations={"t3.c01": "床位调整"}, base_revision=0)
    submission_save(acting_user=cast.jinan_urban, submission_id=sub.pk, changes=[],
                    explanations={"t3.c01": "床位调整，数据属实"}, base_revision=1)
    saves = AuditEvent.objects.filter(action="submission_save", object_id=str(sub.pk)).order_by("id")
    assert [e.data["explanations"] for e in saves] == [{"t3.c01": [None, "床位调整"]},
                                                       {"t3.c01": ["床位调整", "床位调整，数据属实"]}]
    members_add(acting_user=cast.jinan_urban, submission_id=sub.pk, keys=["m1"])
    for name in ("济南市第二人民医院", "济南市第三人民医院"):
        submission_save(acting_user=cast.jinan_urban, submission_id=sub.pk,
                        changes=[{"field": "hospital_name", "member": "m1", "value": name}])
    renames = list(ValueChange.objects.filter(submission=sub, member_key="m1", field_code="hospital_name")
                   .order_by("id").values_list("old", "new"))
    assert renames == [(None, "济南市第二人民医院"), ("济南市第二人民医院", "济南市第三人民医院")]
