"""Organising in a real browser (Playwright + Debian's chromium): the duplicates page.

Screenshots go to ``test-artifacts/organise-*.png``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests import audio
from tests.browser import ARTIFACTS

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's


def _store(owner, path: Path, *, keep: bool):
    from library.services.uploads import SampleFields, Spooled, file_digest, sample_create

    spooled = Spooled(name=path.name, path=path, sha256=file_digest(path), size=path.stat().st_size)
    return sample_create(owner=owner, spooled=spooled, fields=SampleFields(keep_duplicate=keep))


@pytest.mark.django_db(transaction=True)
def test_duplicates_page_groups_copies_and_keeps_one(browser_page, live_server, tmp_path):
    from accounts.models import Role
    from library.models import Sample
    from tests.factories import UserFactory

    page, errors = browser_page
    owner = UserFactory(email="organiser@example.com", role=Role.PRO)
    snare = audio.snare()
    copies = [
        ("Snare.wav", snare),
        ("Snare -6 dB.wav", snare * 0.5),
        ("Snare padded.flac", np.concatenate([np.zeros(6000, np.float32), snare])),
    ]
    stored = [
        _store(owner, audio.write(tmp_path / name, sound), keep=True) for name, sound in copies
    ]
    _store(owner, audio.write(tmp_path / "Kick.wav", audio.kick()), keep=False)

    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/organise/duplicates/")
    group = page.locator(".duplicate-group")
    assert group.count() == 1
    names = group.locator(".duplicate-group__sample > a").all_inner_texts()
    assert names == ["Snare", "Snare -6 dB", "Snare padded"]
    assert "Kick" not in page.content()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "organise-duplicates.png"), full_page=True)

    group.locator(".duplicate-group__sample").nth(1).get_by_role(
        "button", name="Keep this one"
    ).click()
    page.wait_for_url(f"{base}/organise/duplicates/")
    assert "Kept “Snare -6 dB”; 2 copies deleted." in page.content()
    assert page.locator(".duplicate-group").count() == 0
    page.screenshot(path=str(ARTIFACTS / "organise-duplicates-kept.png"), full_page=True)
    assert list(
        Sample.objects.filter(owner=owner).order_by("name").values_list("name", flat=True)
    ) == [
        "Kick",
        "Snare -6 dB",
    ]
    assert stored[1].pk in set(Sample.objects.values_list("pk", flat=True))
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
def test_favouriting_and_stars_from_the_sample_page_filter_the_library(
    browser_page, live_server, tmp_path
):
    from accounts.models import Role
    from tests.factories import UserFactory

    page, errors = browser_page
    owner = UserFactory(email="rater@example.com", role=Role.PRO)
    kick = _store(owner, audio.write(tmp_path / "Kick.wav", audio.kick()), keep=False)
    _store(owner, audio.write(tmp_path / "Hat.wav", audio.hihat()), keep=False)

    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/library/samples/{kick.pk}/")
    page.get_by_role("button", name="Add to favourites").click()
    page.wait_for_url(f"{base}/library/samples/{kick.pk}/")
    page.get_by_role("button", name="4 stars").click()
    page.wait_for_url(f"{base}/library/samples/{kick.pk}/")
    assert page.get_by_role("button", name="♥ Favourite").count() == 1
    assert page.locator(".rating__star.is-on").count() == 4
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "organise-rating.png"))

    page.goto(f"{base}/library/?favourite=true")
    listed = page.locator("main").inner_text()
    assert "Kick" in listed and "Hat" not in listed
    page.goto(f"{base}/library/?rating_min=4&sort=-my_rating")
    assert "Kick" in page.locator("main").inner_text()
    page.screenshot(path=str(ARTIFACTS / "organise-favourites.png"), full_page=True)
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
def test_accepting_and_rejecting_tag_suggestions_on_the_sample_page(browser_page, live_server):
    from accounts.models import Role
    from library.models import Sample
    from tests.factories import SampleFactory, UserFactory

    page, errors = browser_page
    owner = UserFactory(email="tagger@example.com", role=Role.PRO)
    near = [1.0] + [0.0] * 63
    for n in range(3):
        SampleFactory(owner=owner, name=f"Kick {n}", category="kick", tags=["dusty", "drums"],
                      embedding=near)  # fmt: skip
    new = SampleFactory(owner=owner, name="Fresh kick", category="kick", embedding=near)

    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/library/samples/{new.pk}/")
    suggestions = page.locator(".tag-suggestions")
    assert suggestions.locator(".tag").all_inner_texts() == ["drums", "dusty"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "organise-tag-suggestions.png"), full_page=True)

    page.get_by_role("button", name="Add tag dusty").click()
    page.wait_for_url(f"{base}/library/samples/{new.pk}/")
    page.get_by_role("button", name="Not drums").click()
    page.wait_for_url(f"{base}/library/samples/{new.pk}/")
    assert page.locator(".tag-suggestions").count() == 0
    assert Sample.objects.get(pk=new.pk).tags == ["dusty"]
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
def test_a_smart_collection_saved_from_the_library_page_updates_itself(browser_page, live_server):
    from accounts.models import Role
    from tests.factories import SampleFactory, UserFactory

    page, errors = browser_page
    owner = UserFactory(email="saver@example.com", role=Role.PRO)
    SampleFactory(owner=owner, name="Dusty kick", category="kick", tags=["dusty"])
    SampleFactory(owner=owner, name="Clean hat", category="hihat")

    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/library/?tags=dusty")
    page.fill("input[name=name]", "Dusty things")
    page.get_by_role("button", name="Save as smart collection").click()
    page.wait_for_url(f"{base}/organise/smart/")
    assert "1 sample" in page.locator(".smart-list").inner_text()

    SampleFactory(owner=owner, name="Dusty snare", category="snare", tags=["dusty"])
    page.reload()
    assert "2 samples" in page.locator(".smart-list").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "organise-smart-collections.png"), full_page=True)
    page.get_by_role("link", name="Dusty things").click()
    page.wait_for_url(f"{base}/library/?*")
    listed = page.locator("main").inner_text()
    assert "Dusty kick" in listed and "Dusty snare" in listed and "Clean hat" not in listed
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
def test_the_sound_map_draws_the_library_and_opens_a_sample(browser_page, live_server):
    from accounts.models import Role
    from library.analysis import EMBEDDING_DIM
    from tests.factories import SampleFactory, UserFactory

    page, errors = browser_page
    owner = UserFactory(email="mapper@example.com", role=Role.PRO)
    rng = np.random.default_rng(3)
    for n in range(60):
        vector = np.eye(EMBEDDING_DIM)[n % 3] + rng.normal(0, 0.1, EMBEDDING_DIM)
        category = ("kick", "snare", "pad")[n % 3]
        SampleFactory(
            owner=owner, name=f"{category} {n}", category=category, embedding=list(vector)
        )

    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/organise/map/")
    canvas = page.locator("#sound-map")
    # Not drawn yet: the page says so and asks again by itself once the task has run.
    page.wait_for_selector("#sound-map[data-computing='true']")
    assert page.locator("#sound-map-status").is_visible()
    from organise.tasks import layout_map

    layout_map(owner.pk)
    page.wait_for_selector("#sound-map[data-count='60']")
    assert not page.locator("#sound-map-status").is_visible()
    assert page.locator("#sound-map-legend li").all_inner_texts() == [" kick", " pad", " snare"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "organise-sound-map.png"), full_page=True)
    # Find a drawn point by hovering along the canvas, then open it.
    box = canvas.bounding_box()
    for step in range(400):
        x = box["x"] + 20 + (step % 20) * (box["width"] - 40) / 19
        y = box["y"] + 20 + (step // 20) * (box["height"] - 40) / 19
        page.mouse.move(x, y)
        if page.locator("#sound-map-label").inner_text():
            break
    name = page.locator("#sound-map-label").inner_text().split(" · ")[0]
    assert name
    page.mouse.click(x, y)
    page.wait_for_url(f"{base}/library/samples/*/")
    assert page.locator("h1").inner_text() == name
    assert not [e for e in errors if "preview" not in e and "404" not in e], errors
