"""The producer's journey in a real browser: Playwright driving Debian's chromium.

Sign up, upload generated audio, watch it become ready (a real Celery worker
analyses it), search, play, open similar sounds, collect, download, sign out.
Screenshots of the main pages go to ``test-artifacts/``.
"""

import os
import time
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

from tests import audio

# Playwright's sync API runs an event loop in this thread; the test only
# touches the database between browser steps, never concurrently.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def browser_page():
    if not CHROMIUM.exists():
        pytest.fail("chromium is missing: run `make system-deps` (apt-get install chromium).")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--autoplay-policy=no-user-gesture-required",
            ],
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


def bind_worker_queues() -> None:
    """Declare the task queues again so the session's worker receives this test's tasks.

    The autouse fixture that empties the Redis database before every test also
    removes kombu's queue bindings, which the worker declared once when it
    started; without them the Redis transport drops published tasks.
    """
    from samplemind.celery import app as celery_app

    with celery_app.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in celery_app.amqp.queues.values():
            queue(channel).declare()


def wait_until(page, expression: str, timeout: float = 20.0) -> None:
    """Poll a JavaScript expression (``wait_for_function`` needs eval; the CSP forbids it)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(100)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_producer_journey(browser_page, live_server, celery_worker_process, tmp_path):
    from django.db import connections

    from accounts.models import User

    page, errors = browser_page
    bind_worker_queues()
    expect = sync_api.expect
    base = live_server.url

    # Sign up.
    page.goto(f"{base}/accounts/signup/")
    page.fill("input[name=email]", "journey@example.com")
    page.fill("input[name=password1]", "a long and unusual passphrase 42")
    page.fill("input[name=password2]", "a long and unusual passphrase 42")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")
    expect(page.get_by_role("heading", name="Your library")).to_be_visible()
    # Similar sounds are a paid feature; the plan change itself is tested with billing.
    User.objects.filter(email="journey@example.com").update(role="pro")
    # Inside Playwright's event loop the ORM gets a connection of its own; close it now so
    # the test database can be dropped at the end.
    connections["default"].close()

    # Upload two generated WAVs and watch them become ready without reloading.
    kick = audio.write(tmp_path / "journey_kick.wav", audio.kick())
    chord = audio.write(tmp_path / "warm_chord.wav", audio.chord(57, minor=True))
    page.get_by_role("link", name="Upload", exact=True).click()
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("a shopping list, not audio")
    page.set_input_files("#upload-files", [str(not_audio)])
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#upload-results [role=alert]")).to_contain_text("notes.wav")
    expect(page.locator("#upload-results .upload-item")).to_have_count(0)
    shot(page, "upload-refused")
    page.set_input_files("#upload-files", [str(kick), str(chord)])
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#upload-results .upload-item")).to_have_count(2)
    shot(page, "upload-pending")
    expect(page.locator('#upload-results [data-status="ready"]')).to_have_count(2, timeout=120_000)
    shot(page, "upload-ready")

    page.get_by_role("link", name="Library", exact=True).click()
    expect(page.locator(".sample-row")).to_have_count(2)
    shot(page, "library")

    # Search for it and play it in place.
    page.get_by_role("link", name="Search", exact=True).click()
    page.fill("#search-q", "journey kick")
    page.press("#search-q", "Enter")
    result = page.locator(".result", has_text="journey kick")
    expect(result).to_have_count(1)
    result.locator(".play-button").click()
    wait_until(page, "window.samplemindAudio && !window.samplemindAudio.paused")
    wait_until(page, "window.samplemindAudio.currentTime > 0")
    shot(page, "search")

    # Open it: the waveform player plays, similar sounds are listed and playable.
    result.get_by_role("link", name="journey kick").click()
    expect(page.get_by_role("heading", name="journey kick")).to_be_visible()
    page.wait_for_selector("#waveform canvas, #waveform div", state="attached")
    page.click("#player-toggle")
    wait_until(page, "!document.getElementById('player-audio').paused")
    expect(page.locator("#player-toggle")).to_have_text("Pause")
    page.click("#player-toggle")
    similar = page.locator(".similar-item", has_text="warm chord")
    expect(similar).to_have_count(1)
    similar.locator(".play-button").click()
    wait_until(page, "!window.samplemindAudio.paused")
    shot(page, "sample")
    sample_url = page.url

    # Add it to a new collection and download the collection.
    page.get_by_role("link", name="Collections", exact=True).click()
    page.fill("input[name=name]", "Journey picks")
    page.get_by_role("button", name="Create collection").click()
    expect(page.get_by_role("heading", name="Journey picks")).to_be_visible()
    page.goto(sample_url)
    page.select_option("#id_collection", label="Journey picks")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Added to “Journey picks”")
    page.get_by_role("link", name="Collections", exact=True).click()
    page.get_by_role("link", name="Journey picks").click()
    expect(page.locator(".collection-item")).to_have_count(1)
    shot(page, "collection")
    with page.expect_download() as download_info:
        page.click("#collection-download")
    archive = tmp_path / "collection.zip"
    download_info.value.save_as(archive)
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
    assert len(names) == 1
    assert names[0].endswith(".wav")

    # Sign out.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    if page.get_by_role("heading", name="Sign out").count():
        page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.goto(f"{base}/library/")
    assert "/accounts/login/" in page.url

    assert not [e for e in errors if "Content Security Policy" in e], errors
