"""Bounded work per request: body limits before reading, xlsx bombs and macros refused before parsing (in well
under a second, with flat memory), members per request bounded and linear, control characters refused with a
field message wherever text enters, connections checked before reuse, committed saves reported as saved."""

from __future__ import annotations

import io
import json
import time
import tracemalloc
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from exports.xlsxguard import UnsafeWorkbook, inspect_xlsx
from reporting.normalize import normalize_value

pytestmark = pytest.mark.django_db

CONTENT_TYPES = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                 '{kind}.main+xml"/></Types>')


def _zip(parts: dict[str, bytes | str], kind: str = "spreadsheetml.sheet") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES.format(kind=kind))
        for name, content in parts.items():
            zf.writestr(name, content)
    return buf.getvalue()


def _shared_strings(n: int) -> bytes:
    return (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + b"<si><t>a</t></si>" * n
            + b"</sst>")


def _cells(n: int) -> bytes:
    return (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
            + b'<c t="s"><v>0</v></c>' * n + b"</row></sheetData></worksheet>")


BOMBS = {
    "2.45M shared strings (the audit's bomb)": lambda: _zip({"xl/sharedStrings.xml": _shared_strings(2_450_000)}),
    "shared strings under the size cap": lambda: _zip({"xl/sharedStrings.xml": _shared_strings(200_000)}),
    "a million cells": lambda: _zip({"xl/worksheets/sheet1.xml": _cells(450_000)}),
    "thousands of entries": lambda: _zip({f"xl/media/x{i}.xml": b"" for i in range(2000)}),
    "a macro part": lambda: _zip({"xl/vbaProject.bin": b"\x00" * 100}),
    "a macro-enabled content type": lambda: _zip({}, kind="sheet.macroEnabled"),
    "not a zip": lambda: b"PK\x03\x04 this is not really a zip file" * 100,
}


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_it_refuses_upload_bombs_before_parsing_in_under_a_second_with_flat_memory(bomb):
    data = BOMBS[bomb]()
    assert len(data) < 600_000
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(UnsafeWorkbook):
        inspect_xlsx(data)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 8 * 1024 * 1024


@pytest.mark.parametrize("bomb", ["2.45M shared strings (the audit's bomb)", "a macro part", "not a zip"])
def test_it_answers_an_uploaded_bomb_with_a_chinese_refusal_quickly(cast, client, bomb):
    submission = cast.submission(cast.jinan_urban, "t3")
    client.force_login(cast.jinan_urban)
    client.get(reverse("exports:template", args=[submission.pk]))  # warm up: the first request loads modules
    upload = io.BytesIO(BOMBS[bomb]())
    upload.name = "模板.xlsx"
    started = time.perf_counter()
    response = client.post(reverse("exports:template_upload", args=[submission.pk]), {"file": upload},
                           HTTP_ACCEPT="application/json")
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 400
    assert "未导入任何数据" in response.json()["message"]


