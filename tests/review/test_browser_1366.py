"""The pages at 1366×768 (the old manual's minimum resolution) in headless Chromium: the 上报 card follows every
审核 and stays in view without an inner scrollbar, a reviewer's comment shows at its field, the reviewer's field
picker is not cut off, the error pages are Chinese with the navigation (DEBUG off), and Swagger UI works with
every host but the platform blocked."""

from __future__ import annotations

import pytest

from review import actions
from tests.browser import click, login, wait
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.window(1366, 768)]

SHOTS = "/tmp/ui-1366-{}.png"

IN_VIEW = """
const r = arguments[0].getBoundingClientRect();
return r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth;
"""
# Elements of the side column that scroll on their own (content hidden behind an inner scrollbar).
INNER_SCROLLERS = """
return Array.from(document.querySelectorAll('aside, aside *')).filter(e => {
  const s = getComputedStyle(e);
  return /(auto|scroll)/.test(s.overflowY) && e.scrollHeight > e.clientHeight + 1;
}).map(e => e.id || e.className);
"""


def _open_entry(driver, live_server, submission) -> None:
    driver.get(f"{live_server.url}/submissions/{submission.pk}/")
    wait(driver).until(lambda d: d.execute_script(
        "var e = document.getElementById('entry'); return e && e.dataset.ready === '1';"))


def _check(driver) -> str:
    """Press 审核 and wait for the verdict of that check; returns the 上报 card's text."""
    from selenium.webdriver.common.by import By

    driver.execute_script("document.getElementById('submit-box').dataset.stale = '1';")
    click(driver, driver.find_element(By.ID, "check-button"))
    wait(driver, 30).until(lambda d: d.execute_script(
        "var b = document.getElementById('submit-box'); return b && b.dataset.stale !== '1';"))
    return driver.find_element(By.ID, "submit-box").text


def _type(driver, key: str, value: str) -> None:
    from selenium.webdriver.common.by import By

    el = driver.find_element(By.CSS_SELECTOR, f'.field-input[data-key="{key}"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", el)
    el.clear()
    el.send_keys(value)


def _saved(driver) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "save-button").click()
    wait(driver, 30).until(lambda d: d.execute_script("return window.fjzlEntry.unsent()") == 0
                           and d.find_element(By.ID, "save-state").get_attribute("data-state") == "saved")


def test_it_keeps_the_submit_card_in_step_with_every_check_and_in_view(live_server, browser, cast, fill):
    from selenium.webdriver.common.by import By

    submission = fill(cast.jinan_urban, "t3")
    login(browser, live_server, cast.jinan_urban.username, PASSWORD)
    _open_entry(browser, live_server, submission)

    text = _check(browser)
    assert "未发现审核问题，可以上报" in text

    _type(browser, "occupied_bed_days", "500")
    _type(browser, "open_bed_days", "400")
    _saved(browser)
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight / 2);")  # mid-form, as a clerk is
    text = _check(browser)
    assert "须填写说明" in text and "可以上报" not in text
    box = browser.find_element(By.ID, "submit-box")
    assert browser.execute_script(IN_VIEW, box)  # the verdict stays in view while the form scrolls
    assert browser.execute_script(IN_VIEW, browser.find_element(By.ID, "submit-button"))
    assert browser.execute_script(INNER_SCROLLERS) == []
    listed = browser.find_element(By.ID, "check-summary").text
    assert "须填写说明" in listed  # the list says the same as the card
    browser.save_screenshot(SHOTS.format("soft"))

    for area in browser.find_elements(By.CSS_SELECTOR, ".violation-soft textarea.explanation"):
        browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", area)
        area.send_keys("加床收治，实际占用床日数超过开放床日数")
    _saved(browser)
    text = _check(browser)
    assert "可以上报" in text and "已填写说明" in text and "未发现审核问题" not in text

    _type(browser, "outpatient_visits", "2000")
    _type(browser, "outpatient_emergency_visits", "1000")
    _saved(browser)
    text = _check(browser)
    assert "须修改" in text and "可以上报" not in text


def test_it_shows_a_reviewers_comment_at_its_field_and_the_whole_field_picker(live_server, browser, cast, fill):
    from selenium.webdriver.common.by import By

    submission = fill(cast.jinan_urban, "t3", state="submitted")
    login(browser, live_server, cast.jinan_reviewer.username, PASSWORD)
    browser.get(f"{live_server.url}/submissions/{submission.pk}/")
    picker = wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, "#reject-form .comment-field-picker"))
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", picker)
    assert picker.size["width"] >= 200  # "批注指标（选填）" and the field labels are readable, not cut
    assert browser.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth + 1;", picker)
    browser.save_screenshot(SHOTS.format("reviewer"))

    actions.submission_reject(acting_user=cast.jinan_reviewer, submission_id=submission.pk, reason="请核实门诊数据",
                              comments=[{"field": "outpatient_visits", "text": "门诊人次与年报不一致"}])
    login(browser, live_server, cast.jinan_urban.username, PASSWORD)
    _open_entry(browser, live_server, submission)
    row = browser.find_element(By.CSS_SELECTOR, '.field-row[data-key="outpatient_visits"]')
    note = row.find_element(By.CSS_SELECTOR, ".field-comment-note")
    assert "门诊人次与年报不一致" in note.text and row.find_element(By.CSS_SELECTOR, ".comment-marker").is_displayed()
    assert "请核实门诊数据" in browser.find_element(By.ID, "submit-box").text
    link = browser.find_element(By.CSS_SELECTOR, '#field-comments a[data-goto-field="outpatient_visits"]')
    browser.execute_script("window.scrollTo(0, 0);")
    click(browser, link)
    wait(browser).until(lambda d: d.execute_script(IN_VIEW, row))  # the list leads to the field
    browser.save_screenshot(SHOTS.format("comment"))


