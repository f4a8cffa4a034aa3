"""The upload page in a real browser: a near-duplicate is refused, "Keep anyway" keeps it.

Screenshots go to ``test-artifacts/upload-keep-*.png``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from tests import audio

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's


@pytest.fixture
def browser_page():
    if not CHROMIUM.exists():
        pytest.fail("chromium is missing: run `make system-deps` (apt-get install chromium).")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        context = browser.new_context(viewport={"width": 1366, "height": 850})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.set_default_timeout(20_000)
        try:
            yield page, errors
        finally:
            context.close()
            browser.close()


@pytest.mark.django_db(transaction=True)
def test_keep_anyway_stores_the_refused_copy(browser_page, live_server, tmp_path, settings):
    from accounts.models import Role
    from library.models import Sample
    from library.services.uploads import SampleFields, Spooled, file_digest, sample_create
    from organise.models import SampleFingerprint
    from tests.factories import UserFactory

    settings.MEDIA_ROOT = str(tmp_path / "media")
    page, errors = browser_page
    owner = UserFactory(email="keeper@example.com", role=Role.PRO)
    first = audio.write(tmp_path / "Clap.wav", audio.clap())
    spooled = Spooled(
        name=first.name, path=first, sha256=file_digest(first), size=first.stat().st_size
    )
    original = sample_create(owner=owner, spooled=spooled, fields=SampleFields())
    copy = audio.write(tmp_path / "Clap louder.wav", audio.clap() * 1.3)

    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/library/upload/")
    page.set_input_files("#upload-files", [str(copy)])

    refused = page.locator("#upload-queue .upload-item--copy")
    sync_api.expect(refused).to_contain_text("sounds like “Clap”")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "upload-keep-refused.png"), full_page=True)
    refused.get_by_role("button", name="Keep anyway").click()

    sync_api.expect(page.locator("#upload-queue [data-sample]")).to_have_count(1)
    sync_api.expect(page.locator("#upload-queue .upload-item--copy")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "upload-keep-kept.png"), full_page=True)
    kept = Sample.objects.get(owner=owner, name="Clap louder")
    assert SampleFingerprint.objects.get(sample=kept).near_duplicate_of_id == original.pk
    assert errors == []
