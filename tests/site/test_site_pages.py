"""Pages every user meets: Chinese error pages with the site's navigation (DEBUG off), the API documentation from
the project's own static files, 个人信息 / 修改密码 in the navigation, earlier tasks read-only, and templates
without inline scripts or style attributes (a Content-Security-Policy without 'unsafe-inline')."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reporting import actions
from reporting.models import Submission

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


@pytest.fixture
def debug_off(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]


def test_it_shows_a_chinese_404_page_with_the_navigation(cast, debug_off):
    client = Client()
    client.force_login(cast.jinan_urban)
    other = cast.submission("3702001", "t3")  # another city's alliance: out of scope
    response = client.get(reverse("submission_entry", args=[other.pk]))
    html = response.content.decode()
    assert response.status_code == 404
    assert "404 页面不存在" in html and "Not Found" not in html
    assert 'id="nav-password"' in html and "首页" in html  # the site's navigation
    assert client.get("/no/such/page/").status_code == 404


def test_it_shows_a_chinese_403_page_with_the_reason(cast, debug_off):
    client = Client()
    client.force_login(cast.jinan_urban)
    response = client.get(reverse("review:queue"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "403 无权访问" in html and "只有审核、分析和管理用户可以查看该页面" in html
    assert "修改密码" in html and "Forbidden" not in html


def test_it_shows_a_chinese_500_page_when_a_view_fails(cast, debug_off, monkeypatch):
    from reporting import views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "current_task", broken)
    client = Client(raise_request_exception=False)
    client.force_login(cast.jinan_urban)
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "500 系统错误" in html and "修改密码" in html and "Server Error" not in html


def test_it_serves_swagger_and_redoc_from_its_own_static_files(cast):
    client = Client()
    client.force_login(cast.jinan_reviewer)
    for name in ("api-docs", "api-redoc"):
        html = client.get(reverse(name)).content.decode()
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources and all(s.startswith("/") for s in sources), sources  # nothing from another host
        assert "<script>" not in html and "style=" not in html
    html = client.get(reverse("api-docs")).content.decode()
    assert "swagger-ui-bundle.js" in html and f'data-schema-url="{reverse("api-schema")}"' in html
    static = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert static.status_code == 200


def test_it_links_profile_and_password_change_in_the_navigation(cast):
    client = Client()
    client.force_login(cast.jinan_urban)
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("profile")}"' in home and ">个人信息<" in home
    assert f'href="{reverse("password_change")}"' in home and ">修改密码<" in home
    profile = client.get(reverse("profile")).content.decode()
    assert 'id="profile-username">3701001<' in profile and cast.jinan_urban.unit.name in profile


def test_it_lets_a_filler_open_an_earlier_task_read_only(cast):
    now = timezone.now()
    old = actions.task_create(
        acting_user=None, code="t2018", name="2018年分级诊疗第三方评估",
        period_start=now.date().replace(year=2018, month=1, day=1),
        period_end=now.date().replace(year=2018, month=6, day=30),
        window_open=now - timezone.timedelta(days=400), window_close=now - timezone.timedelta(days=300),
        catalog_slug=settings.FJZL_DEFAULT_CATALOG,
    )
    actions.submissions_ensure(acting_user=None, task=old)
    client = Client()
    client.force_login(cast.jinan_urban)
    html = client.get(reverse("task_history")).content.decode()
    assert "2018年分级诊疗第三方评估" in html and "2019年分级诊疗第三方评估" in html
    assert html.index("2019年") < html.index("2018年")  # newest first
    earlier = Submission.objects.get(task=old, unit=cast.jinan_urban.unit, form_code="t3")
    assert f'href="{reverse("submission_entry", args=[earlier.pk])}">查看（只读）' in html
    page = client.get(reverse("submission_entry", args=[earlier.pk])).content.decode()
    assert 'id="readonly-reason"' in page and "已于" in page
    other = Client()
    other.force_login(cast.jinan_urban2)
    assert other.get(reverse("submission_entry", args=[earlier.pk])).status_code == 404
    assert f'href="{reverse("submission_entry", args=[earlier.pk])}"' not in other.get(
        reverse("task_history")).content.decode()


def test_it_has_no_inline_script_or_style_attribute_in_any_template():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", r"\sstyle=", r"\son[a-z]+=\""):
            if re.search(pattern, text):
                offenders.append(f"{path.relative_to(TEMPLATES)}: {pattern}")
    assert offenders == []