def test_it_refuses_a_macro_workbook_by_its_name(cast, client):
    submission = cast.submission(cast.jinan_urban, "t3")
    client.force_login(cast.jinan_urban)
    upload = io.BytesIO(_zip({}))
    upload.name = "模板.xlsm"
    response = client.post(reverse("exports:template_upload", args=[submission.pk]), {"file": upload},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "宏" in response.json()["message"]


def test_it_refuses_an_oversized_body_before_reading_it(cast, client):
    client.force_login(cast.jinan_urban)
    submission = cast.submission(cast.jinan_urban, "t3")
    response = client.generic("POST", reverse("exports:template_upload", args=[submission.pk]), b"x" * 10,
                              content_type="application/octet-stream", CONTENT_LENGTH=str(300 * 1024 * 1024),
                              HTTP_ACCEPT="application/json")
    assert response.status_code == 413
    assert "过大" in response.json()["detail"]


def test_it_refuses_a_json_body_above_the_memory_limit(cast, client, settings):
    client.force_login(cast.jinan_urban)
    submission = cast.submission(cast.jinan_urban, "t3")
    body = json.dumps({"changes": [], "explanations": {"x": "y" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)}})
    response = client.post(reverse("submission_save_api", args=[submission.pk]), body,
                           content_type="application/json", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code in (400, 413)
    assert response["Content-Type"].startswith("application/json")


def test_it_bounds_members_per_api_request(cast, api):
    submission = cast.submission(cast.jinan_urban, "t3")
    members = {f"k{i}": {"hospital_name": f"医院{i}"} for i in range(101)}
    response = api(cast.jinan_urban).patch(f"/api/submissions/{submission.pk}/",
                                           {"members": members, "base_revision": 0}, format="json")
    assert response.status_code == 400
    assert "一次最多" in json.dumps(response.json(), ensure_ascii=False)


def test_it_adds_many_members_with_a_linear_number_of_queries(cast, api):
    client = api(cast.jinan_urban)
    counts = {}
    for n, unit in ((5, cast.jinan_urban), (60, cast.jinan_urban2)):
        client = api(unit)
        submission = cast.submission(unit, "t3")
        members = {f"k{i}": {"hospital_name": f"医院{i}"} for i in range(n)}
        with CaptureQueriesContext(connection) as ctx:
            response = client.patch(f"/api/submissions/{submission.pk}/",
                                    {"members": members, "base_revision": submission.revision}, format="json")
        assert response.status_code == 200, response.content
        assert submission.members.count() == n
        counts[n] = len(ctx.captured_queries)
    # Linear (at most one write per new member row), not a re-evaluation per member as before.
    assert counts[60] - counts[5] <= 55 + 5, counts


NUL = "济南\u0000医院"


def test_it_refuses_nul_in_api_values_explanations_and_member_values(cast, api):
    submission = cast.submission(cast.jinan_urban, "t3")
    client = api(cast.jinan_urban)
    for body in ({"values": {"hospital_name": NUL}}, {"explanations": {"t3.c01": NUL}},
                 {"members": {"k1": {"hospital_name": NUL}}}, {"values": {NUL: "1"}}):
        response = client.patch(f"/api/submissions/{submission.pk}/", {**body, "base_revision": 0}, format="json")
        assert response.status_code == 400, body
        assert "控制字符" in response.json()["detail"]
    submission.refresh_from_db()
    assert submission.revision == 0


def test_it_refuses_nul_in_the_pages_autosave_with_the_field_named(cast, client):
    submission = cast.submission(cast.jinan_urban, "t3")
    client.force_login(cast.jinan_urban)
    body = {"base_revision": 0, "changes": [{"field": "hospital_name", "member": "", "value": NUL}]}
    response = client.post(reverse("submission_save_api", args=[submission.pk]), json.dumps(body),
                           content_type="application/json", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 400
    data = response.json()
    assert "控制字符" in data["detail"] and any("value" in k for k in data["errors"])


@pytest.mark.parametrize("char", ["\u0000", "\u0007", "\u001b", "\u007f"])
def test_it_refuses_control_characters_in_filters_and_comments(cast, client, char):
    client.force_login(cast.sd_reviewer)
    response = client.get(reverse("review:progress"), {"name": f"济南{char}"})
    assert response.status_code == 400 and "“name”" in response.content.decode()
    submission = cast.submission(cast.jinan_urban, "t3")
    response = client.post(reverse("review:comment_add", args=[submission.pk]),
                           {"field": "hospital_name", "text": f"请核实{char}"})
    assert response.status_code == 400 and "控制字符" in response.content.decode()


def test_it_keeps_tabs_and_line_breaks_in_text(cast, client):
    client.force_login(cast.sd_reviewer)
    assert client.get(reverse("review:progress"), {"name": "济南\t市"}).status_code == 200


def test_it_refuses_control_characters_in_imported_cells():
    result = normalize_value({"type": "text"}, "abc\u0000")
    assert not result.ok and "控制字符" in result.error
    assert normalize_value({"type": "text"}, "第一行\n第二行").ok


@pytest.mark.django_db(transaction=True)
def test_it_reconnects_after_the_database_dropped_an_idle_connection(settings):
    import psycopg2
    from django.db import close_old_connections

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    connection.settings_dict["CONN_MAX_AGE"] = 60
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        params = connection.get_connection_params()
        killer = psycopg2.connect(**params)
        killer.autocommit = True
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        killer.close()
        close_old_connections()  # what Django does at the start of every request
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = 0
        connection.close()


def test_it_reports_a_committed_api_save_as_saved_when_reading_back_fails(cast, api, monkeypatch):
    from django.db import OperationalError

    from review.api import SubmissionViewSet

    submission = cast.submission(cast.jinan_urban, "t3")
    original = SubmissionViewSet.get_serializer

    def broken(self, *args, **kwargs):
        if self.action == "partial_update":
            raise OperationalError("server closed the connection unexpectedly")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SubmissionViewSet, "get_serializer", broken)
    response = api(cast.jinan_urban).patch(f"/api/submissions/{submission.pk}/",
                                           {"values": {"hospital_name": "济南市中心医院"}, "base_revision": 0},
                                           format="json")
    assert response.status_code == 200
    assert response.json()["saved"] == ["hospital_name"]
    submission.refresh_from_db()
    assert submission.values["hospital_name"] == "济南市中心医院"


@pytest.mark.parametrize("failing", ["edit_state", "live_panel"])
def test_it_reports_a_committed_page_save_as_saved_when_reading_back_fails(cast, client, monkeypatch, failing):
    import json

    from django.db import OperationalError

    from reporting import api as page_api

    def broken(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    submission = cast.submission(cast.jinan_urban, "t3")
    monkeypatch.setattr(page_api, failing, broken)
    client.force_login(cast.jinan_urban)
    response = client.post(f"/submissions/{submission.pk}/api/save", json.dumps(
        {"base_revision": 0, "changes": [{"field": "hospital_name", "value": "济南市中心医院"}]}),
        content_type="application/json")
    assert response.status_code == 200
    assert response.json()["saved"] == ["hospital_name"] and response.json()["stale"] is True
    submission.refresh_from_db()
    assert submission.values["hospital_name"] == "济南市中心医院"
