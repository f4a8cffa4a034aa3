"""The studio in a real browser: drag data of a library row, and a kit played from the keys."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from studio.models import Kit
from studio.services.project import project_update
from tests import audio
from tests.browser import ARTIFACTS, wait_until
from tests.factories import UserFactory
from tests.studio_helpers import analysed_sample

pytestmark = pytest.mark.django_db(transaction=True)

DRAG = """() => {
  const row = document.querySelector("[data-drag-url]");
  const data = new DataTransfer();
  row.dispatchEvent(new DragEvent("dragstart", {bubbles: true, dataTransfer: data}));
  return {download: data.getData("DownloadURL"), draggable: row.draggable};
}"""


def signed_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def test_a_dragged_row_carries_the_file_and_with_matching_the_render(
    browser_page, live_server, tmp_path
):
    page, errors = browser_page
    producer = UserFactory(role=Role.PRO)
    loop = analysed_sample(
        producer, audio.write(tmp_path / "Dusty Drums.wav", audio.drum_loop(100, bars=2))
    )
    signed_in(page, live_server, producer)
    url = f"{live_server.url}/studio/samples/{loop.pk}/file"

    page.goto(f"{live_server.url}/library/")
    page.wait_for_load_state("networkidle")
    dragged = page.evaluate(DRAG)
    assert dragged == {"download": f"audio/wav:Dusty Drums.wav:{url}", "draggable": True}

    project_update(user=producer, bpm=125, key="F", mode="minor", matching=True)
    page.reload()
    page.wait_for_load_state("networkidle")
    dragged = page.evaluate(DRAG)
    assert dragged["download"] == f"audio/wav:Dusty Drums (125 BPM, F minor).wav:{url}"
    assert errors == []


def test_a_kit_plays_from_the_keyboard(browser_page, live_server, tmp_path):
    page, errors = browser_page
    producer = UserFactory(role=Role.PRO)
    kick = analysed_sample(producer, audio.write(tmp_path / "Kick.wav", audio.kick()))
    kit = Kit.objects.create(owner=producer, name="Live kit")
    kit.pads.create(pad=0, sample=kick)
    signed_in(page, live_server, producer)

    page.goto(f"{live_server.url}/studio/kits/{kit.pk}/")
    page.wait_for_load_state("networkidle")
    page.evaluate(
        """() => {
          document.addEventListener("keydown", () => { window.pressed = performance.now(); },
                                    {capture: true});
          document.getElementById("kit-builder").addEventListener(
            "kit:played", (event) => {
              window.played = event.detail.at;
              window.outputLatency = event.detail.outputLatency;
            });
        }"""
    )
    page.keyboard.press("1")
    wait_until(page, "window.played !== undefined")
    latency = page.evaluate("window.played - window.pressed")
    output = page.evaluate("window.outputLatency") * 1000
    page.screenshot(path=str(ARTIFACTS / "studio-kit-builder.png"), full_page=True)

    print(f"kit pad: key press to sound started {latency:.1f} ms (+ {output:.1f} ms output)")
    assert 0 <= latency < 100
    assert page.inner_text('[data-pad="1"] .kit-pad__meta') == "Kick"  # as the library writes it
    assert "kit-pad--active" in page.get_attribute('[data-pad="1"]', "class")
    assert errors == []
