"""Matching in the player bar, in a real browser: the project tempo and key set from the
bar, a loop played at the project tempo (the browser's own time-stretch), a tonal loop
stretched and shifted to the project key by the vendored AudioWorklet (Signalsmith Stretch),
a tonal one-shot shifted keeping its length, a kick left alone, `m` for the original, and
sampler-style repitching where the browser has no AudioWorklet.

Prints the time from a key press to the matched sound (the issue's figure): to the
element playing for a loop, and to shifted sound leaving the worklet for a tonal loop;
saves ``test-artifacts/matching-player.png``.
"""

from __future__ import annotations

import time

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

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


# Notes the first moment sound leaves the key shifter ("node") or enters it from the
# <audio> element ("source", tapped once the key press has routed it), with an AnalyserNode.
LISTEN = """(at) => {
  const shifter = window.samplemindShifter;
  const listen = (node) => {
    const analyser = shifter.context.createAnalyser();
    analyser.fftSize = 16384;
    node.connect(analyser);
    return analyser;
  };
  let tap = at === "node" ? listen(shifter.node) : null;
  window.__out = tap || window.__out;
  window.__heard = undefined;
  window.__pressed = undefined;
  const block = new Float32Array(256);
  const timer = setInterval(() => {
    if (!tap && window.__pressed !== undefined) { tap = listen(shifter.source); }
    if (!tap) { return; }
    tap.getFloatTimeDomainData(block);
    if (block.some((v) => Math.abs(v) > 0.01)) {
      window.__heard = performance.now();
      clearInterval(timer);
    }
  }, 1);
  document.addEventListener("keydown", () => { window.__pressed = performance.now(); },
                            {capture: true, once: true});
  window.__played = undefined;
  window.samplemindAudio.addEventListener("playing", () => {
    window.__played = performance.now();
  }, {once: true});
}"""
# The loudest frequency (Hz) between 60 Hz and 2 kHz at the shifter's input and output.
PITCHES_HEARD = """() => {
  const shifter = window.samplemindShifter;
  const peak = (analyser) => {
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    const hz = shifter.context.sampleRate / analyser.fftSize;
    let best = Math.ceil(60 / hz);
    for (let i = best; i < 2000 / hz; i += 1) { if (bins[i] > bins[best]) { best = i; } }
    return best * hz;
  };
  if (!window.__in) {
    window.__in = shifter.context.createAnalyser();
    window.__in.fftSize = 16384;
    shifter.source.connect(window.__in);
    return null;
  }
  return {input: peak(window.__in), output: peak(window.__out)};
}"""


def press_and_listen(page, sample, *, at: str) -> tuple[float, float]:
    """Press Space on the sample's row: ms from the key press to playing and to sound ``at``."""
    page.evaluate(LISTEN, at)
    page.locator(f'.sample-row[data-sample="{sample.pk}"] .play-button').focus()
    page.keyboard.press("Space")
    wait_until(page, "window.__heard !== undefined")
    heard = page.evaluate("window.__heard - window.__pressed")
    played = page.evaluate("window.__played - window.__pressed")
    return played, heard


