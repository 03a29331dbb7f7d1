"""通知公告 / 下载区: who sees what, unread counts, the home page list, escaping."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role, UnitLevel
from communication import actions, selectors
from communication.models import NoticeKind

pytestmark = pytest.mark.django_db


def _titles(user) -> set[str]:
    return set(selectors.notices_for(user).values_list("title", flat=True))


def test_it_shows_a_national_notice_to_the_levels_and_roles_it_addresses(cast):
    actions.notice_publish(acting_user=cast.nation_reviewer, title="致各市审核人员", body="",
                           levels=[UnitLevel.CITY], roles=[Role.REVIEWER], send_mail=False)
    actions.notice_publish(acting_user=cast.nation_reviewer, title="致全体", body="", send_mail=False)
    assert _titles(cast.jinan_reviewer) == {"致各市审核人员", "致全体"}
    assert _titles(cast.qingdao_reviewer) == {"致各市审核人员", "致全体"}
    assert _titles(cast.jinan_filler) == {"致全体"}  # a city, but a filler
    assert _titles(cast.jinan_urban) == {"致全体"}  # an alliance
    assert _titles(cast.sd_reviewer) == {"致全体"}  # a province


def test_it_keeps_a_province_notice_inside_its_subtree(cast):
    actions.notice_publish(acting_user=cast.sd_reviewer, title="山东省填报说明", body="正文", send_mail=False)
    for user in (cast.sd_filler, cast.jinan_filler, cast.jinan_urban, cast.qingdao_urban, cast.qingdao_reviewer):
        assert "山东省填报说明" in _titles(user), user
    for user in (cast.zy_urban, cast.sc_reviewer, cast.nation_reviewer, cast.analyst):
        assert "山东省填报说明" not in _titles(user), user
    assert "山东省填报说明" in _titles(cast.admin)


def test_it_refuses_publishing_to_fillers_and_to_levels_above(cast):
    with pytest.raises(actions.CommError):
        actions.notice_publish(acting_user=cast.jinan_urban, title="x", body="")
    with pytest.raises(actions.CommError):
        actions.notice_publish(acting_user=cast.jinan_reviewer, title="x", body="", levels=[UnitLevel.PROVINCE])


def test_it_counts_unread_notices_and_marks_all_read(cast, client):
    for i in range(3):
        actions.notice_publish(acting_user=cast.nation_reviewer, title=f"通知{i}", body="", send_mail=False)
    actions.notice_publish(acting_user=cast.sc_reviewer, title="四川", body="", send_mail=False)
    assert selectors.unread_count(cast.jinan_urban) == 3
    client.force_login(cast.jinan_urban)
    home = client.get(reverse("home")).content.decode()
    assert "3 条未读" in home and "通知2" in home and "四川" not in home
    first = selectors.notices_for(cast.jinan_urban).get(title="通知0")
    client.get(reverse("communication:notice", args=[first.pk]))
    assert selectors.unread_count(cast.jinan_urban) == 2
    assert selectors.unread_count(cast.jinan_county) == 3  # reading is per person
    client.post(reverse("communication:notices_read_all"))
    assert selectors.unread_count(cast.jinan_urban) == 0
    assert "条未读" not in client.get(reverse("home")).content.decode()


def test_it_lists_pinned_notices_first_and_downloads_apart(cast, client):
    actions.notice_publish(acting_user=cast.nation_reviewer, title="置顶的通知", body="", pinned=True, send_mail=False)
    actions.notice_publish(acting_user=cast.nation_reviewer, title="较新的通知", body="", send_mail=False)
    actions.notice_publish(acting_user=cast.nation_reviewer, title="指标说明文件", body="",
                           kind=NoticeKind.DOWNLOAD, send_mail=False)
    client.force_login(cast.jinan_urban)
    page = client.get(reverse("communication:notices")).content.decode()
    assert page.index("置顶的通知") < page.index("较新的通知")
    assert "指标说明文件" not in page
    assert "指标说明文件" in client.get(reverse("communication:downloads")).content.decode()


def test_it_stores_script_payloads_as_typed_and_shows_them_escaped(cast, client):
    payload = '<script>alert("x")</script>=HYPERLINK("http://evil")'
    notice = actions.notice_publish(acting_user=cast.nation_reviewer, title=payload, body=payload, send_mail=False)
    assert notice.title == payload
    client.force_login(cast.jinan_urban)
    for url in (reverse("communication:notice", args=[notice.pk]), reverse("communication:notices"),
                reverse("home")):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_it_publishes_through_the_page_for_its_subtree(cast, client):
    client.force_login(cast.jinan_reviewer)
    response = client.post(reverse("communication:notice_new"), {
        "kind": "notice", "title": "济南市通知", "body": "请于本周内完成填报。", "levels": ["urban_alliance"]})
    assert response.status_code == 302
    assert "济南市通知" in _titles(cast.jinan_urban)
    assert "济南市通知" not in _titles(cast.jinan_county)
    assert "济南市通知" not in _titles(cast.qingdao_urban)