def test_it_shows_chinese_error_pages_with_the_navigation(live_server, browser, cast, settings):
    from selenium.webdriver.common.by import By

    settings.DEBUG = False
    login(browser, live_server, cast.jinan_urban.username, PASSWORD)
    browser.get(f"{live_server.url}/no/such/page/")
    assert "404 页面不存在" in browser.find_element(By.ID, "error-404").text
    assert browser.find_element(By.ID, "nav-password").is_displayed()
    browser.get(f"{live_server.url}/review/queue/")
    assert "403 无权访问" in browser.find_element(By.ID, "error-403").text
    other = cast.submission("3702001", "t3")
    browser.get(f"{live_server.url}/submissions/{other.pk}/")
    assert browser.find_elements(By.ID, "error-404")
    browser.save_screenshot(SHOTS.format("404"))


def test_it_renders_swagger_with_every_other_host_blocked(live_server, browser, cast):
    from selenium.webdriver.common.by import By

    assert "://localhost:" in live_server.url  # the blocking patterns rely on a host without dots
    browser.execute_cdp_cmd("Network.enable", {})
    # Any https URL, and any URL whose host has a dot (every outside host; the platform is "localhost").
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["https://*", "*://*.*/*", "*://*.*:*"]})
    login(browser, live_server, cast.jinan_reviewer.username, PASSWORD)
    browser.get(f"{live_server.url}/api/docs/")
    title = wait(browser, 30).until(lambda d: d.find_element(By.CSS_SELECTOR, ".swagger-ui .info .title"))
    assert "分级诊疗制度建设信息平台 API" in title.text
    assert wait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
    browser.save_screenshot(SHOTS.format("swagger"))


def test_it_fills_a_compact_member_card_from_the_template_when_opened(live_server, browser, cast, fill):
    from selenium.webdriver.common.by import By

    submission = fill(cast.jinan_urban, "t3")
    entry = submission.members.order_by("position").first()
    login(browser, live_server, cast.jinan_urban.username, PASSWORD)
    _open_entry(browser, live_server, submission)
    card = browser.find_element(By.CSS_SELECTOR, f'.member-card[data-member-key="{entry.key}"]')
    assert not card.find_elements(By.CSS_SELECTOR, ".field-input")  # sent as a header only
    click(browser, card.find_element(By.CSS_SELECTOR, ".member-title"))
    name = wait(browser).until(lambda d: card.find_element(By.CSS_SELECTOR, '.field-input[data-key$="/hospital_name"]'))
    assert name.get_attribute("value") == entry.values["hospital_name"]
    assert card.find_element(By.CSS_SELECTOR, ".member-title").text == entry.values["hospital_name"]
    progress = card.find_element(By.CSS_SELECTOR, ".member-progress").text
    filled, required = (int(x) for x in progress.split("/"))
    assert required > 0 and filled == required  # the demo fills every required member field


def test_it_renders_redoc_styled_under_the_content_security_policy(live_server, browser, cast):
    from selenium.webdriver.common.by import By

    login(browser, live_server, cast.jinan_reviewer.username, PASSWORD)
    browser.get(f"{live_server.url}/api/redoc/")
    menu = wait(browser, 30).until(lambda d: d.find_element(By.CSS_SELECTOR, ".menu-content"))
    wait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".api-content h1"))
    # ReDoc styles itself with <style> elements it creates: refused by the CSP, the menu is a full-width block
    # on top of the page instead of the left column.
    assert menu.size["width"] < browser.get_window_size()["width"] / 2
    # Nothing of ReDoc's own is refused (its "powered by" logo from cdn.redoc.ly is, rightly: no outside hosts).
    refused = [e["message"] for e in browser.get_log("browser")
               if e.get("source") == "security" and "cdn.redoc.ly" not in e.get("message", "")]
    assert refused == []
    browser.save_screenshot(SHOTS.format("redoc"))


NAV_LAYOUT = """
const links = Array.from(document.querySelectorAll('.navbar-nav .nav-link, .nav-account a, .nav-account button'));
const nav = document.querySelector('nav.navbar').getBoundingClientRect();
return {
  broken: links.filter(a => a.getClientRects().length > 1 || a.getBoundingClientRect().height > 40)
               .map(a => a.textContent.trim()),
  outside: links.filter(a => a.getBoundingClientRect().right > window.innerWidth).map(a => a.textContent.trim()),
  height: nav.height,
};
"""


def test_it_keeps_every_header_link_on_one_line_for_the_busiest_roles(live_server, browser, cast):
    for user in (cast.analyst, cast.jinan_reviewer, cast.jinan_urban):
        login(browser, live_server, user.username, PASSWORD)
        browser.get(f"{live_server.url}/")
        layout = browser.execute_script(NAV_LAYOUT)
        assert layout["broken"] == [] and layout["outside"] == [], (user.username, layout)
        assert layout["height"] < 70, (user.username, layout)
        browser.delete_all_cookies()
    browser.save_screenshot(SHOTS.format("header"))
