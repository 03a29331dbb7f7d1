"""The shipped production configuration is safe as shipped (docker cannot run here: the settings are run as the
compose file sets them, and the compose file is parsed and inspected)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def _production_env(**overrides: str) -> dict[str, str]:
    """The environment docker-compose.yml gives the web service (with the values an operator must supply)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FJZL_"))}
    app = _compose()["services"]["web"]["environment"]
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "fjzl.example.org",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://fjzl.example.org",
        "FJZL_TRUSTED_PROXIES": app["FJZL_TRUSTED_PROXIES"],
        "FJZL_CLIENT_IP_HEADER": app["FJZL_CLIENT_IP_HEADER"],
    })
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_it_passes_check_deploy_with_the_shipped_production_settings():
    proc = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout


@pytest.mark.parametrize("key", [None, "", "change-me-in-production", "dev-only-insecure-key-change-me-in-production",
                                 "short-key"])
def test_it_refuses_to_start_without_a_real_secret_key_when_debug_is_off(key):
    env = _production_env()
    env.pop("DJANGO_SECRET_KEY")
    if key is not None:
        env["DJANGO_SECRET_KEY"] = key
    proc = _manage("check", env=env)
    assert proc.returncode != 0
    assert "DJANGO_SECRET_KEY" in proc.stderr


def test_it_keeps_debug_off_unless_asked_for():
    code = "from django.conf import settings; print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, " \
           "settings.CSRF_COOKIE_SECURE, settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS > 0)"
    env = _production_env()
    proc = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == ["False", "True", "True", "True", "True"], proc.stderr


def test_it_never_seeds_demo_data_in_the_shipped_stack():
    compose = _compose()
    services = compose["services"]
    for name, service in services.items():
        command = str(service.get("command", ""))
        if "seed_demo" in command:
            assert service.get("profiles") == ["demo"], f"{name} seeds demo data outside the demo profile"
    assert "demo" in services
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "seed_demo" not in dockerfile.split("# Migrations")[0]
    assert "seed_demo" not in dockerfile.splitlines()[-1]


def test_it_publishes_only_the_tls_proxy_and_never_a_default_secret():
    services = _compose()["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    assert "443:443" in services["proxy"]["ports"]
    secret = services["web"]["environment"]["DJANGO_SECRET_KEY"]
    assert secret.startswith("${DJANGO_SECRET_KEY:?"), secret  # compose refuses to start without one
    assert "DJANGO_DEBUG" not in services["web"]["environment"]
    nginx = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert "listen 443 ssl" in nginx and "return 301 https://" in nginx
    assert "client_max_body_size" in nginx
    assert "proxy_set_header X-Real-IP $remote_addr" in nginx


def test_it_sends_hsts_csp_and_secure_cookies_in_production(client, settings, cast):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = True
    response = client.get("/accounts/login/")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    response = client.get("/accounts/login/", secure=True)
    assert response.status_code == 200
    assert "max-age=31536000" in response["Strict-Transport-Security"]
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    client.post("/accounts/login/", {"username": cast.jinan_urban.username, "password": "Cast#pass-2019"},
                secure=True)
    assert client.cookies["sessionid"]["secure"]


def test_it_ignores_forwarded_headers_from_anyone_but_the_proxy(client, settings):
    from django.test import RequestFactory

    from accounts.security import client_ip

    settings.FJZL_TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.FJZL_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    # A client claiming HTTPS directly is still redirected; the proxy's claim is believed.
    spoofed = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="203.0.113.9")
    assert spoofed.status_code == 301
    proxied = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="10.1.2.3")
    assert proxied.status_code == 200
    rf = RequestFactory()
    assert client_ip(rf.get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_REAL_IP="1.2.3.4")) == "203.0.113.9"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.1.2.3", HTTP_X_REAL_IP="1.2.3.4")) == "1.2.3.4"


def test_it_generates_the_api_schema(cast, client):
    client.force_login(cast.analyst)
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/submissions/" in response.content