def player_shift(page) -> dict:
    """What the key shifter does: its node, the semitones asked for, the latency it adds."""
    return page.evaluate(
        """() => {
          const shifter = window.samplemindShifter;
          const Worklet = window.AudioWorkletNode;
          return {
            worklet: Boolean(Worklet) && shifter.node instanceof Worklet,
            semitones: shifter.semitones,
            running: shifter.context ? shifter.context.state : null,
          };
        }"""
    )


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
    tonal_loop = stored(
        producer,
        "Keys Loop C minor",
        audio.tone(audio.midi_hz(60), seconds=4.8, amp=0.4),
        category="synth",
        is_loop=True,
        bpm=100.0,
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
    print(f"matched audition (tempo, a drum loop): key press to playing {latency:.1f} ms")
    rate = player_rate(page)
    assert rate["rate"] == pytest.approx(1.2)
    assert rate["preservesPitch"] is True
    assert latency < 1000
    # The bar shows the loop's length as heard: two bars at 120 BPM, not at 100.
    expect(page.locator("#player-time")).to_contain_text("/ 0:04.0")
    # Drums keep their pitch: nothing goes through the shifter.
    assert player_shift(page)["semitones"] == 0

    # That first key press warmed the key shifter (the vendored AudioWorklet).
    wait_until(page, "window.samplemindShifter.node !== null")
    assert player_shift(page)["worklet"] is True

    # A tonal loop in C minor goes to 120 BPM and A minor (the render's rule), at once.
    plan = plan_render(
        Source(is_loop=True, bpm=100.0, key="C", mode="minor", root_note=None, category="synth"),
        bpm=120,
        key="A",
        mode="minor",
    )
    assert (plan.tempo_ratio, plan.semitones) == (1.2, -3)
    played, heard = press_and_listen(page, tonal_loop, at="node")
    added = page.evaluate("window.samplemindShifter.node.latency()")
    print(
        f"matched audition (tempo and key, a tonal loop): key press to playing {played:.1f} ms, "
        f"to shifted sound at the worklet's output {heard:.1f} ms "
        f"(the worklet reports {added * 1000:.0f} ms latency)"
    )
    assert heard < 1000
    assert player_rate(page) == {"rate": pytest.approx(1.2), "preservesPitch": True}
    shift = player_shift(page)
    assert shift == {"worklet": True, "semitones": plan.semitones, "running": "running"}
    assert page.evaluate(PITCHES_HEARD) is None  # starts listening at the input too
    page.wait_for_timeout(600)
    heard_hz = page.evaluate(PITCHES_HEARD)
    print(f"tonal loop: {heard_hz['input']:.1f} Hz into the shifter, {heard_hz['output']:.1f} out")
    assert heard_hz["input"] == pytest.approx(audio.midi_hz(60), rel=0.03)
    assert heard_hz["output"] == pytest.approx(audio.midi_hz(57), rel=0.03)
    page.wait_for_timeout(150)
    assert "−3 st to A" in page.inner_text("#player-meta")
    assert "at 120 BPM" in page.inner_text("#player-meta")
    page.screenshot(path=str(ARTIFACTS / "matching-player.png"))

    # The drum loop again, now that the element plays through Web Audio: its sound reaches
    # the graph (no worklet on its way) this long after the key press.
    played, heard = press_and_listen(page, loop, at="source")
    print(
        f"matched audition (tempo, a drum loop, again): key press to playing {played:.1f} ms, "
        f"to its sound reaching Web Audio {heard:.1f} ms"
    )
    assert heard < 1000
    assert player_shift(page)["semitones"] == 0

    # A tonal one-shot in C minor: shifted to A minor keeping its length, as a render does.
    assert audition(page, keys) == {"rate": 1.0, "preservesPitch": True}
    assert player_shift(page)["semitones"] == plan.semitones
    page.wait_for_timeout(150)
    assert "−3 st to A" in page.inner_text("#player-meta")

    # Drums keep their pitch, even with a key.
    assert audition(page, kick) == {"rate": 1.0, "preservesPitch": True}
    assert player_shift(page)["semitones"] == 0

    # `m`: the original, one key away; the account remembers it.
    audition(page, keys)
    page.keyboard.press("m")
    assert player_rate(page) == {"rate": 1.0, "preservesPitch": True}
    assert player_shift(page)["semitones"] == 0
    assert page.get_attribute("#player-matching", "aria-pressed") == "false"
    stored_matching(producer, False)
    page.keyboard.press("m")
    assert player_shift(page)["semitones"] == -3
    stored_matching(producer, True)

    # `?` lists the key.
    page.keyboard.press("?")
    assert "Match the project tempo and key" in page.inner_text("#keys-help")
    page.keyboard.press("Escape")

    # Without AudioWorklet, a one-shot is repitched like a sampler (rate is pitch).
    page.add_init_script("delete window.AudioWorkletNode;")
    page.reload()
    control.wait_for(state="visible")
    rate = audition(page, keys)
    assert rate["rate"] == pytest.approx(2 ** (plan.semitones / 12), abs=1e-4)
    assert rate["preservesPitch"] is False
    assert player_shift(page) == {"worklet": False, "semitones": 0, "running": None}
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
