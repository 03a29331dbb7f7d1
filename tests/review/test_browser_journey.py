"""The review journey in a real browser (headless Debian Chromium): the filler submits, the city rejects with a
reason and a field comment, the filler sees both, fixes and resubmits, the city approves, the province
re-checks."""

from __future__ import annotations

import re

import pytest

from reporting.models import Status, Submission
from review.models import FieldComment
from tests import filling as demo
from tests.browser import click, login, wait
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/review-journey-{}.png"


def _free_field(submission: Submission) -> str:
    """A count field no check or "其中" relation names: changing it by one keeps the form clean."""
    definition = submission.form_version.definition
    named = set()
    for check in definition.get("checks", []):
        named |= set(re.findall(r"[a-z][a-z0-9_]*", check["expr"]))
    parts = {f["code"] for f in definition["fields"] if f.get("of")} | {
        f["of"] for f in definition["fields"] if f.get("of")}
    return next(f["code"] for f in definition["fields"]
                if f["type"] == "count" and not f.get("condition") and f["code"] not in named | parts
                and f["code"] in submission.values)


def _message(driver) -> str:
    """The page's flash messages (read in one script call: the page may be replaced meanwhile)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('main .alert')).map(e => e.innerText).join(' ');") or ""


def _open_from_queue(driver, live_server, submission: Submission, row_class: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{live_server.url}/review/queue/")
    row = driver.find_element(By.CSS_SELECTOR, f'tr.{row_class}[data-id="{submission.pk}"]')
    click(driver, row.find_element(By.CSS_SELECTOR, "a.btn"))
    wait(driver).until(lambda d: f"/review/submissions/{submission.pk}/" in d.current_url)


def _open_entry(driver, live_server, submission: Submission) -> None:
    driver.get(f"{live_server.url}/submissions/{submission.pk}/")
    wait(driver).until(lambda d: d.execute_script(
        "var e = document.getElementById('entry'); return !e || e.dataset.ready === '1';"))


def test_it_takes_a_form_from_the_filler_through_city_review_to_the_province(live_server, browser, cast):
    from selenium.webdriver.common.by import By

    submission = demo.fill_form(cast.submission(cast.jinan_urban, "t3"))
    field = _free_field(submission)
    old_value = submission.values[field]

    # The filler submits the clean draft from the data-entry page.
    login(browser, live_server, "3701001", PASSWORD)
    _open_entry(browser, live_server, submission)
    click(browser, browser.find_element(By.ID, "submit-button"))
    wait(browser).until(lambda d: "已上报" in _message(d))
    assert Submission.objects.get(pk=submission.pk).status == Status.SUBMITTED

    # The city reviewer finds it in the queue and rejects it with a reason and a comment on one field.
    login(browser, live_server, "370100-sh", PASSWORD)
    _open_from_queue(browser, live_server, submission, "queue-row")
    row = browser.find_element(By.CSS_SELECTOR, f'tr.value-row[data-field="{field}"][data-member=""]')
    click(browser, row.find_element(By.TAG_NAME, "summary"))
    row.find_element(By.TAG_NAME, "textarea").send_keys("该数与医院年报不一致，请核对。")
    reason = browser.find_element(By.ID, "reject-reason")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", reason)
    reason.send_keys("部分数据需核实，请修改后重新上报。")
    browser.save_screenshot(SHOTS.format("1-reject"))
    click(browser, browser.find_element(By.ID, "reject-button"))
    wait(browser).until(lambda d: "已驳回" in _message(d))
    assert Submission.objects.get(pk=submission.pk).status == Status.REJECTED
    assert FieldComment.objects.get(submission=submission).field_code == field

    # The filler is notified, sees the reason and the comment, fixes the value and submits again.
    login(browser, live_server, "3701001", PASSWORD)
    browser.get(f"{live_server.url}/review/notifications/")
    note = browser.find_element(By.CSS_SELECTOR, '.notification[data-verb="rejected"]')
    assert "部分数据需核实" in note.text
    click(browser, note.find_element(By.TAG_NAME, "button"))
    wait(browser).until(lambda d: f"/review/submissions/{submission.pk}/" in d.current_url)
    assert "该数与医院年报不一致，请核对。" in browser.page_source
    _open_entry(browser, live_server, submission)
    box = browser.find_element(By.ID, "submit-box")
    assert "部分数据需核实，请修改后重新上报。" in box.text
    assert "该数与医院年报不一致" in browser.find_element(By.ID, "field-comments").text  # in the list
    at_field = browser.find_element(By.CSS_SELECTOR, f'.field-row[data-key="{field}"]')
    assert "该数与医院年报不一致" in at_field.find_element(By.CSS_SELECTOR, ".field-comment-note").text  # and at it
    assert at_field.find_element(By.CSS_SELECTOR, ".comment-marker").text == "批注"
    browser.save_screenshot(SHOTS.format("2-rejected-entry"))
    entry_input = browser.find_element(By.CSS_SELECTOR, f'.field-input[data-key="{field}"]')
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", entry_input)
    entry_input.clear()
    entry_input.send_keys(str(old_value + 1))
    click(browser, browser.find_element(By.ID, "submit-button"))  # the page saves what was typed first
    wait(browser, 30).until(lambda d: "已上报" in _message(d))
    submission = Submission.objects.get(pk=submission.pk)
    assert submission.status == Status.SUBMITTED and submission.values[field] == old_value + 1

    # The city approves.
    login(browser, live_server, "370100-sh", PASSWORD)
    _open_from_queue(browser, live_server, submission, "queue-row")
    click(browser, browser.find_element(By.ID, "approve-button"))
    wait(browser).until(lambda d: "已审核通过" in _message(d))

    # The province re-checks what the city approved.
    login(browser, live_server, "370000-sh", PASSWORD)
    _open_from_queue(browser, live_server, submission, "recheck-row")
    click(browser, browser.find_element(By.ID, "recheck-button"))
    wait(browser).until(lambda d: "已复核通过" in _message(d))
    browser.save_screenshot(SHOTS.format("3-rechecked"))
    submission.refresh_from_db()
    assert submission.status == Status.RECHECKED
    history = browser.find_element(By.ID, "history").text
    for label in ("复核通过", "审核通过", "驳回", "上报"):
        assert label in history
