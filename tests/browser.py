"""Shared Selenium setup for browser tests: Debian's Chromium and chromedriver, headless, never downloaded.

Make the fixture available in the test folder's conftest.py::

    from tests.browser import browser  # noqa: F401

and in a test module::

    from tests.browser import login

    pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

    def test_it_…(live_server, browser):
        login(browser, live_server, "3701001", PASSWORD)

The fixture skips the test (with the reason) when /usr/bin/chromium or /usr/bin/chromedriver is missing
(scripts/test.sh installs them: apt-get install chromium chromium-driver fonts-noto-cjk).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
MISSING = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never try to download a driver


DEFAULT_WINDOW = (1440, 1000)


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A headless Chromium (1440×1000, zh-CN) with its own throw-away profile.

    Another size: mark the test (or module) with ``@pytest.mark.window(1366, 768)``."""
    marker = request.node.get_closest_marker("window")
    width, height = marker.args if marker else DEFAULT_WINDOW
    if MISSING:
        pytest.skip(f"browser test needs {' and '.join(MISSING)} (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="fjzl-chromium-")
    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", f"--window-size={width},{height}",
                "--lang=zh-CN"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait(driver: Any, timeout: float = 15) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # A condition that reads the page while it is being replaced (after a click that posts a form) may hold an
    # element of the old page: try again on the new one instead of failing.
    return WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,))


def page_text(driver: Any, css: str = "main") -> str:
    """The text of an element of the page now shown; "" while a page is being replaced (after a click that posts a
    form the old document's nodes vanish under a reader: stale element, or "node does not belong to the
    document")."""
    from selenium.common.exceptions import WebDriverException

    try:
        return driver.execute_script("const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
                                     css) or ""
    except WebDriverException:
        return ""


def login(driver: Any, live_server: Any, username: str, password: str, next_url: str = "/") -> None:
    """Log in through the login page (after dropping any earlier session) and wait for the landing page."""
    from selenium.webdriver.common.by import By

    driver.get(f"{live_server.url}/accounts/login/")
    driver.delete_all_cookies()
    driver.get(f"{live_server.url}/accounts/login/?next={next_url}")
    driver.find_element(By.ID, "id_username").send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(driver).until(lambda d: "/accounts/login/" not in d.current_url)


def click(driver: Any, element: Any) -> None:
    """Scroll an element into view and click it (a sticky bar must not swallow the click)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)
    element.click()
