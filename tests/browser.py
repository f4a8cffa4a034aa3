"""What every browser test shares: Debian's chromium through Playwright, and small helpers.

The ``browser_page`` fixture (in ``tests/conftest.py``) yields a headless page
(1366x850, downloads accepted, autoplay allowed as a click would) and the
JavaScript errors it reports. A missing chromium fails the test; it never skips.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright import sync_api

# Playwright's sync API runs an event loop in this thread; the tests only
# touch the database between browser steps, never concurrently.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


def chromium_page() -> Iterator[tuple[sync_api.Page, list[str]]]:
    """A headless chromium page and the list its console errors and page errors go to."""
    if not CHROMIUM.exists():
        pytest.fail("chromium is missing: run `make system-deps` (apt-get install chromium).")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        context = browser.new_context(
            viewport={"width": 1366, "height": 850}, accept_downloads=True
        )
        page = context.new_page()
        errors: list[str] = []
        page.on(
            "console",
            lambda m: (
                errors.append(f"{m.location.get('url')}: {m.text}") if m.type == "error" else None
            ),
        )
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.set_default_timeout(20_000)
        try:
            yield page, errors
        finally:
            context.close()
            browser.close()


def wait_until(page, expression: str, timeout: float = 20.0) -> None:
    """Poll a JavaScript expression (``wait_for_function`` needs eval; the CSP forbids it)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(50)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, base: str, email: str, password: str | None = None) -> None:
    """Sign in through the login form, as a person does, and land on the home page.

    Without ``password``, the one every factory-made account has.
    """
    if password is None:
        from tests.factories.accounts import PASSWORD as password
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")
