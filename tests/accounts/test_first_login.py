from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import actions
from accounts.actions import token_issue
from accounts.models import ApiToken, AuditEvent, Role, UnitLevel, User
from tests.accounts.conftest import PASSWORD, api_token, web_login

pytestmark = pytest.mark.urls("tests.accounts.urls_api")
NEW_PASSWORD = "Vw7#kPz2-qRtx"


@pytest.fixture
def newcomer(tree) -> User:
    unit = actions.unit_create(acting_user=None, code="3701001-2", name="济南市第五人民医院医疗集团",
                               level=UnitLevel.URBAN_ALLIANCE, parent=tree.jinan)
    return actions.user_create(acting_user=None, username="3701001-2", unit=unit, role=Role.FILLER,
                               password=PASSWORD, must_change_password=True)


def change_password(client, old: str, new: str, next_url: str = ""):
    data = {"old_password": old, "new_password1": new, "new_password2": new}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("password_change"), data)


def test_it_sends_a_first_login_straight_to_the_password_change_page(newcomer, client):
    response = web_login(client, "3701001-2", PASSWORD)
    assert response.status_code == 302
    page = client.get(response.url, follow=True)
    assert page.redirect_chain[-1][0].startswith(reverse("password_change"))
    assert "首次登录请先修改初始密码" in page.content.decode()


@pytest.mark.parametrize("path", ["/", "/review/queue/", "/exports/", "/admin/"])
def test_it_redirects_every_page_to_the_password_change_until_it_is_changed(newcomer, client, path):
    client.force_login(newcomer)
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith(reverse("password_change"))


def test_it_refuses_api_calls_with_the_session_before_the_change(newcomer, client):
    client.force_login(newcomer)
    response = client.get("/api/test/whoami/")
    assert response.status_code == 403
    assert "修改" in response.json()["detail"]


def test_it_issues_no_api_token_before_the_change(newcomer, client):
    response = api_token(client, "3701001-2", PASSWORD)
    assert response.status_code == 403
    assert "首次登录" in response.json()["detail"]
    assert not ApiToken.objects.filter(user=newcomer).exists()


def test_it_refuses_an_existing_token_of_an_account_that_must_change_its_password(newcomer, client):
    _, key = token_issue(acting_user=newcomer)
    response = client.get("/api/test/whoami/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 403
    assert "首次登录" in response.json()["detail"]


def test_it_lets_the_user_proceed_after_changing_the_password(newcomer, client):
    web_login(client, "3701001-2", PASSWORD)
    response = change_password(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    newcomer.refresh_from_db()
    assert not newcomer.must_change_password
    assert newcomer.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="user_password_change", object_id=str(newcomer.pk)).exists()


def test_it_returns_to_the_page_first_asked_for_after_the_change(newcomer, client):
    client.force_login(newcomer)
    redirect = client.get("/exports/")
    page = client.get(redirect.url)
    assert 'name="next" value="/exports/"' in page.content.decode()
    response = change_password(client, PASSWORD, NEW_PASSWORD, next_url="/exports/")
    assert response.url == "/exports/"


def test_it_ignores_a_next_pointing_to_another_site(newcomer, client):
    client.force_login(newcomer)
    response = change_password(client, PASSWORD, NEW_PASSWORD, next_url="https://evil.example/")
    assert response.url == reverse("password_change_done")


def test_it_gives_api_access_after_the_change(newcomer, client):
    web_login(client, "3701001-2", PASSWORD)
    change_password(client, PASSWORD, NEW_PASSWORD)
    api = client.__class__()
    token = api_token(api, "3701001-2", NEW_PASSWORD).json()["token"]
    response = api.get("/api/test/whoami/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert response.json() == {"username": "3701001-2"}


def test_it_refuses_a_new_password_built_from_the_unit_code(newcomer, client):
    web_login(client, "3701001-2", PASSWORD)
    response = change_password(client, PASSWORD, "Fjzl@370100abc")
    assert response.status_code == 200
    assert "单位编码" in response.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.must_change_password
    assert client.get("/").status_code == 302


def test_it_does_not_bother_users_who_already_changed_their_password(tree, client):
    response = web_login(client, "370100", PASSWORD)
    assert response.status_code == 302
    assert client.get("/").status_code == 200
