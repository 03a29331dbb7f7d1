"""现场抽查 (verification factor, 一致率 by hand), the batch board, its drill-down and Excel export, overdue items
on the home pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Unit
from sampling.actions import batch_create, item_answer, item_close, item_raise, onsite_record
from sampling.models import Item, OnsiteCheck
from sampling.selection import Params
from sampling.selectors import board, onsite_summary
from sampling.transitions import ItemError
from tests.exports.conftest import export, read_book

from .conftest import free_field

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(cast, approved):
    approved("3701001", "t3")
    approved("5101001", "t3")
    return batch_create(acting_user=cast.analyst, task=cast.task, scope=Unit.objects.get(code="100000"),
                        params=Params(size=2, seed=9, random_share=1, forms=["t3"]))


def _sample(batch, code):
    return batch.samples.get(unit__code=code)


def test_it_computes_verification_factors_and_consistency_rates_as_by_hand(cast, batch):
    a, b = _sample(batch, "3701001"), _sample(batch, "5101001")
    ra1 = a.values_at_sampling["values"]["occupied_bed_days"]
    ra2 = a.values_at_sampling["values"]["open_bed_days"]
    rb1 = b.values_at_sampling["values"]["occupied_bed_days"]
    today = timezone.localdate()
    onsite_record(acting_user=cast.analyst, sample_id=a.pk, field_code="occupied_bed_days", verified=ra1,
                  inspector="张三", checked_on=today, conclusion="与病案首页一致")
    wrong = onsite_record(acting_user=cast.analyst, sample_id=a.pk, field_code="open_bed_days", verified=ra2 * 1.2,
                          inspector="张三", checked_on=today, conclusion="实际开放床位数多报")
    onsite_record(acting_user=cast.analyst, sample_id=b.pk,
                  field_code="occupied_bed_days", verified=rb1 * 0.95, inspector="李四", checked_on=today)
    assert wrong.reported == ra2 and wrong.factor == pytest.approx(1.2)
    summary = onsite_summary(batch)
    # by hand: 3 records, the first and the third within 0.9–1.1 → 2/3
    assert (summary.batch.checked, summary.batch.consistent) == (3, 2)
    assert summary.batch.rate == pytest.approx(200 / 3)
    assert summary.batch.factor == pytest.approx((ra1 + 1.2 * ra2 + 0.95 * rb1) / (ra1 + ra2 + rb1))
    by_province = {r.key: r.rate for r in summary.by_province}
    assert by_province == {"370000": pytest.approx(50.0), "510000": pytest.approx(100.0)}
    i01 = next(r for r in summary.by_indicator if r.key == "t3.i01")  # 实际占用总床日数 / 实际开放总床日数
    assert (i01.checked, i01.consistent) == (3, 2)
    # recording a field again replaces the record
    onsite_record(acting_user=cast.analyst, sample_id=a.pk, field_code="open_bed_days", verified=ra2,
                  inspector="张三", checked_on=today)
    assert OnsiteCheck.objects.filter(sample=a).count() == 2
    assert onsite_summary(batch).batch.rate == pytest.approx(100.0)


def test_it_refuses_on_site_records_outside_the_chain_or_without_data(cast, batch):
    a = _sample(batch, "3701001")
    today = timezone.localdate()
    with pytest.raises(ItemError, match="抽检链条"):
        onsite_record(acting_user=cast.sc_reviewer, sample_id=a.pk, field_code="open_bed_days", verified=1,
                      inspector="王五", checked_on=today)
    with pytest.raises(ItemError, match="没有指标"):
        onsite_record(acting_user=cast.analyst, sample_id=a.pk, field_code="nope", verified=1, inspector="王五",
                      checked_on=today)
    with pytest.raises(ItemError, match="核查日期"):
        onsite_record(acting_user=cast.analyst, sample_id=a.pk, field_code="open_bed_days", verified=1,
                      inspector="王五", checked_on=today + dt.timedelta(days=1))
    assert not OnsiteCheck.objects.exists()


def _board_case(cast, batch):
    a, b = _sample(batch, "3701001"), _sample(batch, "5101001")
    field = free_field(a.submission)
    other = next(c for c in a.submission.values if c not in (field,) and isinstance(a.submission.values[c], int))
    deadline = timezone.localdate() + dt.timedelta(days=5)
    one = item_raise(acting_user=cast.analyst, submission_id=a.submission_id, field_code=field, text="请核实。",
                     deadline=deadline)
    two = item_raise(acting_user=cast.analyst, submission_id=a.submission_id, field_code=other, text="请核实。",
                     deadline=deadline)
    b_field = free_field(b.submission)
    three = item_raise(acting_user=cast.analyst, submission_id=b.submission_id, field_code=b_field,
                       text="请核实。", deadline=deadline)
    item_answer(acting_user=cast.jinan_urban, item_id=one.pk, value=a.submission.values[field] + 1, set_value=True)
    item_close(acting_user=cast.analyst, item_id=one.pk)
    item_answer(acting_user=_filler(b), item_id=three.pk, text="经核对台账，数据无误。")
    Item.objects.filter(pk=two.pk).update(deadline=timezone.localdate() - dt.timedelta(days=1))  # time passes
    onsite_record(acting_user=cast.analyst, sample_id=a.pk, field_code="open_bed_days",
                  verified=a.values_at_sampling["values"]["open_bed_days"] * 2, inspector="张三",
                  checked_on=timezone.localdate())
    return one, two, three


def _filler(sample):
    from accounts.models import Role, User

    return User.objects.get(unit=sample.unit, role=Role.FILLER)


def test_it_counts_the_board_per_province(cast, batch):
    _board_case(cast, batch)
    b = board(batch, cast.analyst)
    rows = {r.key: r for r in b.rows}
    sd, sc = rows["370000"], rows["510000"]
    assert sd.label == "山东省" and sc.label == "四川省"
    assert (sd.samples, sd.raised, sd.answered, sd.closed, sd.overdue) == (1, 2, 1, 1, 1)
    assert (sc.samples, sc.raised, sc.answered, sc.closed, sc.overdue) == (1, 1, 1, 0, 0)
    assert sd.changed_share == 100.0 and sc.changed_share is None
    assert sd.discrepancy_rate == 100.0 and sc.discrepancy_rate is None
    assert sd.days_to_close is not None and sd.days_to_close < 1
    t = b.total
    assert (t.samples, t.raised, t.answered, t.closed, t.overdue) == (2, 3, 2, 1, 1)
    # a province reviewer sees only its own province
    assert [r.key for r in board(batch, cast.sd_reviewer).rows] == ["370000"]


def test_it_shows_the_board_drills_down_and_exports_it(cast, batch, client, tmp_path, settings,
                                                       django_assert_max_num_queries):
    settings.MEDIA_ROOT = tmp_path / "media"
    one, two, three = _board_case(cast, batch)
    client.force_login(cast.analyst)
    page = client.get(reverse("sampling:batch", args=[batch.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "山东省" in html and "四川省" in html and f"种子 <strong>{batch.seed}</strong>" in html
    drill = client.get(reverse("sampling:items"), {"batch": batch.pk, "unit": "370000", "overdue": "1"})
    assert f'data-id="{two.pk}"' in drill.content.decode()
    assert f'data-id="{one.pk}"' not in drill.content.decode()
    with django_assert_max_num_queries(12):
        client.get(reverse("sampling:items"), {"batch": batch.pk})
    book = read_book(export(cast.analyst, cast.task, tmp_path, kind="sampling_board", batch=batch.pk))
    assert set(book) == {"整改情况", "整改要求明细", "现场抽查"}
    header = book["整改情况"][1]
    sd = next(r for r in book["整改情况"] if r[0] == "370000")
    assert sd[header.index("整改要求")] == 2 and sd[header.index("超期")] == 1
    assert len([r for r in book["整改要求明细"][1:] if r[0]]) == 3
    response = client.post(reverse("sampling:export", args=[batch.pk]))
    assert response.status_code == 302 and "/exports/jobs/" in response["Location"]


def test_it_shows_overdue_items_on_the_units_and_its_supervisors_home_page(cast, batch, client):
    one, two, three = _board_case(cast, batch)
    for user, shown in ((cast.jinan_urban, True), (cast.jinan_reviewer, True), (cast.sd_reviewer, True),
                        (cast.analyst, True), (cast.qingdao_reviewer, False), (cast.jinan_urban2, False)):
        client.force_login(user)
        html = client.get(reverse("home")).content.decode()
        assert ('class="table table-sm mb-0 rectification-overdue"' in html
                and f'data-id="{two.pk}"' in html) is shown, user


def test_it_lists_items_through_the_api_with_a_constant_number_of_queries(cast, batch, api,
                                                                        django_assert_max_num_queries):
    a = _sample(batch, "3701001")
    deadline = timezone.localdate() + dt.timedelta(days=5)
    keys = list(a.submission.members.values_list("key", "values"))
    for key, values in keys[:3]:
        code = next(c for c, v in values.items() if isinstance(v, int))
        item_raise(acting_user=cast.analyst, submission_id=a.submission_id, field_code=code, member_key=key,
                   text="请核实。", deadline=deadline)
    client = api(cast.analyst)
    with django_assert_max_num_queries(10):
        rows = client.get("/api/rectifications/", {"batch": batch.pk}).json()["results"]
    assert len(rows) == min(3, len(keys)) and all(r["member"] for r in rows)
