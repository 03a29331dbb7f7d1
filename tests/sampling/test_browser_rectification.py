"""In a real browser (headless Debian Chromium): the national analyst samples, raises an item on one field, the
alliance's filler corrects it from the home page, the analyst sees the diff and closes it."""

from __future__ import annotations

import pytest

from reporting.models import Status, Submission
from sampling.models import Batch, Item
from tests.browser import click, login, wait
from tests.cast import PASSWORD

from .conftest import free_field

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/sampling-journey-{}.png"


def _message(driver) -> str:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('main .alert')).map(e => e.innerText).join(' ');") or ""


def test_it_walks_sample_raise_correct_diff_and_close(live_server, browser, cast, approved):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    submission = approved("3701001", "t3")
    field = free_field(submission)
    old = submission.values[field]

    # The national analyst previews a batch (seed and reasons shown) and commits it.
    login(browser, live_server, "100000-fx", PASSWORD)
    browser.get(f"{live_server.url}/sampling/")
    size = browser.find_element(By.ID, "f-size")
    size.clear()
    size.send_keys("1")
    seed = browser.find_element(By.ID, "f-seed")
    seed.clear()
    seed.send_keys("2026")
    click(browser, browser.find_element(By.ID, "preview-button"))
    wait(browser).until(lambda d: "/sampling/preview/" in d.current_url)
    assert browser.find_element(By.CSS_SELECTOR, 'tr.pick-row[data-unit="3701001"]')
    assert "2026" in browser.find_element(By.ID, "params").text
    browser.save_screenshot(SHOTS.format("1-preview"))
    click(browser, browser.find_element(By.ID, "commit-button"))
    wait(browser).until(lambda d: "/sampling/batches/" in d.current_url)
    batch = Batch.objects.get()
    assert batch.seed == 2026

    # … opens the sampled form and raises an item on one field.
    click(browser, browser.find_element(By.CSS_SELECTOR, 'tr.sample-row[data-unit="3701001"] a.btn'))
    wait(browser).until(lambda d: "/sampling/samples/" in d.current_url)
    Select(browser.find_element(By.ID, "r-field")).select_by_value(f"|{field}")
    browser.find_element(By.ID, "r-text").send_keys("该数与医院统计年报不一致，请核实更正。")
    click(browser, browser.find_element(By.ID, "raise-button"))
    wait(browser).until(lambda d: "已提出整改要求" in _message(d))
    item = Item.objects.get()

    # The filler finds it on the home page and corrects the value with an explanation.
    login(browser, live_server, "3701001", PASSWORD)
    row = browser.find_element(By.CSS_SELECTOR, f'table.rectification-open tr[data-id="{item.pk}"]')
    click(browser, row.find_element(By.CSS_SELECTOR, "a.btn"))
    wait(browser).until(lambda d: f"/sampling/items/{item.pk}/" in d.current_url)
    value = browser.find_element(By.ID, "a-value")
    value.clear()
    value.send_keys(str(old + 12))
    browser.find_element(By.ID, "a-text").send_keys("已按2019年统计年报更正。")
    click(browser, browser.find_element(By.ID, "answer-button"))
    wait(browser).until(lambda d: "已提交整改答复" in _message(d))
    assert Submission.objects.get(pk=submission.pk).values[field] == old + 12

    # The analyst sees the value at sampling time against the corrected one, and closes the item.
    login(browser, live_server, "100000-fx", PASSWORD)
    browser.get(f"{live_server.url}/sampling/items/{item.pk}/")
    assert browser.find_element(By.ID, "diff-before").text == str(old)
    assert str(old + 12) in browser.find_element(By.ID, "diff-after").text
    assert "已修改" in browser.find_element(By.ID, "diff-after").text
    browser.save_screenshot(SHOTS.format("2-diff"))
    click(browser, browser.find_element(By.ID, "close-button"))
    wait(browser).until(lambda d: "已关闭" in _message(d))
    assert Item.objects.get().state == "closed"
    fresh = Submission.objects.get(pk=submission.pk)
    assert fresh.status == Status.APPROVED and fresh.snapshots.count() == 2
