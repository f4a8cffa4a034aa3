"""Listening in a real browser (Playwright + Debian's chromium): the player bar, the keys,
seeking, byte ranges, folder uploads, zip names, the public-link warning, API key scopes,
accessibility (axe-core, vendored from npm) and the first load's weight and speed.

Screenshots of every page go to ``test-artifacts/listening-*.png``.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from playwright import sync_api

from tests import audio
from tests.browser import shot, sign_in, wait_until

AXE = Path(settings.BASE_DIR) / "tests" / "vendor" / "axe.min.js"
PASSWORD = "a long and unusual passphrase 42"
# What a first visit may download: the page's scripts and stylesheets together.
FIRST_LOAD_BUDGET = 300 * 1024
INTERACTIVE_BUDGET_S = 1.0


def make_producer(email: str, role: str = "pro"):
    from allauth.account.models import EmailAddress

    from tests.factories import UserFactory

    user = UserFactory(email=email, role=role, display_name="Listener")
    user.set_password(PASSWORD)
    user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def wav_bytes(samples, fmt: str = "wav") -> bytes:
    import soundfile as sf

    buffer = io.BytesIO()
    kind = audio.FORMATS[fmt]
    sf.write(buffer, samples, audio.SR, format=kind["format"], subtype=kind["subtype"])
    return buffer.getvalue()


def peaks_of(samples, count: int = 800) -> list[float]:
    import numpy as np

    chunks = np.array_split(np.abs(samples), count)
    top = max(float(np.max(samples)), 1e-9)
    return [round(float(np.max(c)) / top, 3) if len(c) else 0.0 for c in chunks]


def seed_shots(owner) -> list:
    """Five short one-shots and one long pad, stored as analysed (the worker is not needed)."""
    from django.core.files.base import ContentFile

    from tests.factories import SampleFactory

    made = []
    for index in range(5):
        sound = audio.tone(220 * (index + 1), seconds=0.25)
        made.append(
            SampleFactory(
                owner=owner,
                name=f"Shot {index + 1}",
                original_filename=f"shot_{index + 1}.wav",
                file__filename=f"shot_{index + 1}.wav",
                file__data=wav_bytes(sound),
                duration=0.25,
                category="percussion",
                is_loop=False,
                waveform=peaks_of(sound),
            )
        )
    pad = audio.pad(seconds=6.0)
    long_one = SampleFactory(
        owner=owner,
        name="Long pad",
        original_filename="long_pad.wav",
        file__filename="long_pad.wav",
        file__data=wav_bytes(pad),
        duration=6.0,
        category="pad",
        key="A",
        mode="major",
        is_loop=False,
        waveform=peaks_of(pad),
    )
    long_one.preview.save("p.ogg", ContentFile(wav_bytes(pad, "ogg")), save=True)
    return made + [long_one]


def nested_drop(page, selector: str, tree: dict) -> None:
    """Drop a folder tree on ``selector``: ``tree`` maps names to bytes or to sub-trees.

    A real drag from the desktop cannot be scripted, so the drop carries stand-ins for
    Chromium's DataTransferItem entries (directory readers answering in batches).
    """

    def encode(node):
        if isinstance(node, dict):
            return {name: encode(child) for name, child in node.items()}
        return list(node)

    page.evaluate(
        """([selector, tree]) => {
            const make = (name, node) => {
                if (Array.isArray(node)) {
                    return { isFile: true, isDirectory: false, name,
                             file: (ok) => ok(new File([new Uint8Array(node)], name)) };
                }
                const children = Object.entries(node).map(([n, c]) => make(n, c));
                return { isFile: false, isDirectory: true, name,
                         createReader: () => { let served = false; return {
                             readEntries: (ok) => { const batch = served ? [] : children;
                                                    served = true; setTimeout(() => ok(batch)); },
                         }; } };
            };
            const [name, node] = Object.entries(tree)[0];
            const event = new Event("drop", { bubbles: true, cancelable: true });
            Object.defineProperty(event, "dataTransfer", {
                value: { items: [{ webkitGetAsEntry: () => make(name, node) }], files: [] },
            });
            document.querySelector(selector).dispatchEvent(event);
        }""",
        [selector, encode(tree)],
    )


def axe_check(page, name: str) -> list[dict]:
    """Run axe-core on the page; return its serious and critical violations."""
    # Evaluated by the browser's debugger protocol: a <script> tag would break the site's CSP.
    if not page.evaluate("!!window.axe"):
        page.evaluate(AXE.read_text() + "\n;true")
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }"
    )
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    return [{**v, "page": name} for v in bad]


@pytest.mark.django_db(transaction=True)
def test_listening_journey(browser_page, live_server, celery_worker_process, tmp_path):
    from django.db import connections

    from library.models import Collection, Sample

    page, errors = browser_page
    expect = sync_api.expect
    base = live_server.url
    violations: list[dict] = []

    owner = make_producer("listener@example.com")
    samples = seed_shots(owner)
    long_pad = samples[-1]
    connections["default"].close()
    sign_in(page, base, "listener@example.com", PASSWORD)

    # The library: dense rows with waveforms, no "Ready" badges, human labels.
    rows = page.locator(".sample-row")
    expect(rows).to_have_count(6)
    expect(page.locator(".sample-row svg.mini-wave path")).to_have_count(6)
    expect(page.locator(".sample-row .status")).to_have_count(0)
    expect(page.locator(".sample-row", has_text="Long pad")).to_contain_text("A major")
    violations += axe_check(page, "library")
    shot(page, "listening-library")
    # The filter panel folds away for a full-width list, and stays folded on the next page.
    toggle = page.locator(".panel-toggle")
    toggle.click()
    expect(page.locator("#side-panel")).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.reload()
    expect(page.locator("#side-panel")).to_be_hidden()
    shot(page, "listening-library-full-width")
    page.locator(".panel-toggle").click()
    expect(page.locator("#side-panel")).to_be_visible()

    # ↓ through five one-shots: each plays in order, its row highlighted, also after the
    # previous one has finished (the bug: ↓ after a finished one-shot restarted at row 0).
    page.goto(f"{base}/library/?sort=duration")
    expect(rows.last).to_contain_text("Long pad")
    ids = [rows.nth(i).get_attribute("data-sample") for i in range(5)]
    names = [rows.nth(i).locator(".cell-name a").inner_text() for i in range(5)]
    assert sorted(names) == [f"Shot {n}" for n in range(1, 6)]
    page.evaluate(
        "window.__played = [];"
        "window.samplemindAudio.addEventListener('playing', () =>"
        " window.__played.push(window.samplemindAudio.src.split('/').slice(-2)[0]));"
    )
    page.locator("h1").click()
    for index, sample_id in enumerate(ids):
        page.keyboard.press("ArrowDown")
        row = page.locator(f'.sample-row[data-sample="{sample_id}"]')
        expect(row).to_have_attribute("aria-current", "true")
        expect(row).to_have_class(re.compile("is-selected"))
        expect(page.locator(".sample-row.is-selected")).to_have_count(1)
        expect(page.locator("#player-title")).to_have_text(names[index])
        wait_until(page, "window.samplemindAudio.ended")
        if index == 2:
            shot(page, "listening-library-selected")
    assert page.evaluate("window.__played") == ids

    # Seeking: the long pad's stored length shows at once; a click on the player's
    # waveform plays from there, and a drag moves the position.
    page.locator(f'.sample-row[data-sample="{long_pad.pk}"] .play-button').click()
    expect(page.locator("#player-time")).to_contain_text("/ 0:06.0")
    wait_until(page, "!window.samplemindAudio.paused")
    wave = page.locator("#player-wave").bounding_box()
    middle_y = wave["y"] + wave["height"] / 2
    page.mouse.click(wave["x"] + wave["width"] * 0.5, middle_y)
    position = page.evaluate("window.samplemindAudio.currentTime")
    assert 2.9 <= position <= 3.6, position
    page.mouse.move(wave["x"] + wave["width"] * 0.1, middle_y)
    page.mouse.down()
    page.mouse.move(wave["x"] + wave["width"] * 0.8, middle_y, steps=5)
    page.mouse.up()
    position = page.evaluate("window.samplemindAudio.currentTime")
    assert 4.7 <= position <= 5.3, position
    # ← and → seek by a tenth; a row's small waveform seeks too.
    page.locator("h1").click()
    before = page.evaluate("window.samplemindAudio.currentTime")
    page.keyboard.press("ArrowLeft")
    after = page.evaluate("window.samplemindAudio.currentTime")
    assert before - 0.8 <= after <= before - 0.4, (before, after)
    box = page.locator(f'.sample-row[data-sample="{long_pad.pk}"] .mini-wave-box').bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] / 2)
    position = page.evaluate("window.samplemindAudio.currentTime")
    assert 1.3 <= position <= 1.9, position
    wait_until(page, "window.samplemindAudio.currentTime > 1.6")
    shot(page, "listening-player-seek")

    # Loop and the volume stay as set; space stops.
    page.keyboard.press("l")
    expect(page.locator("#player-loop")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.samplemindAudio.loop")
    page.keyboard.press("l")
    expect(page.locator("#player-loop")).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("Space")
    wait_until(page, "window.samplemindAudio.paused")
    expect(page.locator("#player-play")).to_have_attribute("aria-pressed", "false")

    # The preview answers a byte range with 206 and Accept-Ranges.
    preview = f"{base}/library/samples/{long_pad.pk}/preview"
    ranged = page.request.get(preview, headers={"Range": "bytes=0-1023"})
    assert ranged.status == 206
    assert ranged.headers["accept-ranges"] == "bytes"
    assert re.fullmatch(r"bytes 0-1023/\d+", ranged.headers["content-range"])
    assert len(ranged.body()) == 1024
    assert page.request.get(preview).headers["accept-ranges"] == "bytes"

    # Keys: ? lists them, / goes to the search box, enter opens the selected sample.
    page.locator("h1").click()
    page.keyboard.press("?")
    expect(page.locator("#keys-help")).to_be_visible()
    expect(page.locator("#keys-help")).to_contain_text("Seek back / forward")
    violations += axe_check(page, "keys help")
    shot(page, "listening-keys-help")
    page.keyboard.press("Escape")
    expect(page.locator("#keys-help")).to_be_hidden()
    page.keyboard.press("/")
    expect(page.locator("#library-q")).to_be_focused()
    page.keyboard.press("Escape")
    page.locator("h1").click()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/library/samples/"))
    expect(page.locator("canvas.wave-large")).to_be_visible()
    violations += axe_check(page, "sample")
    shot(page, "listening-sample")

    # The light theme is a click away and remembered.
    page.get_by_role("button", name="Light theme").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    page.goto(f"{base}/library/")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    violations += axe_check(page, "library (light)")
    shot(page, "listening-library-light")
    page.get_by_role("button", name="Dark theme").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")

    # Upload a folder with subfolders, asking for a collection per top folder: it starts at
    # once, folders become tags, the summary counts ready, duplicates and refused files.
    kick = wav_bytes(audio.kick())
    page.goto(f"{base}/library/upload/")
    violations += axe_check(page, "upload")
    shot(page, "listening-upload")
    page.check("#upload-collections")
    nested_drop(
        page,
        "#dropzone",
        {
            "Pack": {
                "Drums": {
                    "kick_a.wav": kick,
                    "Snares": {"snare_a.wav": wav_bytes(audio.snare())},
                },
                "Bass": {"bass_a.wav": wav_bytes(audio.tone(55, seconds=1.0))},
                "kick_copy.wav": kick,
                "broken.wav": b"not audio",
                "readme.txt": b"hello",
            }
        },
    )
    expect(page.locator("#upload-queue .upload-item")).to_have_count(5)
    expect(page.locator("#upload-queue")).not_to_contain_text("readme")
    summary = page.locator("#upload-summary-box")
    expect(summary).to_have_attribute("data-finished", "true", timeout=120_000)
    expect(page.locator("#summary-ready strong")).to_have_text("3")
    expect(page.locator("#summary-duplicates strong")).to_have_text("1")
    expect(page.locator("#summary-refused strong")).to_have_text("1")
    expect(page.locator("#summary-refusals")).to_contain_text("Pack/broken.wav")
    # Every file keeps its row: three samples, the duplicate and the refused one.
    queue = page.locator("#upload-queue .upload-item")
    expect(queue).to_have_count(5)
    expect(page.locator("#upload-queue .upload-item[data-sample]")).to_have_count(3)
    violations += axe_check(page, "upload summary")
    shot(page, "listening-upload-summary")
    snare = Sample.objects.get(owner=owner, name="snare a")
    assert snare.tags == ["pack", "drums", "snares"]
    pack = Collection.objects.get(owner=owner, name="Pack")
    connections["default"].close()
    # The summary stays reachable from its own page.
    page.get_by_role("link", name="This upload's page").click()
    expect(page.locator("#summary-ready strong")).to_have_text("3")
    expect(page.locator(".sample-row")).to_have_count(3)
    shot(page, "listening-upload-batch")
    # "Choose a folder" (webkitdirectory) sends the folder's paths too.
    chosen = tmp_path / "More"
    (chosen / "Loops").mkdir(parents=True)
    (chosen / "Loops" / "hat_a.wav").write_bytes(wav_bytes(audio.hihat()))
    page.goto(f"{base}/library/upload/")
    expect(page.locator("#recent-uploads-heading")).to_be_visible()
    page.set_input_files("#upload-folder", str(chosen))
    expect(page.locator("#upload-queue .upload-item[data-sample]")).to_have_count(1)
    expect(page.locator("#upload-summary-box")).to_have_attribute(
        "data-finished", "true", timeout=120_000
    )
    hat = Sample.objects.get(owner=owner, name="hat a")
    assert hat.tags == ["more", "loops"]
    assert hat.source_path == "More/Loops/hat_a.wav"
    assert not Collection.objects.filter(owner=owner, name="More").exists()
    connections["default"].close()

    # The collection made from the top folder: the zip keeps names and folders.
    page.goto(f"{base}/library/collections/{pack.pk}/")
    expect(page.locator(".collection-item")).to_have_count(3)
    expect(page.locator(".collection-item svg.mini-wave")).to_have_count(3)
    with page.expect_download() as download_info:
        page.click("#collection-download")
    archive = tmp_path / "pack.zip"
    download_info.value.save_as(archive)
    with zipfile.ZipFile(archive) as bundle:
        names = set(bundle.namelist())
    assert names == {
        "Pack/Drums/kick_a.wav",
        "Pack/Drums/Snares/snare_a.wav",
        "Pack/Bass/bass_a.wav",
    }

    # Sharing it warns that its private samples would be hidden; one click makes them public.
    page.locator("summary", has_text="Rename or share").click()
    page.select_option("#id_visibility", "public")
    page.get_by_role("button", name="Save collection").click()
    warning = page.locator("#hidden-warning")
    expect(warning).to_contain_text("3 of these samples are private")
    violations += axe_check(page, "collection")
    shot(page, "listening-collection-warning")
    page.get_by_role("button", name="Make these public").click()
    expect(page.locator(".messages")).to_contain_text("Made 3 samples public")
    expect(warning).to_have_count(0)
    shot(page, "listening-collection")

    # API keys: only the ticked scopes, an expiry, a copy button, revoking asks first.
    page.goto(f"{base}/account/api-keys/")
    page.fill("#id_name", "Sampler script")
    expect(page.get_by_label("Search", exact=True)).to_be_checked()
    page.get_by_label("Upload samples").check()
    page.select_option("#id_expires", "90")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#new-secret")).to_have_value(re.compile(r"^sm_live_"))
    page.click("#copy-secret")
    expect(page.locator("#copy-secret")).to_have_text("Copied")
    row = page.locator(".api-key", has_text="Sampler script")
    expect(row).to_contain_text("Upload samples")
    expect(row).not_to_contain_text("Delete samples")
    violations += axe_check(page, "api keys")
    shot(page, "listening-api-keys")
    row.get_by_text("Revoke…").click()
    expect(row).to_contain_text("stop working at once")
    row.get_by_role("button", name="Revoke Sampler script now").click()
    expect(page.locator(".api-key", has_text="Sampler script")).to_contain_text("Revoked")

    # Search and the collections list, for the record.
    page.goto(f"{base}/search/?q=shot")
    violations += axe_check(page, "search")
    shot(page, "listening-search")
    page.goto(f"{base}/library/collections/")
    violations += axe_check(page, "collections")
    shot(page, "listening-collections")

    # Signed out: what SampleMind is, how to join, and public samples to play.
    page.context.clear_cookies()
    page.goto(f"{base}/")
    expect(page.get_by_role("link", name="Create an account")).to_be_visible()
    expect(page.locator(".sample-row")).to_have_count(3)
    page.locator(".sample-row .play-button").first.click()
    wait_until(page, "!window.samplemindAudio.paused || window.samplemindAudio.ended")
    violations += axe_check(page, "home")
    shot(page, "listening-home")
    page.goto(f"{base}/library/collections/{pack.pk}/")
    expect(page.locator(".collection-item")).to_have_count(3)
    shot(page, "listening-public-collection")

    assert not violations, json.dumps(violations, indent=1)
    assert not errors, errors


def first_visit(page, url: str) -> dict:
    """Open ``url`` as a first visit would (fresh context, empty cache) and time it."""
    context = page.context.browser.new_context(
        storage_state=page.context.storage_state(), viewport={"width": 1366, "height": 850}
    )
    fresh = context.new_page()
    weights: dict[str, int] = {}

    def count(response):
        if response.request.resource_type in ("script", "stylesheet"):
            weights[response.url] = len(response.body())

    fresh.on("response", count)
    started = time.monotonic()
    fresh.goto(url, wait_until="domcontentloaded")
    wait_until(fresh, "performance.getEntriesByName('samplemind:ready').length === 1")
    fresh.keyboard.press("ArrowDown")
    wait_until(fresh, "document.querySelectorAll('.sample-row.is-selected').length === 1")
    with_key = time.monotonic() - started
    timing = fresh.evaluate(
        "(() => { const t = performance.getEntriesByType('navigation')[0];"
        " return {response: t.responseEnd, dom: t.domContentLoadedEventEnd,"
        " ready: performance.getEntriesByName('samplemind:ready')[0].startTime}; })()"
    )
    rows = fresh.locator(".sample-row").count()
    shot(fresh, "listening-library-200")
    context.close()
    return {
        "interactive": timing["ready"] / 1000,
        "response": timing["response"] / 1000,
        "dom": timing["dom"] / 1000,
        "with_key": with_key,
        "rows": rows,
        "weights": weights,
        "total": sum(weights.values()),
    }


@pytest.mark.django_db(transaction=True)
def test_a_library_of_200_samples_is_quick_and_light(browser_page, live_server):
    """Interactive within a second; scripts and stylesheets of a first load under 300 KB."""
    from django.db import connections

    from tests.factories import SampleFactory

    page, errors = browser_page
    owner = make_producer("big@example.com")
    peaks = [abs((i % 50) - 25) / 25 for i in range(800)]
    SampleFactory.create_batch(200, owner=owner, waveform=peaks, tags=["dusty", "vinyl"])
    connections["default"].close()
    sign_in(page, live_server.url, "big@example.com", PASSWORD)

    # The server warmed up (its first requests compile templates and open connections),
    # the browser cold: a fresh context with an empty cache, as on a first visit.
    for _ in range(2):
        page.request.get(f"{live_server.url}/library/")
    # Three first visits, each in a fresh context (empty cache); the best counts, since a
    # shared machine only ever adds time. All three are printed.
    runs = []
    for _ in range(3):
        runs.append(first_visit(page, f"{live_server.url}/library/"))
    best = min(runs, key=lambda run: run["interactive"])
    rows, total, weights = best["rows"], best["total"], best["weights"]
    interactive = best["interactive"]
    each = ", ".join(f"{run['interactive']:.3f}" for run in runs)
    print(
        f"\nlibrary with 200 samples ({rows} rows on the page): interactive "
        f"{interactive:.3f} s after navigation start (best of "
        f"{each}; HTML received "
        f"{best['response']:.3f} s, DOMContentLoaded {best['dom']:.3f} s, first ↓ answered "
        f"{best['with_key']:.3f} s after goto); JS + CSS of a first load {total / 1024:.1f} KB "
        f"({', '.join(f'{Path(u).name} {w / 1024:.1f}' for u, w in sorted(weights.items()))})"
    )
    assert rows == 100
    assert total < FIRST_LOAD_BUDGET, weights
    assert interactive < INTERACTIVE_BUDGET_S, interactive
    assert not errors, errors
