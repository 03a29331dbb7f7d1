"""Home page and data-entry page as a filler, reviewer or analyst sees them."""

from __future__ import annotations

import json
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reporting.models import Submission


def row_html(html: str, key: str) -> str:
    m = re.search(r'<div class="field-row[^"]*" data-key="' + re.escape(key) + r'".*?<div class="field-msg"', html,
                  re.S)
    assert m, key
    return m.group(0)


def entry_data(html: str) -> dict:
    m = re.search(r'<script id="entry-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def test_it_shows_the_filler_its_task_period_window_and_forms(cast, as_user):
    html = as_user(cast.jinan_urban).client.get("/").content.decode()
    assert "2019年分级诊疗第三方评估" in html
    assert "统计周期：2019-01-01 至 2019-06-30" in html
    assert "填报时间：" in html and "填报中" in html
    t3 = cast.submission(cast.jinan_urban, "t3")
    assert "表3 城市医联体效果评价考核表" in html and "未填报" in html
    assert f'href="{reverse("submission_entry", args=[t3.pk])}">填报</a>' in html
    assert "表1" not in html  # only its own unit's forms


def test_it_offers_only_viewing_on_the_home_page_after_the_deadline(cast, as_user):
    cast.task.window_close = timezone.now() - timezone.timedelta(hours=1)
    cast.task.save(update_fields=["window_close"])
    html = as_user(cast.jinan_urban).client.get("/").content.decode()
    assert "不在填报时间内" in html and ">查看</a>" in html and ">填报</a>" not in html


def test_it_shows_the_last_change_on_the_home_page(cast, as_user):
    filler = as_user(cast.jinan_urban)
    t3 = cast.submission(cast.jinan_urban, "t3")
    filler.save(t3, {"outpatient_visits": "1"})
    html = filler.client.get("/").content.decode()
    assert "填报中" in html
    assert timezone.localtime(Submission.objects.get(pk=t3.pk).updated_at).strftime("%Y-%m-%d %H:%M") in html


def test_it_shows_reviewers_a_summary_with_links_to_the_queue_and_progress(cast, as_user):
    html = as_user(cast.jinan_reviewer).client.get("/").content.decode()
    assert "本辖区报表情况" in html
    assert reverse("review:queue") in html and reverse("review:progress") in html
    # 济南市 sees its own 表2 and its three alliances' forms.
    total = Submission.objects.filter(task=cast.task, unit__path__startswith=cast.jinan_reviewer.unit.path).count()
    assert f"共 {total} 份" in html and "未填报 " + str(total) in html


def test_it_shows_the_form_header_sections_and_fields(cast, as_user):
    t3 = cast.submission(cast.jinan_urban, "t3")
    html = as_user(cast.jinan_urban).page(t3).content.decode()
    assert "表3 城市医联体效果评价考核表" in html
    assert "山东第一医科大学第一附属医院医疗集团" in html
    assert "2019年分级诊疗第三方评估" in html and "2019-01-01 至 2019-06-30" in html
    assert "填报截止：" + timezone.localtime(cast.task.window_close).strftime("%Y-%m-%d %H:%M") in html
    assert 'id="status-badge">未填报<' in html
    # Section navigator: 一级/二级 headings; 三级 numbered items as headings in the form.
    nav = html.split('nav-tree">')[1].split("</ul>")[0]
    assert "一、分工协作机制建设" in nav and "（一）组织管理和协作制度建立情况" in nav
    assert "成员单位（帮扶医院）" in nav
    assert '<h4 class="section-heading level-2"' in html and "1.有多少专科加入专科联盟？（专科数）" in html
    # Numbers are typed as text with a decimal keyboard, so １２３ and 1,234 can be entered.
    row = row_html(html, "outpatient_visits")
    assert 'type="text" inputmode="decimal"' in row
    assert 'data-quick="--"' in row and 'data-quick="0"' in row
    assert "未开展填“0”，未统计填“--”" in html
    # Yes/no as 是/否/--.
    row = row_html(html, "is_typical")
    assert "<select" in row and ">是<" in row and ">否<" in row and ">--（未统计）<" in row
    # Help text as a collapsible 说明.
    assert "说明</button>" in row_html(html, "hospital_category")
    assert "说明</button>" not in row_html(html, "report_type")  # no note to developers shown as 说明


def test_it_marks_optional_items_and_hides_conditional_ones_until_they_apply(cast, as_user):
    filler = as_user(cast.jinan_urban)
    t3 = cast.submission(cast.jinan_urban, "t3")
    definition = t3.form_version.definition
    optional = next(f for f in definition["fields"] if f.get("optional"))
    conditional = next(f for f in definition["fields"] if f.get("condition") == "hospital_category == '中医医院'")
    html = filler.page(t3).content.decode()
    assert "选填" in row_html(html, optional["code"])
    assert row_html(html, conditional["code"]).startswith('<div class="field-row d-none"')
    required = sum(1 for f in definition["fields"] if not f.get("optional") and not f.get("condition"))
    assert f'id="progress-total">0/{required}<' in html

    filler.save(t3, {"hospital_category": "中医医院", "hospital_name": "济南市中医医院"})
    html = filler.page(t3).content.decode()
    assert row_html(html, conditional["code"]).startswith('<div class="field-row" ')
    conditional_count = sum(1 for f in definition["fields"] if f.get("condition") and not f.get("optional"))
    assert f'id="progress-total">2/{required + conditional_count}<' in html


def test_it_gives_the_page_script_what_it_needs(cast, as_user):
    t3 = cast.submission(cast.jinan_urban, "t3")
    data = entry_data(as_user(cast.jinan_urban).page(t3).content.decode())
    assert data["id"] == t3.pk and data["editable"] is True and data["user"] == "3701001"
    assert data["fields"]["outpatient_visits"]["type"] == "count"
    assert data["member_fields"]["hospital_name"]["label"] == "医院名称"
    assert data["urls"]["save"] == reverse("submission_save_api", args=[t3.pk])
    assert data["member_label"] == "成员单位（帮扶医院）"


def test_it_renders_member_cards_titled_by_hospital_name_and_a_template_for_new_ones(cast, as_user):
    filler = as_user(cast.jinan_county)
    t4 = cast.submission(cast.jinan_county, "t4")
    member_unit = cast.unit("3701002").children.order_by("code").first()
    filler.add_member(t4, "9" * 32, unit=member_unit.code)
    html = filler.page(t4).content.decode()
    assert "乡镇卫生院" in html
    card = html.split(f'id="member-{"9" * 32}"')[1].split("</details>")[0]
    assert f'<span class="member-title fw-semibold">{member_unit.name}</span>' in card
    assert ">删除</button>" in card
    assert '<template id="member-template">' in html and 'data-member-key="__KEY__"' in html
    assert "添加成员单位" in html
    # The member unit already added is no longer offered.
    select = html.split('id="member-unit"')[1].split("</select>")[0]
    assert member_unit.code not in select


def test_it_has_no_member_section_on_forms_without_members(cast, as_user):
    t2 = cast.submission(cast.jinan_filler, "t2")
    html = as_user(cast.jinan_filler).page(t2).content.decode()
    assert "表2" in html and 'id="members"' not in html and "member-template" not in html


def test_it_renders_the_page_with_the_same_number_of_queries_for_many_members(cast, as_user,
                                                                             django_assert_max_num_queries):
    filler = as_user(cast.jinan_urban)
    t3 = cast.submission(cast.jinan_urban, "t3")
    filler.add_member(t3, "0" * 32)
    with CaptureQueriesContext(connection) as one:
        assert filler.page(t3).status_code == 200
    with_one_member = len(one.captured_queries)
    for i in range(1, 12):
        key = f"{i:032d}"
        filler.add_member(t3, key)
        filler.save(t3, [{"field": "hospital_name", "member": key, "value": f"成员医院{i}"},
                         {"field": "outpatient_visits", "member": key, "value": str(i * 10)}])
    with django_assert_max_num_queries(with_one_member):
        response = filler.page(t3)
    assert response.content.decode().count('class="card member-card') == 13  # 12 cards + the template
    # session, user (and its unit for the top bar), the form, its member entries, the member units still to add,
    # the open comments, the unread count, the FAQ entries, the 上报 gate's report plan, the panel's comments,
    # the session's renewal: the form version comes from the process's cache, member names from the entries read
    statements = [q["sql"] for q in one.captured_queries if "SAVEPOINT" not in q["sql"]]  # the test's transaction
    assert len(statements) <= ENTRY_PAGE_QUERIES, "\n".join(q[:100] for q in statements)
    with django_assert_max_num_queries(ENTRY_PAGE_QUERIES + 2):  # + SAVEPOINT / RELEASE around the session's save
        filler.page(t3)


ENTRY_PAGE_QUERIES = 12


def test_it_offers_the_offline_excel_template_on_the_form_page(cast, as_user):
    t3 = cast.submission(cast.jinan_urban, "t3")
    html = as_user(cast.jinan_urban).client.get(reverse("submission_entry", args=[t3.pk])).content.decode()
    assert reverse("exports:template", args=[t3.pk]) in html
    assert reverse("exports:template_upload", args=[t3.pk]) in html
    reviewer_html = as_user(cast.jinan_reviewer).client.get(reverse("submission_entry", args=[t3.pk])).content.decode()
    assert reverse("exports:template_upload", args=[t3.pk]) not in reviewer_html  # read-only: no upload
