from __future__ import annotations

from django.conf import settings

from tests.accounts.conftest import PASSWORD, api_token, web_login

IP1, IP2 = "10.1.1.1", "10.2.2.2"


def _fail(client, username: str, times: int, ip: str = IP1, via=web_login):
    for _ in range(times):
        response = via(client, username, "wrong-password", ip=ip)
        assert response.status_code != 302


def test_it_locks_the_username_and_address_pair_after_five_failures(tree, client):
    assert settings.AXES_FAILURE_LIMIT == 5
    _fail(client, "370100", 4)
    assert web_login(client, "370100", PASSWORD, ip=IP1).status_code == 302  # 4 failures: still fine
    client.logout()
    _fail(client, "370100", 5)
    response = web_login(client, "370100", PASSWORD, ip=IP1)
    assert response.status_code in (403, 429)
    assert "锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_shows_the_lockout_page_in_chinese_on_the_fifth_failure(tree, client):
    _fail(client, "370100", 4)
    response = web_login(client, "370100", "wrong-password", ip=IP1)
    assert response.status_code in (403, 429)
    assert "登录失败次数过多" in response.content.decode()


def test_it_still_lets_the_same_user_in_from_another_address(tree, client):
    _fail(client, "370100", 5)
    response = web_login(client, "370100", PASSWORD, ip=IP2)
    assert response.status_code == 302
    assert client.get("/", REMOTE_ADDR=IP2).status_code == 200


def test_it_still_lets_another_user_in_from_the_same_address(tree, client):
    _fail(client, "370100", 5)
    response = web_login(client, "3701001", PASSWORD, ip=IP1)
    assert response.status_code == 302
    assert client.get("/", REMOTE_ADDR=IP1).status_code == 200


def test_it_shows_a_plain_error_before_the_limit(tree, client):
    response = web_login(client, "370100", "wrong-password", ip=IP1)
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()


def test_it_locks_the_api_token_endpoint_after_five_failures(tree, client):
    for _ in range(4):
        assert api_token(client, "370100", "wrong-password", ip=IP1).status_code == 400
    assert api_token(client, "370100", "wrong-password", ip=IP1).status_code == 403  # the fifth locks
    response = api_token(client, "370100", PASSWORD, ip=IP1)
    assert response.status_code == 403
    assert "锁定" in response.json()["detail"]
    assert "token" not in response.json()


def test_it_still_issues_api_tokens_to_the_same_user_elsewhere_and_to_others(tree, client):
    for _ in range(5):
        api_token(client, "370100", "wrong-password", ip=IP1)
    assert "token" in api_token(client, "370100", PASSWORD, ip=IP2).json()
    assert "token" in api_token(client, "3701001", PASSWORD, ip=IP1).json()


def test_it_counts_api_and_login_page_failures_together(tree, client):
    _fail(client, "370100", 3, via=web_login)
    _fail(client, "370100", 2, via=api_token)
    assert web_login(client, "370100", PASSWORD, ip=IP1).status_code in (403, 429)
    assert api_token(client, "370100", PASSWORD, ip=IP1).status_code == 403


def test_it_answers_wrong_api_credentials_in_chinese(tree, client):
    response = api_token(client, "370100", "wrong-password")
    assert response.status_code == 400
    assert response.json()["detail"] == "用户名或密码错误。"


def test_it_forgets_earlier_failures_after_a_successful_login(tree, client):
    _fail(client, "370100", 4)
    assert web_login(client, "370100", PASSWORD, ip=IP1).status_code == 302
    client.logout()
    _fail(client, "370100", 4)
    assert web_login(client, "370100", PASSWORD, ip=IP1).status_code == 302
