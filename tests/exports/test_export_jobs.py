"""Background exports: request → Celery job → progress → download, scoped to the requester."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import AuditEvent
from exports import registry
from exports.actions import export_path, export_request
from exports.models import ExportJob
from tests.exports.conftest import has_formula, read_book, save

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def test_it_runs_a_requested_export_in_the_background_to_a_downloadable_file(cast, client, settings,
                                                                           django_capture_on_commit_callbacks):
    save(cast.jinan_urban, cast.submission(cast.jinan_urban, "t3"), {"open_bed_days": "321"})
    with django_capture_on_commit_callbacks(execute=True):
        job = export_request(acting_user=cast.jinan_reviewer, task=cast.task)
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE
    assert job.progress == job.total > 0
    path = export_path(job)
    assert path is not None and path.exists()
    assert path.parent == Path(settings.MEDIA_ROOT) / "exports"
    assert AuditEvent.objects.filter(action="export_request", object_id=str(job.pk), actor=cast.jinan_reviewer).exists()

    response = login(client, cast.jinan_reviewer).get(reverse("exports:download", args=[job.pk]))
    assert response.status_code == 200
    assert ".xlsx" in response["Content-Disposition"]
    book = read_book(b"".join(response.streaming_content))
    assert [r[0] for r in book["表2 市级"][2:]] == ["370100"]


def test_it_answers_404_for_someone_elses_export(cast, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = export_request(acting_user=cast.jinan_reviewer, task=cast.task)
    for other in (cast.qingdao_reviewer, cast.jinan_urban, cast.sd_reviewer):
        c = login(client, other)
        assert c.get(reverse("exports:download", args=[job.pk])).status_code == 404
        assert c.get(reverse("exports:status", args=[job.pk])).status_code == 404
        client.logout()


def test_it_shows_progress_as_json_for_the_progress_bar(cast, client):
    job = ExportJob.objects.create(kind="task", task=cast.task, requested_by=cast.analyst,
                                   state=ExportJob.State.RUNNING, progress=2500, total=10000)
    data = login(client, cast.analyst).get(reverse("exports:status", args=[job.pk])).json()
    assert data["state"] == "running" and data["state_label"] == "生成中"
    assert data["percent"] == 25 and data["progress"] == 2500 and data["total"] == 10000
    assert data["download_url"] == ""


def test_it_lists_my_exports_and_starts_a_small_one_right_away(cast, client, django_capture_on_commit_callbacks):
    ExportJob.objects.create(kind="task", task=cast.task, requested_by=cast.qingdao_reviewer)
    c = login(client, cast.jinan_reviewer)
    page = c.get(reverse("exports:index"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "数据导出" in html and "还没有导出记录" in html
    assert 'value="task"' in html and 'value="audit"' in html
    assert "submission_audit" not in html  # kinds that need params are started from their own pages
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(reverse("exports:start"), {"kind": "task"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    data = response.json()
    assert data["state"] == "done" and data["download_url"]  # under 300 rows: built during the request
    assert c.get(data["download_url"]).status_code == 200
    page = c.get(reverse("exports:index")).content.decode()
    assert data["status_url"] in page  # survives a reload: the job lives in the database
    assert page.count("data-job=") == 1  # not the other reviewer's job


def test_it_records_a_failed_export_on_the_job(cast, django_capture_on_commit_callbacks):
    def broken(user, task, params):
        raise RuntimeError("数据库连接中断")
        yield

    registry.register("broken", broken, label="坏的")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            job = export_request(acting_user=cast.analyst, task=cast.task, kind="broken")
    finally:
        registry._KINDS.pop("broken")
    job.refresh_from_db()
    assert job.state == ExportJob.State.FAILED
    assert "导出失败" in job.error and "RuntimeError" not in job.error  # never a class name or internals
    assert export_path(job) is None


def test_it_lets_another_app_plug_its_board_into_the_same_export_path(cast, client,
                                                                     django_capture_on_commit_callbacks):
    seen = {}

    def board(user, task, params):
        seen.update(user=user, params=params)
        rows = iter([["370100", "济南市", "=危险", 3, None], ["370200", "青岛市", "--", 0, True]])
        yield "填报进度", [["单位编码", "单位名称", "备注", "已上报", "逾期"]], rows

    registry.register("progress", board, label="进度明细")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            job = export_request(acting_user=cast.sd_reviewer, task=cast.task, kind="progress",
                                 params={"status": "submitted"})
    finally:
        registry._KINDS.pop("progress")
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE
    assert seen == {"user": cast.sd_reviewer, "params": {"status": "submitted"}}
    path = export_path(job)
    assert read_book(path)["填报进度"] == [["单位编码", "单位名称", "备注", "已上报", "逾期"],
                                          ["370100", "济南市", "=危险", 3, ""],
                                          ["370200", "青岛市", "--", 0, "是"]]
    assert not has_formula(path)


def test_it_exports_from_the_command_line(cast, tmp_path):
    save(cast.jinan_urban, cast.submission(cast.jinan_urban, "t3"), {"open_bed_days": "5"})
    out = tmp_path / "cli.xlsx"
    stdout = io.StringIO()
    call_command("export_xlsx", "--unit", "370100", "--out", str(out), stdout=stdout)
    assert "已导出" in stdout.getvalue()
    book = read_book(out)
    assert "表1 省级" not in book
    assert {r[0] for r in book["表3 城市医联体"][2:]} == {"3701001", "3701001-2"}
    call_command("export_xlsx", "--task", cast.task.code, "--out", str(out), stdout=io.StringIO())
    assert len(read_book(out)["表1 省级"]) == 2 + 2


def test_it_refuses_an_unknown_export_kind(cast, client):
    response = login(client, cast.analyst).post(reverse("exports:start"), {"kind": "nope"},
                                                HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert "未知的导出类型" in json.loads(response.content)["error"]
    assert not ExportJob.objects.exists()
