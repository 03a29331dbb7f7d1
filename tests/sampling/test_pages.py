"""The sampling pages end to end (without a browser): preview → commit → raise → the unit corrects on the item
page → the sampler sees the diff and closes; a report-section item; a member-entry item; corrected values reach
the indicators and the export."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from reporting.models import Submission
from sampling.actions import item_answer, item_close, item_raise
from sampling.models import Batch, Item
from sampling.unlock import open_report_sections

from .conftest import free_field

pytestmark = pytest.mark.django_db


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def test_it_walks_preview_commit_raise_correct_diff_and_close_through_the_pages(cast, approved, client):
    submission = approved("3701001", "t3")
    field = free_field(submission)
    old = submission.values[field]
    client.force_login(cast.analyst)
    assert client.get(reverse("sampling:index")).status_code == 200
    query = {"task": cast.task.code, "scope": "100000", "size": "1", "seed": "42", "random_share": "1"}
    preview = client.get(reverse("sampling:preview"), query)
    assert preview.status_code == 200
    assert 'data-unit="3701001"' in preview.content.decode() and "种子 <strong>42</strong>" in preview.content.decode()
    assert not Batch.objects.exists()
    committed = client.post(reverse("sampling:preview"), {**query, "commit": "1", "name": "第一批"})
    batch = Batch.objects.get()
    assert committed.status_code == 302 and committed["Location"] == reverse("sampling:batch", args=[batch.pk])
    assert batch.name == "第一批" and batch.seed == 42
    sample = batch.samples.get()
    page = client.get(reverse("sampling:sample", args=[sample.pk]))
    assert page.status_code == 200 and 'id="raise-form"' in page.content.decode()
    deadline = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    raised = client.post(reverse("sampling:raise", args=[sample.pk]),
                         {"target": "field", "target_field": f"|{field}", "text": "请按统计年报核实。",
                          "deadline": deadline}, follow=True)
    assert "已提出整改要求" in _messages(raised)
    item = Item.objects.get()

    client.force_login(cast.jinan_urban)
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("sampling:item", args=[item.pk])}"' in home
    form = client.get(reverse("sampling:item", args=[item.pk])).content.decode()
    assert 'id="answer-form"' in form and 'id="close-button"' not in form
    answered = client.post(reverse("sampling:act", args=[item.pk]),
                           {"action": "answer", "value": str(old + 7), "text": "已更正。"}, follow=True)
    assert "已提交整改答复" in _messages(answered)
    assert Submission.objects.get(pk=submission.pk).values[field] == old + 7

    client.force_login(cast.analyst)
    page = client.get(reverse("sampling:item", args=[item.pk])).content.decode()
    assert f'<td id="diff-before">{old}</td>' in page and f"{old + 7}</strong>" in page and "已修改" in page
    closed = client.post(reverse("sampling:act", args=[item.pk]), {"action": "close"}, follow=True)
    assert "已关闭" in _messages(closed)
    assert Item.objects.get().state == "closed"


def test_it_refuses_bad_page_input_with_the_message(cast, approved, client):
    submission = approved("3701001", "t3")
    client.force_login(cast.analyst)
    query = {"task": cast.task.code, "scope": "100000", "size": "0", "seed": "x"}
    bad = client.get(reverse("sampling:preview"), query)
    assert bad.status_code == 400 and "抽样数量须为正整数" in bad.content.decode()
    client.post(reverse("sampling:preview"), {**query, "size": "1", "seed": "1", "commit": "1"})
    sample = Batch.objects.get().samples.get()
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    refused = client.post(reverse("sampling:raise", args=[sample.pk]),
                          {"target_field": f"|{free_field(submission)}", "text": "x", "deadline": past}, follow=True)
    assert "不能早于今天" in _messages(refused) and not Item.objects.exists()


def test_it_raises_an_item_on_a_report_section_which_the_unit_answers(cast, approved, api):
    submission = approved("3701001", "t3")
    from accounts.models import Unit
    from sampling.actions import batch_create
    from sampling.selection import Params

    batch_create(acting_user=cast.analyst, task=cast.task, scope=Unit.objects.get(code="100000"),
                 params=Params(size=1, seed=1, random_share=1))
    body = {"target": "report", "section": "2.3", "text": "自评报告未说明双向转诊数据来源。",
            "deadline": (timezone.localdate() + dt.timedelta(days=5)).isoformat()}
    response = api(cast.analyst).post(f"/api/submissions/{submission.pk}/rectifications/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["label"] == "自评报告：2.3"
    assert open_report_sections(submission.pk) == {"2.3"}
    # no field of the form opens for a report item
    submission.refresh_from_db()
    locked = api(cast.jinan_urban).patch(f"/api/submissions/{submission.pk}/",
                                         {"values": {free_field(submission): 1}, "base_revision": submission.revision},
                                         format="json")
    assert locked.status_code == 409
    no_text = api(cast.jinan_urban).post(f"/api/rectifications/{response.json()['id']}/answer/", {}, format="json")
    assert no_text.status_code == 400 and "说明" in no_text.json()["detail"]
    ok = api(cast.jinan_urban).post(f"/api/rectifications/{response.json()['id']}/answer/",
                                    {"text": "已在报表第2.3节补充数据来源说明。"}, format="json")
    assert ok.status_code == 200 and ok.json()["state"] == "answered"


def test_it_unlocks_one_member_entrys_field_and_corrected_values_reach_the_indicators(cast, approved):
    submission = approved("3701001", "t3")
    from accounts.models import Unit
    from sampling.actions import batch_create
    from sampling.selection import Params

    batch_create(acting_user=cast.analyst, task=cast.task, scope=Unit.objects.get(code="100000"),
                 params=Params(size=1, seed=1, random_share=1))
    key, values = submission.members.order_by("position").values_list("key", "values").first()
    code = next(c for c, v in values.items() if isinstance(v, int) and c != "org_code")
    deadline = timezone.localdate() + dt.timedelta(days=5)
    member_item = item_raise(acting_user=cast.analyst, submission_id=submission.pk, field_code=code, member_key=key,
                             text="请核实该成员单位数据。", deadline=deadline)
    assert member_item.original_value == values[code]
    item_answer(acting_user=cast.jinan_urban, item_id=member_item.pk, value=values[code] + 1, set_value=True)
    assert submission.members.get(key=key).values[code] == values[code] + 1

    lead = item_raise(acting_user=cast.analyst, submission_id=submission.pk, field_code="occupied_bed_days",
                      text="实际占用总床日数请核实。", deadline=deadline)
    new = round(submission.values["open_bed_days"] * 0.5)
    item_answer(acting_user=cast.jinan_urban, item_id=lead.pk, value=new, set_value=True)
    item_close(acting_user=cast.analyst, item_id=lead.pk)
    item_close(acting_user=cast.analyst, item_id=member_item.pk)
    fresh = Submission.objects.get(pk=submission.pk)
    assert fresh.result["indicators"]["t3.i01"] == pytest.approx(new / fresh.values["open_bed_days"] * 100)


def test_it_keeps_a_value_with_an_evidence_file_and_records_on_site_attachments(cast, approved, api, client,
                                                                                 settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import Unit
    from sampling.actions import batch_create
    from sampling.models import OnsiteCheck
    from sampling.selection import Params
    from tests.files.samples import pdf_bytes, png_bytes

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "media")}}}
    submission = approved("3701001", "t3")
    batch = batch_create(acting_user=cast.analyst, task=cast.task, scope=Unit.objects.get(code="100000"),
                         params=Params(size=1, seed=1, random_share=1))
    field = free_field(submission)
    item = item_raise(acting_user=cast.analyst, submission_id=submission.pk, field_code=field, text="请提供依据。",
                      deadline=timezone.localdate() + dt.timedelta(days=2))
    answered = api(cast.jinan_urban).post(
        f"/api/rectifications/{item.pk}/answer/",
        {"text": "经核对原始台账，数值无误，附台账扫描件。", "evidence": SimpleUploadedFile("台账.pdf", pdf_bytes())},
        format="multipart")
    assert answered.status_code == 200, answered.json()
    evidence = answered.json()["evidence_file"]
    assert evidence and answered.json()["value_changed"] is False
    client.force_login(cast.analyst)
    assert f'href="/files/{evidence}/"' in client.get(reverse("sampling:item", args=[item.pk])).content.decode()
    assert client.get(f"/files/{evidence}/").status_code == 200
    client.force_login(cast.sc_reviewer)
    assert client.get(f"/files/{evidence}/").status_code == 404
    bad = api(cast.jinan_urban).post(f"/api/rectifications/{item.pk}/answer/",
                                     {"text": "x", "evidence": SimpleUploadedFile("a.pdf", b"MZ\x90\x00")},
                                     format="multipart")
    assert bad.status_code in (400, 409)

    sample = batch.samples.get()
    client.force_login(cast.analyst)
    saved = client.post(reverse("sampling:onsite", args=[sample.pk]), {
        "target_field": "|open_bed_days", "verified": "100", "inspector": "张三",
        "checked_on": timezone.localdate().isoformat(), "conclusion": "见照片",
        "attachments": [SimpleUploadedFile("现场.png", png_bytes())]})
    assert saved.status_code == 302
    check = OnsiteCheck.objects.get()
    assert len(check.attachment_ids) == 1 and check.verified == 100
    assert client.get(f"/files/{check.attachment_ids[0]}/").status_code == 200


def test_it_points_the_read_only_entry_page_at_the_open_items(cast, approved, client):
    from accounts.models import Unit
    from sampling.actions import batch_create
    from sampling.selection import Params

    submission = approved("3701001", "t3")
    batch_create(acting_user=cast.analyst, task=cast.task, scope=Unit.objects.get(code="100000"),
                 params=Params(size=1, seed=1, random_share=1))
    client.force_login(cast.jinan_urban)
    assert 'id="rectification-entry"' not in client.get(reverse("submission_entry", args=[submission.pk])).content.decode()
    item = item_raise(acting_user=cast.analyst, submission_id=submission.pk, field_code=free_field(submission),
                      text="请核实。", deadline=timezone.localdate() + dt.timedelta(days=2))
    html = client.get(reverse("submission_entry", args=[submission.pk])).content.decode()
    assert 'id="rectification-entry"' in html and reverse("sampling:item", args=[item.pk]) in html


def test_it_exports_the_corrected_value_after_the_item_is_closed(cast, approved, tmp_path, settings):
    from accounts.models import Unit
    from sampling.actions import batch_create
    from sampling.selection import Params
    from tests.exports.conftest import export, read_book

    settings.MEDIA_ROOT = tmp_path / "media"
    submission = approved("3701001", "t3")
    batch_create(acting_user=cast.analyst, task=cast.task, scope=Unit.objects.get(code="100000"),
                 params=Params(size=1, seed=1, random_share=1))
    field = free_field(submission)
    item = item_raise(acting_user=cast.analyst, submission_id=submission.pk, field_code=field, text="请核实。",
                      deadline=timezone.localdate() + dt.timedelta(days=2))
    item_answer(acting_user=cast.jinan_urban, item_id=item.pk, value=987654, set_value=True, text="已更正。")
    item_close(acting_user=cast.analyst, item_id=item.pk)
    book = read_book(export(cast.analyst, cast.task, tmp_path, kind="task"))
    rows = [row for sheet in book.values() for row in sheet if "3701001" in [str(c) for c in row]]
    assert rows and any(987654 in row for row in rows)
