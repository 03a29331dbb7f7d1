"""The progress-export leak is closed, read-only views refuse writes, and errors are Chinese without class names."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from exports.models import ExportJob

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
READ_ONLY_PAGES = ["home", "review:progress", "indicators:analysis", "exports:index", "tokens"]


def test_it_refuses_the_progress_export_to_a_province_filler(cast, client):
    client.force_login(cast.sd_filler)
    response = client.post(reverse("exports:start"), {"kind": "progress"}, **JSON)
    assert response.status_code == 403
    assert "无权" in response.json()["error"]
    page = client.post(reverse("exports:start"), {"kind": "progress"})
    assert page.status_code == 403
    assert not ExportJob.objects.filter(kind="progress").exists()


def test_it_still_exports_progress_for_a_province_reviewer(cast, client, django_capture_on_commit_callbacks):
    client.force_login(cast.sd_reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("exports:start"), {"kind": "progress"}, **JSON)
    assert response.status_code == 201
    assert ExportJob.objects.get(pk=response.json()["id"]).state == "done"


@pytest.mark.parametrize("forms", ["t1", "t1,t3", "zz", "", "\u4e2d"])
def test_it_takes_any_forms_parameter_without_a_server_error(cast, client, forms):
    client.force_login(cast.analyst)
    response = client.post(reverse("exports:start"), {"kind": "task", "p_forms": forms}, **JSON)
    assert response.status_code in (201, 400)


def test_it_never_shows_exception_class_names_of_a_failed_export(cast, client, monkeypatch):
    from exports import registry

    def broken(user, task, params):
        raise ValueError("unexpected internal state 0x1f")
        yield  # pragma: no cover

    registry.autodiscover()
    monkeypatch.setitem(registry._KINDS, "broken", registry.Kind(code="broken", builder=broken, label="坏的",
                                                                       count=lambda *a: 0))
    client.force_login(cast.analyst)
    job = client.post(reverse("exports:start"), {"kind": "broken"}, **JSON).json()
    assert job["state"] == "failed"
    assert "ValueError" not in job["error"] and "0x1f" not in job["error"]
    assert "导出失败" in job["error"]


@pytest.mark.parametrize("name", READ_ONLY_PAGES)
@pytest.mark.parametrize("method", ["put", "patch", "delete", "post"])
def test_it_answers_405_to_writes_on_read_only_pages(cast, client, name, method):
    client.force_login(cast.admin)
    response = getattr(client, method)(reverse(name))
    assert response.status_code == 405


def test_it_answers_405_to_put_on_every_page_even_those_that_take_posts(cast, client):
    client.force_login(cast.jinan_urban)
    submission = cast.submission(cast.jinan_urban, "t3")
    for url in (reverse("review:act", args=[submission.pk]), reverse("exports:start"), reverse("review:queue"),
                reverse("submission_save_api", args=[submission.pk])):
        assert client.put(url).status_code == 405
        assert client.delete(url).status_code == 405


def test_it_answers_unknown_api_paths_in_chinese_json(cast, client):
    client.force_login(cast.analyst)
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


def test_it_answers_an_unexpected_api_exception_with_chinese_json(cast, monkeypatch):
    from review.api import SubmissionViewSet

    def explode(self, request, *args, **kwargs):
        raise RuntimeError("KeyError: secret internals")

    monkeypatch.setattr(SubmissionViewSet, "list", explode)
    client = Client(raise_request_exception=False)
    client.force_login(cast.analyst)
    response = client.get("/api/submissions/")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "server_error" and "服务器" in body["detail"]
    assert "Error" not in response.content.decode()


def test_it_answers_an_unexpected_script_request_exception_with_chinese_json(cast, monkeypatch):
    from reporting import api

    def explode(*args, **kwargs):
        raise RuntimeError("internals")

    monkeypatch.setattr(api, "state_payload", explode)
    client = Client(raise_request_exception=False)
    client.force_login(cast.jinan_urban)
    submission = cast.submission(cast.jinan_urban, "t3")
    response = client.get(reverse("submission_state_api", args=[submission.pk]),
                          HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "RuntimeError" not in response.content.decode()
