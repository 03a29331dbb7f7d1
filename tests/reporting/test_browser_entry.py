"""The data-entry page in a real browser (headless Debian Chromium): typed values survive going offline.

Needs /usr/bin/chromium and /usr/bin/chromedriver (scripts/test.sh installs them); Selenium Manager is never
asked to download anything.
"""

from __future__ import annotations

import pytest
from selenium.common.exceptions import NoAlertPresentException, UnexpectedAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from accounts.actions import user_create
from accounts.models import Role
from reporting import actions
from reporting.models import Submission
from tests.browser import MISSING, click, wait
from tests.cast import PASSWORD, build_cast

if MISSING:
    pytest.skip(f"browser test needs {' and '.join(MISSING)} (apt-get install chromium chromium-driver)",
                allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/entry.png"


def set_offline(driver: object, offline: bool) -> None:
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1,
    })


def field(driver: object, key: str):
    return driver.find_element(By.CSS_SELECTOR, f'.field-input[data-key="{key}"]')


def type_into(driver: object, key: str, text: str) -> None:
    el = field(driver, key)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", el)
    el.clear()
    el.send_keys(text)


def save_state(driver: object) -> str:
    return driver.find_element(By.ID, "save-state").get_attribute("data-state") or ""


def wait_saved(driver: object) -> None:
    wait(driver, 20).until(lambda d: save_state(d) == "saved"
                           and d.execute_script("return window.fjzlEntry.unsent()") == 0)


def leave_page(driver: object) -> None:
    """Navigate away; the page asks before leaving with unsent edits, and we confirm (as a user would)."""
    try:
        driver.get("about:blank")
    except UnexpectedAlertPresentException:
        pass
    try:
        driver.switch_to.alert.accept()
    except NoAlertPresentException:
        pass
    wait(driver).until(lambda d: d.current_url == "about:blank")


def log_in_and_open(driver: object, live_server, username: str, submission: Submission) -> str:
    entry_url = f"{live_server.url}/submissions/{submission.pk}/"
    driver.get(f"{live_server.url}/accounts/login/?next=/submissions/{submission.pk}/")
    driver.find_element(By.ID, "id_username").send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver).until(ec.url_to_be(entry_url))
    wait(driver).until(lambda d: d.find_element(By.ID, "entry").get_attribute("data-ready") == "1")
    return entry_url


def row(driver: object, key: str):
    return driver.find_element(By.CSS_SELECTOR, f'.field-row[data-key="{key}"]')


def test_it_keeps_values_typed_offline_and_saves_them_when_back_online(live_server, browser):
    cast = build_cast()
    user = cast.jinan_urban
    submission = cast.submission(user, "t3")
    # Log in through the login page and land on the form.
    entry_url = log_in_and_open(browser, live_server, user.username, submission)
    assert "表3 城市医联体效果评价考核表" in browser.page_source

    # Online: type a few values, full-width digits and thousands separators included.
    type_into(browser, "hospital_name", "济南测试医院")
    type_into(browser, "outpatient_visits", "１２３")
    type_into(browser, "outpatient_emergency_visits", "1,234")
    Select(field(browser, "hospital_category")).select_by_visible_text("中医医院")
    wait_saved(browser)
    submission.refresh_from_db()
    assert submission.values["hospital_name"] == "济南测试医院"
    assert submission.values["outpatient_visits"] == 123
    assert submission.values["outpatient_emergency_visits"] == 1234
    assert submission.values["hospital_category"] == "中医医院"
    # The conditional field (中医医院填写) appeared once the category was chosen.
    tcm_rows = browser.find_elements(By.CSS_SELECTOR, '.field-row[data-condition*="中医医院"]')
    assert tcm_rows and all(r.is_displayed() for r in tcm_rows)
    browser.save_screenshot(SCREENSHOT)

    # Offline: keep typing, add a member unit and fill its name.
    set_offline(browser, True)
    type_into(browser, "occupied_bed_days", "0")
    type_into(browser, "open_bed_days", "--")
    click(browser, field(browser, "outpatient_visits"))  # blur the last field so autosave tries at once
    click(browser, browser.find_element(By.ID, "member-add"))
    card = wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, "#member-list .member-card:last-child"))
    member_key = card.get_attribute("data-member-key")
    member_name = card.find_element(By.CSS_SELECTOR, '.field-input[data-key$="/hospital_name"]').get_attribute("value")
    assert member_name  # prefilled from the member unit chosen in the list
    type_into(browser, f"{member_key}/avg_daily_outpatient", "４５．５")
    click(browser, field(browser, "outpatient_visits"))
    wait(browser).until(lambda d: save_state(d) == "offline")
    state_text = browser.find_element(By.ID, "save-state").text
    assert "离线" in state_text and "已在本地保留" in state_text
    assert browser.execute_script("return window.fjzlEntry.unsent()") == 4  # 3 values + the added member
    submission.refresh_from_db()
    assert "occupied_bed_days" not in submission.values and not submission.members.exists()

    # Leave the page while still offline, come back online, open the form again.
    leave_page(browser)
    set_offline(browser, False)
    browser.get(entry_url)
    wait(browser).until(lambda d: d.find_element(By.ID, "entry").get_attribute("data-ready") == "1")
    assert field(browser, "occupied_bed_days").get_attribute("value") == "0"
    assert field(browser, "open_bed_days").get_attribute("value") == "--"
    wait_saved(browser)

    submission = Submission.objects.get(pk=submission.pk)
    assert submission.values["occupied_bed_days"] == 0
    assert submission.values["open_bed_days"] == "--"
    assert submission.values["outpatient_visits"] == 123
    assert submission.values["hospital_name"] == "济南测试医院"
    member = submission.members.get(key=member_key)
    assert member.values["hospital_name"] == member_name
    assert member.values["avg_daily_outpatient"] == 45.5
    # Nothing is left behind in the browser once the server has everything.
    assert browser.execute_script(
        "return Object.keys(localStorage).filter(k => k.startsWith('fjzl.entry.')).length") == 0


