"""The feedback round in a real browser (headless Debian Chromium): the 山东 province reviewer reads an
alliance's result card on the 数据查询平台, files an objection to one indicator; the national reviewer answers it
on the release page; the province sees the answer on the card."""

from __future__ import annotations

import pytest

from results import actions
from results.models import Objection, ObjectionStatus
from tests import filling as demo
from tests.browser import click, login, page_text, wait
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_lets_a_province_object_to_its_card_and_the_nation_answer(live_server, browser, cast):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    demo.fill_form(cast.submission("3701001", "t3"), state=demo.APPROVED)
    release = actions.release_freeze(acting_user=cast.nation_reviewer, task_id=cast.task.pk)
    actions.release_open_feedback(acting_user=cast.nation_reviewer, release_id=release.pk)

    login(browser, live_server, "370000-sh", PASSWORD)
    browser.get(f"{live_server.url}/results/platform/?task=t2019")
    click(browser, browser.find_element(By.LINK_TEXT, cast.unit("3701001").name))
    wait(browser).until(lambda d: "/cards/3701001/" in d.current_url)
    row = browser.find_element(By.CSS_SELECTOR, 'tr[data-indicator="t3.i09"]')
    assert "牵头医院三、四级手术占比" in row.text
    form = browser.find_element(By.ID, "objection-form")
    Select(form.find_element(By.NAME, "indicator")).select_by_value("t3.i09")
    form.find_element(By.NAME, "text").send_keys("三、四级手术例数含日间手术，口径有误，请核实。")
    click(browser, form.find_element(By.CSS_SELECTOR, "button"))
    wait(browser, 40).until(lambda d: "异议已提交" in page_text(d))
    assert "待处理" in browser.find_element(By.ID, "objections").text

    login(browser, live_server, "100000-sh", PASSWORD)
    browser.get(f"{live_server.url}/results/manage/t2019/")
    queue = browser.find_element(By.ID, "objection-queue")
    assert "口径有误" in queue.text
    decide = queue.find_element(By.CSS_SELECTOR, "form.decide-form")
    decide.find_element(By.NAME, "decision").send_keys("经核实，按审核通过的报表口径计算，不予调整。")
    click(browser, decide.find_element(By.CSS_SELECTOR, 'button[value="0"]'))
    wait(browser, 40).until(lambda d: "异议已处理" in page_text(d))
    assert Objection.objects.get().status == ObjectionStatus.REJECTED

    login(browser, live_server, "370000-sh", PASSWORD)
    browser.get(f"{live_server.url}/results/platform/t2019/cards/3701001/")
    answered = browser.find_element(By.ID, "objections").text
    assert "不予采纳" in answered and "不予调整" in answered
