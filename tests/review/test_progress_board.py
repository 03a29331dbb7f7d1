"""进度明细: each subordinate unit's status per form, counts, completion rate, filters, drill-down, Excel, and a
constant number of queries whatever the number of units."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.actions import unit_create
from accounts.models import Unit, UnitLevel
from reporting.actions import submissions_ensure

pytestmark = pytest.mark.django_db


@pytest.fixture
def jinan_states(cast, fill):
    fill(cast.jinan_urban, "t3", state="submitted")
    fill(cast.jinan_urban2, "t3", state="approved")
    fill(cast.jinan_county, "t4")
    return cast


def _rows(page: str) -> dict[str, str]:
    out = {}
    for chunk in page.split('class="board-row" data-unit="')[1:]:
        code, rest = chunk.split('"', 1)
        out[code] = rest.split("</tr>", 1)[0]
    return out


def test_it_shows_a_citys_alliances_with_status_last_change_and_who(jinan_states, client):
    cast = jinan_states
    client.force_login(cast.jinan_reviewer)
    page = client.get(reverse("review:progress")).content.decode()
    rows = _rows(page)
    assert set(rows) == {"3701001", "3701001-2", "3701002"}
    assert "已上报" in rows["3701001"] and "审核通过" in rows["3701001-2"] and "填报中" in rows["3701002"]
    assert "370100-sh" in rows["3701001-2"]  # approved by the city reviewer
    assert "3701002" in rows["3701002"].split("最后修改")[-1]  # last saved by the county's filler
    assert '<div class="fs-5 board-total">3</div>' in page
    assert '<div class="fs-5 board-rate">66.7%</div>' in page


def test_it_rolls_up_a_provinces_cities_and_drills_down(jinan_states, client):
    cast = jinan_states
    client.force_login(cast.sd_reviewer)
    page = client.get(reverse("review:progress")).content.decode()
    rows = _rows(page)
    assert set(rows) == {"370100", "370200"}
    assert "已完成 2/2" in rows["370100"]  # 表3 of its two urban alliances
    assert "已完成 0/1" in rows["370100"]  # 表4 of its county alliance
    assert rows["370100"].count("row-rate") == 1 and ">50.0%<" in rows["370100"]
    assert '<div class="fs-5 board-total">7</div>' in page
    drill = client.get(reverse("review:progress"), {"unit": "370100"}).content.decode()
    assert set(_rows(drill)) == {"3701001", "3701001-2", "3701002"}
    assert "山东省" in drill and "济南市" in drill  # the breadcrumb


def test_it_filters_by_form_status_and_unit_name(jinan_states, client):
    cast = jinan_states
    client.force_login(cast.sd_reviewer)
    url = reverse("review:progress")
    assert set(_rows(client.get(url, {"status": "approved"}).content.decode())) == {"370100"}
    assert set(_rows(client.get(url, {"name": "青岛"}).content.decode())) == {"370200"}
    only_t4 = client.get(url, {"form": "t4"}).content.decode()
    assert "表4" in only_t4.split("<thead>")[1].split("</thead>")[0]
    assert "表3" not in only_t4.split("<thead>")[1].split("</thead>")[0]
    assert '<div class="fs-5 board-total">2</div>' in only_t4


def test_it_refuses_a_drill_down_outside_the_scope(cast, client):
    client.force_login(cast.jinan_reviewer)
    assert client.get(reverse("review:progress"), {"unit": "370200"}).status_code == 404
    assert client.get(reverse("review:progress"), {"unit": "370000"}).status_code == 404


def test_it_exports_the_board_to_excel(jinan_states, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(jinan_states.jinan_reviewer)
    response = client.get(reverse("review:progress"), {"format": "xlsx"}, follow=True)
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    header = rows[1]
    assert header[:3] == ("单位编码", "单位名称", "层级") and header[-1] == "完成率（%）"
    data = {r[0]: r for r in rows[2:]}
    assert set(data) == {"3701001", "3701001-2", "3701002"}
    assert "已上报" in data["3701001"]


def _board_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_it_needs_the_same_few_queries_for_many_units(cast, client, django_assert_max_num_queries):
    client.force_login(cast.nation_reviewer)
    url = reverse("review:progress")
    before = _board_queries(client, url)
    drill_before = _board_queries(client, f"{url}?unit=370000")
    province = Unit.objects.get(code="370000")
    for i in range(3):
        city = unit_create(acting_user=None, code=f"37{90 + i}00", name=f"测试市{i}", level=UnitLevel.CITY,
                           parent=province)
        for j, level in enumerate((UnitLevel.URBAN_ALLIANCE, UnitLevel.COUNTY_ALLIANCE, UnitLevel.URBAN_ALLIANCE)):
            unit_create(acting_user=None, code=f"{city.code}{j}", name=f"测试医联体{i}{j}", level=level, parent=city)
    submissions_ensure(acting_user=None, task=cast.task)
    assert _board_queries(client, url) == before
    assert _board_queries(client, f"{url}?unit=370000") == drill_before
    with django_assert_max_num_queries(16):
        client.get(url)
