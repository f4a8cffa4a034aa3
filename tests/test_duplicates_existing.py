"""Near-duplicates beyond API uploads: samples stored before fingerprints, imports, the page."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Role
from library.models import Sample
from organise.models import SampleFingerprint
from organise.tasks import backfill_fingerprints
from tests import audio
from tests.factories import UserFactory, upload_file


@pytest.fixture(autouse=True)
def own_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def producer():
    return UserFactory(role=Role.PRO, email="producer@example.com")


def _stored_before_fingerprints(client, user, path) -> Sample:
    """A sample as it was before fingerprints existed: stored, with no fingerprint row."""
    response = upload_file(client, user, path)
    assert response.status_code == 201, response.json()
    sample = Sample.objects.get(pk=response.json()["id"])
    SampleFingerprint.objects.filter(sample=sample).delete()
    return sample


def _fingerprint_samples(*args) -> str:
    out = io.StringIO()
    call_command("fingerprint_samples", *args, stdout=out)
    return out.getvalue()


# --- backfill -----------------------------------------------------------------


@pytest.mark.django_db
def test_an_old_sample_is_found_as_the_copy_of_a_new_upload_after_the_backfill(
    client, producer, tmp_path
):
    old = _stored_before_fingerprints(
        client, producer, audio.write(tmp_path / "Snare.wav", audio.snare())
    )
    copy = audio.write(tmp_path / "Snare quieter.ogg", audio.snare() * 0.7)

    out = _fingerprint_samples("--owner", producer.email)

    assert "Fingerprinted 1 samples; 0 still without" in out
    response = upload_file(client, producer, copy)
    assert response.status_code == 409
    assert response.json()["error"]["details"]["sample_id"] == str(old.pk)
    # Again: nothing left to do, nothing changed.
    assert "Fingerprinted 0 samples" in _fingerprint_samples("--owner", producer.email)
    assert SampleFingerprint.objects.filter(sample=old).count() == 1


@pytest.mark.django_db
def test_backfill_links_old_copies_to_the_older_sample_and_stays_in_one_library(
    client, producer, tmp_path
):
    first = _stored_before_fingerprints(
        client, producer, audio.write(tmp_path / "Kick.wav", audio.kick())
    )
    second = _stored_before_fingerprints(
        client, producer, audio.write(tmp_path / "Kick louder.wav", audio.kick() * 1.4)
    )
    other = UserFactory(role=Role.PRO)
    theirs = _stored_before_fingerprints(
        client, other, audio.write(tmp_path / "Their kick.wav", audio.kick())
    )

    _fingerprint_samples("--owner", producer.email)

    assert SampleFingerprint.objects.get(sample=first).near_duplicate_of is None
    assert SampleFingerprint.objects.get(sample=second).near_duplicate_of == first
    assert not SampleFingerprint.objects.filter(sample=theirs).exists()
    # The scheduled task does every library; someone else's kick is no copy of ours.
    assert backfill_fingerprints() == 1
    assert SampleFingerprint.objects.get(sample=theirs).near_duplicate_of is None


@pytest.mark.django_db
def test_fingerprint_samples_explains_an_unknown_owner():
    with pytest.raises(CommandError, match="no account"):
        _fingerprint_samples("--owner", "nobody@example.com")
