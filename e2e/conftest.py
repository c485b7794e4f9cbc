"""Browser fixtures shared by every end-to-end test: Debian's Chromium driven by Playwright.

Each test takes pytest-django's ``live_server`` (with ``transactional_db``) and is marked
``@pytest.mark.browser``; ``make test`` runs them once, on PostgreSQL, without xdist.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# itself (fixtures, reading the SMS outbox) would otherwise be refused as "async unsafe".
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PROJECT_DIR = Path(__file__).resolve().parent.parent
SCREENSHOT_DIR = PROJECT_DIR / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 10_000

# WeChat's in-app browser on Android: what the H5 portal is built for.
WECHAT_ANDROID_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.103 Mobile Safari/537.36 XWEB/1300259 "
    "MMWEBSDK/20241103 MMWEBID/1234 MicroMessenger/8.0.54.2760(0x28003636) WeChat/arm64 Weixin "
    "NetType/WIFI Language/zh_CN ABI/arm64"
)
PHONE_CONTEXT = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": WECHAT_ANDROID_UA,
}
DESKTOP_CONTEXT = {"viewport": {"width": 1440, "height": 900}}


@pytest.fixture(scope="session")
def playwright_driver():
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver) -> Browser:
    """One headless Chromium for the whole run."""
    chromium = playwright_driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def page_factory(browser):
    """``page_factory(**context_options) -> Page`` in a fresh context (own cookies), closed after the test.

    Chinese locale and Shanghai time unless overridden; every page's uncaught JavaScript errors
    are collected in ``page_factory.js_errors`` so a test can assert there were none.
    """
    contexts = []
    js_errors: list[str] = []

    def make(**context_options) -> Page:
        options = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai", **context_options}
        context = browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: js_errors.append(str(error)))
        return page

    make.js_errors = js_errors
    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def phone_page(page_factory) -> Page:
    """A 390×844 touch phone in WeChat's Android in-app browser, zh-CN."""
    return page_factory(**PHONE_CONTEXT)


@pytest.fixture
def desktop_page(page_factory) -> Page:
    """A 1440×900 desktop browser, zh-CN (the staff console)."""
    return page_factory(**DESKTOP_CONTEXT)


@pytest.fixture
def screenshot_path():
    """``screenshot_path("name.png")`` → test-artifacts/screenshots/name.png (directory created)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return lambda name: SCREENSHOT_DIR / name
