"""What a result card shows goes to Excel through the export registry (results/export_kinds.py)."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from exports.models import ExportJob
from results import actions


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_it_exports_the_card_a_province_reads_with_values_targets_and_trend(cast, client, reported):
    release = actions.release_freeze(acting_user=cast.nation_reviewer, task_id=cast.task.pk)
    actions.release_publish(acting_user=cast.nation_reviewer, release_id=release.pk, audience="province")
    client.force_login(cast.sd_reviewer)
    response = client.post(reverse("results:card_export", args=["t2019", "3701001"]))
    assert response.status_code == 302
    job = ExportJob.objects.get(kind="result_card")
    assert job.state == ExportJob.State.DONE and job.requested_by == cast.sd_reviewer
    download = client.get(response["Location"])
    ws = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))["结果卡"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    header = rows[0]
    body = [r for r in rows[1:] if r[0]]
    card = release.snapshot["units"]["3701001"]
    assert {r[0] for r in body} == {"3701001"} and len(body) == len(card["indicators"])
    i09 = next(r for r in body if r[header.index("指标编码")] == "t3.i09")
    expected = next(i for i in card["indicators"] if i["code"] == "t3.i09")
    assert i09[header.index("数值")] == pytest.approx(expected["value"])
    assert i09[header.index("排名")] == expected["rank"]
    assert "2019" in i09[header.index("近三年")]


def test_it_scopes_the_export_to_the_cards_the_requester_may_read(cast, reported):
    from results.export_kinds import result_cards

    release = actions.release_freeze(acting_user=cast.nation_reviewer, task_id=cast.task.pk)
    actions.release_publish(acting_user=cast.nation_reviewer, release_id=release.pk, audience="province")
    sheet = next(iter(result_cards(cast.sd_reviewer, cast.task, {})))
    assert {r[0] for r in sheet.rows} == {"3701001", "3702001"}  # 山东's alliances, not 资阳's
    sheet = next(iter(result_cards(cast.sc_reviewer, cast.task, {"unit": "3701001"})))
    assert list(sheet.rows) == []