def test_it_shows_field_errors_conflicts_and_check_results_next_to_the_fields(live_server, browser):
    cast = build_cast()
    user = cast.jinan_urban
    other = user_create(acting_user=None, username="3701001-b", unit=user.unit, role=Role.FILLER,
                        password=PASSWORD, must_change_password=False, display_name="王二")
    submission = cast.submission(user, "t3")
    log_in_and_open(browser, live_server, user.username, submission)

    # A bad value is explained under its field in Chinese; the good one next to it saves.
    type_into(browser, "outpatient_visits", "abc")
    type_into(browser, "discharged_patients", "88")
    click(browser, field(browser, "hospital_name"))
    message = wait(browser).until(lambda d: row(d, "outpatient_visits").find_element(By.CSS_SELECTOR, ".msg-error"))
    assert "请填写数字" in message.text
    wait(browser).until(lambda d: Submission.objects.get(pk=submission.pk).values.get("discharged_patients") == 88)
    wait(browser).until(lambda d: "填写有误" in d.find_element(By.ID, "save-state").text)

    # Someone else saves a field meanwhile; typing over it shows both values and lets the filler choose.
    actions.submission_save(acting_user=other, submission_id=submission.pk,
                            changes=[{"field": "inpatient_admissions", "value": "500"}])
    type_into(browser, "inpatient_admissions", "600")
    click(browser, field(browser, "hospital_name"))
    box = wait(browser).until(lambda d: row(d, "inpatient_admissions").find_element(By.CSS_SELECTOR, ".msg-conflict"))
    assert "您的值：600" in box.text and "他人已保存的值：500" in box.text and "王二" in box.text
    assert save_state(browser) == "conflict"
    assert Submission.objects.get(pk=submission.pk).values["inpatient_admissions"] == 500
    click(browser, box.find_element(By.CSS_SELECTOR, '[data-resolve="mine"]'))
    wait(browser).until(lambda d: Submission.objects.get(pk=submission.pk).values["inpatient_admissions"] == 600)

    # Fix the bad value so that it breaks a 审核 rule: the hard violation shows in red at the field.
    type_into(browser, "outpatient_visits", "2000")
    type_into(browser, "outpatient_emergency_visits", "1000")
    click(browser, field(browser, "hospital_name"))
    hard = wait(browser).until(lambda d: row(d, "outpatient_visits").find_element(By.CSS_SELECTOR, ".violation-hard"))
    assert "审核" in hard.text and "须修改" in hard.text

    # A 合理性审核 rule asks for an explanation, which is saved with the form.
    type_into(browser, "occupied_bed_days", "500")
    type_into(browser, "open_bed_days", "400")
    click(browser, field(browser, "hospital_name"))
    area = wait(browser).until(lambda d: row(d, "occupied_bed_days").find_element(
        By.CSS_SELECTOR, ".violation-soft textarea.explanation"))
    driver_text = "加床收治，实际占用床日数超过开放床日数"
    click(browser, area)
    area.send_keys(driver_text)
    click(browser, field(browser, "hospital_name"))
    wait(browser).until(lambda d: Submission.objects.get(pk=submission.pk).explanations.get("t3.c21") == driver_text)
    wait(browser).until(lambda d: "已说明" in row(d, "occupied_bed_days").find_element(
        By.CSS_SELECTOR, ".violation-soft").text)
    wait_saved(browser)
    assert "审核 1 项须修改" in browser.find_element(By.ID, "check-summary").text.replace("\n", " ")

    # 审核 on demand gives the same answer.
    click(browser, browser.find_element(By.ID, "check-button"))
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#check-summary .check-time"))
