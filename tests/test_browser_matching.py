"""Matching in the player bar, in a real browser: the project tempo and key set from the
bar, a loop played at the project tempo (the browser's own time-stretch), a tonal one-shot
shifted to the project key like a sampler, a kick left alone, and `m` for the original.

Prints the time from a key press to the matched sound playing (the issue's figure) and
saves ``test-artifacts/matching-player.png``.
"""

from __future__ import annotations

import time

import pytest
from django.core.files.base import ContentFile

from accounts.models import Role
from studio import selectors
from studio.matching import Source, plan_render
from tests import audio
from tests.browser import ARTIFACTS, wait_until
from tests.factories import SampleFactory, UserFactory
from tests.studio_helpers import keys_note
from tests.test_browser_listening import peaks_of, wav_bytes
from tests.test_studio_browser import signed_in

pytestmark = pytest.mark.django_db(transaction=True)

AUDIO = "window.samplemindAudio"
PLAYING = """() => new Promise((resolve) => {
  window.samplemindAudio.addEventListener("playing", () => resolve(), {once: true});
})"""


def stored(owner, name: str, sound, **fields):
    """A sample row with real audio and its browser preview, as the analyser leaves it."""
    sample = SampleFactory(
        owner=owner,
        name=name,
        original_filename=f"{name}.wav",
        file__filename=f"{name}.wav",
        file__data=wav_bytes(sound),
        duration=len(sound) / audio.SR,
        waveform=peaks_of(sound),
        **fields,
    )
    sample.preview.save("p.ogg", ContentFile(wav_bytes(sound, "ogg")), save=True)
    return sample


def audition(page, sample) -> dict:
    """Click the row's ▶ and answer the player's rate once the sound plays."""
    page.evaluate(
        f"window.__playing = false; {AUDIO}.addEventListener('playing', "
        "() => { window.__playing = true; }, {once: true})"
    )
    page.locator(f'.sample-row[data-sample="{sample.pk}"] .play-button').click()
    wait_until(page, "window.__playing")
    return player_rate(page)


def player_rate(page) -> dict:
    return page.evaluate(
        f"({{rate: {AUDIO}.playbackRate, preservesPitch: {AUDIO}.preservesPitch}})"
    )


def stored_matching(user, expected: bool, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while selectors.project_settings(user=user).matching is not expected:
        assert time.monotonic() < deadline, f"the project's matching never became {expected}"
        time.sleep(0.1)


def test_the_player_matches_the_project_tempo_and_key(browser_page, live_server):
    page, errors = browser_page
    producer = UserFactory(role=Role.PRO)
    loop = stored(
        producer,
        "Dusty Drums",
        audio.drum_loop(100, bars=2),
        category="drum_loop",
        is_loop=True,
        bpm=100.0,
    )
    keys = stored(
        producer,
        "Keys C minor",
        keys_note(60),
        category="keys",
        is_loop=False,
        key="C",
        mode="minor",
    )
    kick = stored(producer, "Kick F", audio.kick(), category="kick", is_loop=False, key="F")
    signed_in(page, live_server, producer)

    # The project tempo and key, set in the player bar and remembered by the account.
    page.goto(f"{live_server.url}/library/")
    control = page.locator("#player-match")
    control.wait_for(state="visible")
    page.fill("#player-bpm", "120")
    page.press("#player-bpm", "Tab")
    page.select_option("#player-key", "Am")
    page.locator("#player-matching").click()
    stored_matching(producer, True)
    project = selectors.project_settings(user=producer)
    assert (project.bpm, project.key, project.mode) == (120.0, "A", "minor")

    # Remembered: a fresh page shows it before anything plays.
    page.reload()
    control.wait_for(state="visible")
    assert page.input_value("#player-bpm") == "120"
    assert page.input_value("#player-key") == "Am"
    assert page.get_attribute("#player-matching", "aria-pressed") == "true"

    # A loop, auditioned from the keyboard: stretched at once in the browser.
    page.locator(f'.sample-row[data-sample="{loop.pk}"] .play-button').focus()
    page.evaluate(
        """() => {
          document.addEventListener("keydown", () => { window.__pressed = performance.now(); },
                                    {capture: true, once: true});
          window.samplemindAudio.addEventListener("playing", () => {
            window.__played = performance.now();
          }, {once: true});
        }"""
    )
    page.keyboard.press("Space")
    wait_until(page, "window.__played !== undefined")
    latency = page.evaluate("window.__played - window.__pressed")
    print(f"matched audition: key press to playing {latency:.1f} ms")
    rate = player_rate(page)
    assert rate["rate"] == pytest.approx(1.2)
    assert rate["preservesPitch"] is True
    assert latency < 1000

    # A tonal one-shot in C minor goes to A minor: the render's rule, as a sampler would.
    plan = plan_render(
        Source(is_loop=False, bpm=None, key="C", mode="minor", root_note=None, category="keys"),
        bpm=120,
        key="A",
        mode="minor",
    )
    assert plan.semitones == -3
    rate = audition(page, keys)
    assert rate["rate"] == pytest.approx(2 ** (plan.semitones / 12), abs=1e-4)
    assert rate["preservesPitch"] is False
    page.wait_for_timeout(150)
    assert "−3 st to A" in page.inner_text("#player-meta")
    page.screenshot(path=str(ARTIFACTS / "matching-player.png"))

    # Drums keep their pitch, even with a key.
    assert audition(page, kick) == {"rate": 1.0, "preservesPitch": True}

    # `m`: the original, one key away; the account remembers it.
    audition(page, keys)
    page.keyboard.press("m")
    assert player_rate(page) == {"rate": 1.0, "preservesPitch": True}
    assert page.get_attribute("#player-matching", "aria-pressed") == "false"
    stored_matching(producer, False)
    page.keyboard.press("m")
    assert player_rate(page)["rate"] == pytest.approx(2 ** (-3 / 12), abs=1e-4)
    stored_matching(producer, True)

    # `?` lists the key.
    page.keyboard.press("?")
    assert "Match the project tempo and key" in page.inner_text("#keys-help")
    assert errors == []


def test_visitors_have_no_matching_control(browser_page, live_server):
    page, errors = browser_page
    shared = stored(UserFactory(), "Open hat", audio.hihat(), category="hihat", visibility="public")
    page.goto(f"{live_server.url}/")
    assert page.locator("#player-bar").count() == 1
    assert page.locator("#player-match").count() == 0
    rate = audition(page, shared)
    page.keyboard.press("m")
    assert player_rate(page) == rate == {"rate": 1.0, "preservesPitch": True}
    page.keyboard.press("?")
    assert "Match the project" not in page.inner_text("#keys-help")
    assert errors == []
