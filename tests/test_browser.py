"""The producer's journey in a real browser: Playwright driving Debian's chromium.

Sign up, upload generated audio, watch it become ready (a real Celery worker
analyses it), search, play, open similar sounds, collect, download, sign out.
Screenshots of the main pages go to ``test-artifacts/``.
"""

import zipfile

import pytest
from playwright import sync_api

from tests import audio
from tests.browser import shot, wait_until
from tests.mailbox import link_in


def drop_folder(page, selector: str, folder: str, files: dict[str, bytes]) -> None:
    """Drop a folder of ``files`` on ``selector``, as a file manager would.

    A real drag from the desktop cannot be scripted, so the drop event carries
    stand-ins for the DataTransferItem entries Chromium makes (a directory
    entry whose reader answers in batches, file entries giving File objects).
    """
    page.evaluate(
        """([selector, folder, files]) => {
            const fileEntry = (name, bytes) => ({
                isFile: true, isDirectory: false, name,
                file: (ok) => ok(new File([new Uint8Array(bytes)], name)),
            });
            const children = Object.entries(files).map(([n, b]) => fileEntry(n, b));
            let served = false;
            const dir = {
                isFile: false, isDirectory: true, name: folder,
                createReader: () => ({
                    readEntries: (ok) => {
                        const batch = served ? [] : children;
                        served = true;
                        setTimeout(() => ok(batch));
                    },
                }),
            };
            const event = new Event("drop", { bubbles: true, cancelable: true });
            Object.defineProperty(event, "dataTransfer", {
                value: { items: [{ webkitGetAsEntry: () => dir }], files: [] },
            });
            document.querySelector(selector).dispatchEvent(event);
        }""",
        [selector, folder, {name: list(data) for name, data in files.items()}],
    )


