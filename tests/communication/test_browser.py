"""In the browser: the home page's notice list with its unread badge, a notice and 全部标为已读, asking on the
留言板 (similar answers first), and an FAQ answer opened next to its field on the entry page."""

from __future__ import annotations

import os

import pytest

from communication import actions
from communication.models import QuestionCategory
from tests.browser import click, login, wait
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("COMM_SCREENSHOTS", "")


def _shot(driver, name: str) -> None:
    if SHOTS:
        driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def test_it_takes_a_filler_from_the_home_page_notice_to_an_answer_at_the_field(live_server, browser, cast):
    from selenium.webdriver.common.by import By

    actions.notice_publish(acting_user=cast.nation_reviewer, title="关于开展2019年分级诊疗评估填报工作的通知",
                           body="请于截止时间前完成填报并上报。", pinned=True, send_mail=False)
    actions.notice_publish(acting_user=cast.jinan_reviewer, title="济南市填报进度提醒", body="<b>请抓紧</b>",
                           send_mail=False)
    q = actions.question_ask(acting_user=cast.jinan_urban2, category=QuestionCategory.INDICATOR,
                             title="门诊总诊疗人次数是否包含健康体检人次", body="体检人次是否计入门诊总诊疗人次数？",
                             form_code="t3", field_code="outpatient_visits")
    actions.question_transition(acting_user=cast.nation_reviewer, question_id=q.pk, action="answer",
                                text="不包含健康体检人次。")
    actions.faq_promote(acting_user=cast.nation_reviewer, question_id=q.pk)

    driver = browser
    login(driver, live_server, "3701001", PASSWORD)
    card = wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, ".home-notices"))
    assert "2 条未读" in card.text and "济南市填报进度提醒" in card.text
    _shot(driver, "home")
    click(driver, card.find_element(By.LINK_TEXT, "济南市填报进度提醒"))
    body = wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, ".notice-body"))
    assert "<b>请抓紧</b>" in body.text  # shown as typed, not as markup
    driver.get(f"{live_server.url}/comm/notices/")
    assert "1 条未读" in driver.find_element(By.TAG_NAME, "h1").text
    click(driver, driver.find_element(By.CSS_SELECTOR, ".mark-all-read"))
    wait(driver).until(lambda d: "已将1条通知标为已读" in d.page_source)
    assert not driver.find_elements(By.CSS_SELECTOR, ".unread")
    _shot(driver, "notices")

    driver.get(f"{live_server.url}/comm/questions/new/")
    driver.find_element(By.CSS_SELECTOR, "#category option[value=indicator]").click()
    driver.find_element(By.ID, "title").send_keys("体检人次算不算门诊总诊疗人次数")
    driver.find_element(By.ID, "body").send_keys("健康体检人次要计入门诊总诊疗人次数吗？")
    click(driver, driver.find_element(By.CSS_SELECTOR, "form.card button"))
    similar = wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, ".similar-questions"))
    assert "不包含健康体检人次。" in similar.text
    _shot(driver, "similar")

    driver.get(f"{live_server.url}/submissions/{cast.submission(cast.jinan_urban, 't3').pk}/")
    faq = wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, '[data-field="outpatient_visits"] .field-faq'))
    click(driver, faq.find_element(By.TAG_NAME, "summary"))
    wait(driver).until(lambda d: faq.find_element(By.TAG_NAME, "dd").is_displayed())
    assert "不包含健康体检人次。" in faq.text
    _shot(driver, "entry_faq")
