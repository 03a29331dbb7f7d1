"""The report editor in a real browser (headless Debian Chromium): autosave, the offline copy, one-click facts,
pasted tables."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import NoAlertPresentException, UnexpectedAlertPresentException
from selenium.webdriver.common.by import By

from selfassessment.models import Report
from tests import filling as demo
from tests.browser import MISSING, click, login, wait
from tests.cast import PASSWORD, build_cast

if MISSING:
    pytest.skip(f"browser test needs {' and '.join(MISSING)} (apt-get install chromium chromium-driver)",
                allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def set_offline(driver, offline: bool) -> None:
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


def editor(driver, key: str):
    return driver.find_element(By.CSS_SELECTOR, f'.report-editor[data-key="{key}"]')


def state(driver) -> str:
    return driver.find_element(By.ID, "save-state").get_attribute("data-state") or ""


def wait_saved(driver) -> None:
    wait(driver, 20).until(lambda d: state(d) == "saved" and d.execute_script("return window.fjzlReport.unsent()") == 0)


def open_editor(driver, url: str) -> None:
    driver.get(url)
    wait(driver).until(lambda d: d.find_element(By.ID, "report").get_attribute("data-ready") == "1")


def type_into(driver, key: str, text: str) -> None:
    el = editor(driver, key)
    click(driver, el)
    el.send_keys(text)


def sections(submission) -> dict:
    report = Report.objects.filter(submission=submission).first()
    return report.sections if report else {}


def test_it_autosaves_keeps_an_offline_copy_and_inserts_facts(live_server, browser):
    cast = build_cast()
    submission = demo.fill_form(cast.submission("3701001", "t3"))
    url = f"{live_server.url}/reports/submissions/{submission.pk}/"
    login(browser, live_server, "3701001", PASSWORD, f"/reports/submissions/{submission.pk}/")
    open_editor(browser, url)

    type_into(browser, "s1", "本院牵头组建城市医疗集团。")
    wait_saved(browser)
    assert "本院牵头组建城市医疗集团。" in sections(submission)["s1"]

    # a table pasted from Word keeps its structure
    el = editor(browser, "s2_1_1")
    click(browser, el)
    browser.execute_script("document.execCommand('insertHTML', false, arguments[0]);",
                           '<table class="MsoTableGrid" style="width:3cm"><tr><td>成员单位</td><td>12家</td></tr></table>')
    wait_saved(browser)
    assert "<td>成员单位</td><td>12家</td>" in sections(submission)["s2_1_1"]

    # one click inserts the indicator sentence of this section
    click(browser, browser.find_element(By.CSS_SELECTOR, '.fact-insert[data-key="s2_2_3"]'))
    wait_saved(browser)
    assert "下转" in sections(submission)["s2_2_3"] or "转诊" in sections(submission)["s2_2_3"]

    # offline: the text stays in this browser and is sent after the next load
    set_offline(browser, True)
    type_into(browser, "s3", "下一步将扩大远程会诊覆盖面。")
    wait(browser, 20).until(lambda d: state(d) == "offline")
    stored = browser.execute_script("return JSON.stringify(localStorage)")
    assert "扩大远程会诊覆盖面" in stored
    assert "扩大远程会诊覆盖面" not in sections(submission).get("s3", "")
    try:
        browser.get("about:blank")
    except UnexpectedAlertPresentException:
        pass
    try:
        browser.switch_to.alert.accept()
    except NoAlertPresentException:
        pass
    set_offline(browser, False)
    open_editor(browser, url)
    assert "扩大远程会诊覆盖面" in editor(browser, "s3").text
    wait_saved(browser)
    assert "下一步将扩大远程会诊覆盖面。" in sections(submission)["s3"]
    assert browser.execute_script("return Object.keys(localStorage).filter(k => k.startsWith('fjzl.report')).length") == 0
    assert browser.find_element(By.ID, "report-progress").text.startswith("4/")
    browser.save_screenshot("/tmp/report-editor.png")
