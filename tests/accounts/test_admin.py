from __future__ import annotations

import re

from django.urls import reverse

from accounts.models import AuditEvent, User
from tests.accounts.conftest import PASSWORD, web_login

ACTION = "reset_password"


def reset_via_admin(client, admin: User, *users: User):
    client.force_login(admin)
    return client.post(reverse("admin:accounts_user_changelist"),
                       {"action": ACTION, "_selected_action": [u.pk for u in users]}, follow=True)


def shown_passwords(response) -> dict[str, str]:
    text = " ".join(str(m) for m in response.context["messages"])
    return dict(re.findall(r"(\S+?)（[^）]*）的新初始密码：(\S+)", text))


def test_it_offers_the_reset_action_in_chinese(tree, client):
    client.force_login(tree.user("admin"))
    page = client.get(reverse("admin:accounts_user_changelist"))
    assert "重置密码并要求首次登录修改" in page.content.decode()


def test_it_resets_the_password_and_shows_it_once(tree, client):
    target = tree.user("3701001")
    response = reset_via_admin(client, tree.user("admin"), target)
    passwords = shown_passwords(response)
    assert set(passwords) == {"3701001"}
    target.refresh_from_db()
    assert target.check_password(passwords["3701001"])
    assert not target.check_password(PASSWORD)
    assert target.must_change_password
    # Shown once: the next page no longer carries it.
    assert passwords["3701001"] not in client.get(reverse("admin:accounts_user_changelist")).content.decode()


def test_it_makes_the_reset_user_change_the_password_at_next_login(tree, client):
    passwords = shown_passwords(reset_via_admin(client, tree.user("admin"), tree.user("370100")))
    client.logout()
    web_login(client, "370100", passwords["370100"])
    assert client.get("/").url.startswith(reverse("password_change"))


def test_it_lifts_a_lockout_when_the_password_is_reset(tree, client):
    for _ in range(5):
        web_login(client, "370100", "wrong-password")
    admin_client = client.__class__()
    passwords = shown_passwords(reset_via_admin(admin_client, tree.user("admin"), tree.user("370100")))
    assert web_login(client, "370100", passwords["370100"]).status_code == 302


def test_it_resets_several_users_and_audits_without_the_password(tree, client):
    users = [tree.user("370100"), tree.user("370100-sh")]
    passwords = shown_passwords(reset_via_admin(client, tree.user("admin"), *users))
    assert set(passwords) == {"370100", "370100-sh"}
    assert passwords["370100"] != passwords["370100-sh"]
    events = AuditEvent.objects.filter(action="user_password_reset")
    assert events.count() == 2
    assert all(e.actor == tree.user("admin") for e in events)
    assert not any(pw in str(e.data) for e in events for pw in passwords.values())


def test_it_lets_admins_find_users_by_unit_name(tree, client):
    client.force_login(tree.user("admin"))
    page = client.get(reverse("admin:accounts_user_changelist"), {"q": "平阴县"}).content.decode()
    assert "3701002" in page and "3702001" not in page
    units = client.get(reverse("admin:accounts_unit_changelist"), {"level__exact": "city"}).content.decode()
    assert 'field-level">市级' in units
    assert 'field-level">省级' not in units and 'field-level">城市医联体' not in units
