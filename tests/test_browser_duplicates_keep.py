"""The upload page in a real browser: a near-duplicate is refused, "Keep anyway" keeps it.

Screenshots go to ``test-artifacts/upload-keep-*.png``.
"""

from __future__ import annotations

import pytest
from playwright import sync_api

from tests import audio
from tests.browser import ARTIFACTS, sign_in


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
    sign_in(page, base, owner.email)
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