@pytest.mark.django_db(transaction=True)
def test_producer_journey(browser_page, live_server, celery_worker_process, tmp_path):
    from django.core import mail
    from django.core.files.storage import default_storage
    from django.db import connections

    from accounts.models import User
    from library.models import Collection, Sample

    page, errors = browser_page
    expect = sync_api.expect
    base = live_server.url

    # Sign up.
    page.goto(f"{base}/accounts/signup/")
    page.fill("input[name=email]", "journey@example.com")
    page.fill("input[name=password1]", "a long and unusual passphrase 42")
    page.fill("input[name=password2]", "a long and unusual passphrase 42")
    page.locator("main form button[type=submit]").click()
    # Mandatory verification: the mailed link confirms the address and signs in.
    page.wait_for_url(f"{base}/accounts/confirm-email/")
    page.goto(base + link_in(mail.outbox[-1]))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"{base}/")
    expect(page.get_by_role("heading", name="Your library")).to_be_visible()
    # Similar sounds are a paid feature; the plan change itself is tested with billing.
    User.objects.filter(email="journey@example.com").update(role="pro")
    # Inside Playwright's event loop the ORM gets a connection of its own; close it now so
    # the test database can be dropped at the end.
    connections["default"].close()

    # Upload two generated WAVs, one chosen and one in a dropped folder, each with its own
    # progress bar, and watch them become ready without reloading.
    kick = audio.write(tmp_path / "journey_kick.wav", audio.kick())
    chord = audio.write(tmp_path / "warm_chord.wav", audio.chord(57, minor=True))
    page.get_by_role("link", name="Upload", exact=True).click()
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("a shopping list, not audio")
    # Choosing files starts their upload at once.
    page.set_input_files("#upload-files", [str(not_audio)])
    refused = page.locator("#upload-queue .upload-item--failed")
    expect(refused).to_contain_text("notes.wav")
    expect(refused.locator("[role=alert]")).to_contain_text("notes.wav")
    expect(page.locator("#upload-queue [data-sample]")).to_have_count(0)
    shot(page, "upload-refused")

    # Slow the upload down so both bars can be seen filling.
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 60_000},
    )
    drop_folder(
        page,
        "#dropzone",
        "pack",
        {
            "journey_kick.wav": kick.read_bytes(),
            "warm_chord.wav": chord.read_bytes(),
            "readme.txt": b"hi",
        },
    )
    expect(page.locator("#upload-chosen")).to_have_text("Uploading 2 files…")
    expect(page.locator("#upload-queue .upload-item--sending progress")).to_have_count(2)
    wait_until(
        page, "[...document.querySelectorAll('#upload-queue progress')].some(p => p.value > 0)"
    )
    shot(page, "upload-sending")
    network.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    expect(page.locator("#upload-queue [data-sample]")).to_have_count(2)
    expect(page.locator("#upload-queue")).to_contain_text("warm chord")
    expect(page.locator("#upload-queue")).not_to_contain_text("readme")
    shot(page, "upload-pending")
    expect(page.locator('#upload-queue [data-status="ready"]')).to_have_count(2, timeout=120_000)
    shot(page, "upload-ready")
    # A stored original has no URL, even for its owner on a real HTTP server.
    stored = Sample.objects.values_list("file", flat=True).first()
    connections["default"].close()
    assert default_storage.exists(stored)
    assert page.request.get(f"{base}/media/{stored}").status == 404

    page.get_by_role("link", name="Library", exact=True).click()
    expect(page.locator(".sample-row")).to_have_count(2)
    expect(page.locator(".sample-row svg.mini-wave path")).to_have_count(2)
    shot(page, "library")
    page.get_by_role("link", name="Grid", exact=True).click()
    expect(page.locator(".sample-card")).to_have_count(2)
    shot(page, "library-grid")
    page.select_option("select[name=category]", "kick")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.locator(".sample-card")).to_have_count(1)
    expect(page.locator(".sample-card")).to_contain_text("journey kick")
    page.get_by_role("link", name="List", exact=True).click()
    expect(page.locator(".sample-row")).to_have_count(1)
    page.get_by_role("link", name="Clear filters").first.click()
    expect(page.locator(".sample-row")).to_have_count(2)

    # Keyboard: space plays and stops the selected result; down moves on from the selection
    # and auditions the next one, up goes back.
    page.get_by_role("link", name="Search", exact=True).click()
    expect(page.locator(".result")).to_have_count(2)
    # Slowed down so the half-second kick is still playing while the test looks at it.
    page.evaluate("window.samplemindAudio.defaultPlaybackRate = 0.1")
    page.locator("h1").click()
    page.keyboard.press("Space")
    wait_until(page, "!window.samplemindAudio.paused")
    first = page.locator(".result").first
    expect(first.locator(".play-button")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Space")
    wait_until(page, "window.samplemindAudio.paused")
    page.keyboard.press("ArrowDown")
    second = page.locator(".result").nth(1)
    expect(second.locator(".play-button")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("ArrowUp")
    expect(first.locator(".play-button")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("ArrowDown")
    expect(second.locator(".play-button")).to_have_attribute("aria-pressed", "true")
    expect(second.locator(".play-button")).to_be_focused()
    second_id = second.get_attribute("data-sample")
    wait_until(
        page,
        f"!window.samplemindAudio.paused && window.samplemindAudio.src.includes('{second_id}')",
    )
    page.keyboard.press("Space")  # on the focused button: stops it
    wait_until(page, "window.samplemindAudio.paused")
    expect(second.locator(".play-button")).to_have_attribute("aria-pressed", "false")
    page.evaluate("window.samplemindAudio.defaultPlaybackRate = 1")

    # Search for it with a filter; facets count what matched and play in place.
    page.fill("#search-q", "journey kick")
    page.press("#search-q", "Enter")
    result = page.locator(".result", has_text="journey kick")
    expect(result).to_have_count(1)
    # "kick" is read as the category filter (query understanding); "journey" is highlighted.
    expect(result.locator("mark").first).to_have_text("journey")
    expect(page.locator(".facets")).to_contain_text("Kick")
    result.locator(".play-button").click()
    wait_until(page, "window.samplemindAudio && !window.samplemindAudio.paused")
    wait_until(page, "window.samplemindAudio.currentTime > 0")
    shot(page, "search")

    # Open it: the waveform player plays, similar sounds are listed and playable.
    result.get_by_role("link", name="journey kick").click()
    expect(page.get_by_role("heading", name="journey kick")).to_be_visible()
    expect(page.locator("canvas.wave-large")).to_be_visible()
    hero = page.locator(".sample-hero .play-button")
    hero.click()
    wait_until(page, "!window.samplemindAudio.paused")
    expect(hero).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#player-title")).to_have_text("journey kick")
    hero.click()
    similar = page.locator(".similar-item", has_text="warm chord")
    expect(similar).to_have_count(1)
    similar.locator(".play-button").click()
    wait_until(page, "!window.samplemindAudio.paused")
    shot(page, "sample")
    sample_url = page.url

    # Add it to a new collection, then the other one from the library's bulk bar.
    page.get_by_role("link", name="Collections", exact=True).click()
    page.fill("input[name=name]", "Journey picks")
    page.get_by_role("button", name="Create collection").click()
    expect(page.get_by_role("heading", name="Journey picks")).to_be_visible()
    collection_url = page.url
    page.goto(sample_url)
    page.select_option("#id_collection", label="Journey picks")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Added to “Journey picks”")
    page.get_by_role("link", name="Library", exact=True).click()
    page.get_by_label("Select warm chord").check()
    page.select_option("#bulk-action", "collect")
    page.get_by_role("button", name="Apply to ticked").click()
    expect(page.locator(".messages")).to_contain_text("Added 1 sample(s)")

    # Reorder by dragging, and by the keyboard's move buttons; both survive a reload.
    page.goto(collection_url)
    items = page.locator(".collection-item")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("journey kick")
    box = items.nth(1).bounding_box()
    items.nth(0).drag_to(items.nth(1), target_position={"x": 20, "y": box["height"] - 4})
    expect(page.locator("#order-status")).to_have_text("Order saved.")
    page.reload()
    expect(items.nth(0)).to_contain_text("warm chord")
    shot(page, "collection")
    page.get_by_role("button", name="Move journey kick up").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#order-status")).to_contain_text("Moved to position 1 of 2. Order saved.")
    expect(page.get_by_role("button", name="Move journey kick up")).to_be_focused()
    page.reload()
    expect(items.nth(0)).to_contain_text("journey kick")

    with page.expect_download() as download_info:
        page.click("#collection-download")
    archive = tmp_path / "collection.zip"
    download_info.value.save_as(archive)
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
    assert len(names) == 2
    assert all(name.endswith(".wav") for name in names)

    # Share it: make the collection and its samples public (the share flow is tested elsewhere).
    Collection.objects.filter(name="Journey picks").update(visibility="public")
    Sample.objects.update(visibility="public")
    connections["default"].close()

    # Sign out.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    if page.get_by_role("heading", name="Sign out").count():
        page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("navigation").get_by_role("link", name="Sign in")).to_be_visible()
    page.goto(f"{base}/library/")
    assert "/accounts/login/" in page.url

    # A visitor with the public link can listen, but not reorder or download.
    page.goto(collection_url)
    expect(page.locator(".collection-item")).to_have_count(2)
    expect(page.locator(".move-button")).to_have_count(0)
    page.locator(".collection-item .play-button").first.click()
    wait_until(page, "!window.samplemindAudio.paused && window.samplemindAudio.currentTime > 0")
    shot(page, "public-collection")

    # Any JavaScript error fails the journey, CSP violations included.
    assert not errors, errors
