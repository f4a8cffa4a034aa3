"""Near-duplicates: refused on upload unless kept, grouped on a page, resolved by keeping one."""

from __future__ import annotations

import numpy as np
import pytest
import soxr

from accounts.models import Role
from library.models import Sample, Visibility
from organise import fingerprint as fp
from organise.models import SampleFingerprint
from tests import audio
from tests.factories import UserFactory, bearer, upload_file

DUPLICATES = "/api/v1/duplicates"


@pytest.fixture(autouse=True)
def own_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def producer():
    return UserFactory(role=Role.PRO)


def _snare(seed: int = 0) -> np.ndarray:
    return audio.snare(seed=seed)


# --- the fingerprint itself -------------------------------------------------


def test_copies_are_close_and_other_sounds_are_not():
    original = fp.fingerprint(_snare(), audio.SR)
    quieter = fp.fingerprint(_snare() * 0.5, audio.SR)
    padded = fp.fingerprint(np.concatenate([np.zeros(8000, np.float32), _snare()]), audio.SR)
    resampled = fp.fingerprint(soxr.resample(_snare(), audio.SR, 22050), 22050)
    tail_cut = fp.fingerprint(_snare()[: int(0.8 * _snare().size)], audio.SR)
    for copy in (quieter, padded, resampled, tail_cut):
        assert fp.distance(original, copy) <= fp.DUPLICATE_DISTANCE
    other_take = fp.fingerprint(_snare(seed=7), audio.SR)  # another noise burst: another hit
    a_kick = fp.fingerprint(audio.kick(), audio.SR)
    assert fp.distance(original, other_take) > fp.DUPLICATE_DISTANCE
    assert fp.distance(original, a_kick) > fp.DUPLICATE_DISTANCE


def test_fingerprint_survives_storage_as_bytes():
    print_ = fp.fingerprint(audio.kick(), audio.SR)
    again = fp.Fingerprint.from_bytes(print_.to_bytes())
    assert fp.distance(print_, again) < 0.2


# --- upload -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_reencoded_quieter_copy_is_answered_409_naming_the_first(client, producer, tmp_path):
    first = upload_file(client, producer, audio.write(tmp_path / "Snare.wav", _snare()))
    assert first.status_code == 201
    copy = audio.write(tmp_path / "Snare copy.ogg", _snare() * 0.7)

    response = upload_file(client, producer, copy)

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "near_duplicate"
    assert error["details"]["sample_id"] == first.json()["id"]
    assert "Snare" in error["message"]
    assert Sample.objects.filter(owner=producer).count() == 1


@pytest.mark.django_db
def test_keep_duplicate_stores_the_copy_linked_to_the_first(client, producer, tmp_path):
    first = upload_file(client, producer, audio.write(tmp_path / "Kick.wav", audio.kick()))
    copy = audio.write(
        tmp_path / "Kick 48k.wav", soxr.resample(audio.kick(), audio.SR, 48000), sr=48000
    )

    response = upload_file(client, producer, copy, url="/api/v1/audio/upload?keep_duplicate=1")

    assert response.status_code == 201, response.json()
    assert response.json()["near_duplicate_of"] == first.json()["id"]
    listed = client.get("/api/v1/audio/", **bearer(producer)).json()["results"]
    assert {s["near_duplicate_of"] for s in listed} == {None, first.json()["id"]}


@pytest.mark.django_db
def test_keep_duplicate_that_is_not_a_boolean_is_a_400(client, producer, tmp_path):
    path = audio.write(tmp_path / "Kick.wav", audio.kick())
    response = upload_file(client, producer, path, keep_duplicate="perhaps")
    assert response.status_code == 400
    assert "keep_duplicate" in response.json()["error"]["details"]


@pytest.mark.django_db
def test_different_sounds_upload_without_a_question(client, producer, tmp_path):
    for name, sound in [("Kick", audio.kick()), ("Snare", _snare()), ("Snare B", _snare(seed=7))]:
        response = upload_file(client, producer, audio.write(tmp_path / f"{name}.wav", sound))
        assert response.status_code == 201, response.json()
        assert response.json()["near_duplicate_of"] is None


@pytest.mark.django_db
def test_another_persons_private_sample_is_never_named(client, producer, tmp_path):
    other = UserFactory(role=Role.PRO)
    path = audio.write(tmp_path / "Secret kick.wav", audio.kick())
    assert upload_file(client, other, path).status_code == 201
    quieter = audio.write(tmp_path / "My kick.wav", audio.kick() * 0.5)

    response = upload_file(client, producer, quieter)

    assert response.status_code == 201
    assert response.json()["near_duplicate_of"] is None
    assert client.get(DUPLICATES, **bearer(producer)).json()["count"] == 0


@pytest.mark.django_db
def test_batch_reports_a_near_duplicate_per_file(client, producer, tmp_path):
    upload_file(client, producer, audio.write(tmp_path / "Clap.wav", audio.clap()))
    files = [
        audio.write(tmp_path / "Clap loud.wav", audio.clap() * 1.3),
        audio.write(tmp_path / "Kick.wav", audio.kick()),
    ]
    handles = [open(p, "rb") for p in files]  # noqa: SIM115 - closed below
    try:
        response = client.post("/api/v1/audio/batch", {"files": handles}, **bearer(producer))
    finally:
        for handle in handles:
            handle.close()
    assert response.status_code == 202, response.json()
    errors = response.json()["errors"]
    assert [e["code"] for e in errors] == ["near_duplicate"]
    assert errors[0]["file"] == "Clap loud.wav"


# --- groups and "keep one" --------------------------------------------------


def _group_of_three(client, producer, tmp_path) -> list[str]:
    ids = []
    sounds = [
        ("Snare.wav", _snare()),
        ("Snare quiet.wav", _snare() * 0.5),
        ("Snare padded.wav", np.concatenate([np.zeros(4410, np.float32), _snare()])),
    ]
    for name, sound in sounds:
        response = upload_file(
            client,
            producer,
            audio.write(tmp_path / name, sound),
            url="/api/v1/audio/upload?keep_duplicate=true",
        )
        assert response.status_code == 201
        ids.append(response.json()["id"])
    upload_file(client, producer, audio.write(tmp_path / "Kick.wav", audio.kick()))
    return ids


@pytest.mark.django_db
def test_duplicates_api_groups_copies_and_keep_one_deletes_the_rest(client, producer, tmp_path):
    ids = _group_of_three(client, producer, tmp_path)

    groups = client.get(DUPLICATES, **bearer(producer)).json()
    assert groups["count"] == 1
    assert [s["id"] for s in groups["results"][0]["samples"]] == ids

    response = client.post(
        f"{DUPLICATES}/keep",
        {"sample": ids[1]},
        content_type="application/json",
        **bearer(producer),
    )
    assert response.status_code == 200
    assert response.json()["deleted"] == 2
    assert set(Sample.objects.filter(owner=producer).values_list("name", flat=True)) == {
        "Snare quiet",
        "Kick",
    }
    assert client.get(DUPLICATES, **bearer(producer)).json()["count"] == 0


@pytest.mark.django_db
def test_keep_one_of_another_persons_group_is_a_404(client, producer, tmp_path):
    ids = _group_of_three(client, producer, tmp_path)
    intruder = UserFactory(role=Role.PRO)
    response = client.post(
        f"{DUPLICATES}/keep",
        {"sample": ids[0]},
        content_type="application/json",
        **bearer(intruder),
    )
    assert response.status_code == 404
    assert Sample.objects.filter(owner=producer).count() == 4


@pytest.mark.django_db
def test_dismiss_keeps_every_sample_and_empties_the_group(client, producer, tmp_path):
    ids = _group_of_three(client, producer, tmp_path)
    response = client.post(
        f"{DUPLICATES}/dismiss",
        {"sample": ids[2]},
        content_type="application/json",
        **bearer(producer),
    )
    assert response.status_code == 200
    assert Sample.objects.filter(owner=producer).count() == 4
    assert client.get(DUPLICATES, **bearer(producer)).json()["count"] == 0


@pytest.mark.django_db
def test_duplicates_page_lists_groups_and_keeps_one(client, producer, tmp_path):
    ids = _group_of_three(client, producer, tmp_path)
    client.force_login(producer)

    page = client.get("/organise/duplicates/")
    assert page.status_code == 200
    assert page.content.decode().count("Keep this one") == 3

    response = client.post("/organise/duplicates/keep", {"sample": ids[0]}, follow=True)
    assert "Kept “Snare”; 2 copies deleted." in response.content.decode()
    assert not Sample.objects.filter(pk__in=ids[1:]).exists()


@pytest.mark.django_db
def test_duplicates_page_escapes_names(client, producer, tmp_path):
    _group_of_three(client, producer, tmp_path)
    Sample.objects.filter(owner=producer, name="Snare").update(name="<b>Snare</b>")
    client.force_login(producer)
    body = client.get("/organise/duplicates/").content.decode()
    assert "&lt;b&gt;Snare&lt;/b&gt;" in body and "<b>Snare</b>" not in body


@pytest.mark.django_db
def test_duplicates_page_runs_a_fixed_number_of_queries(
    client, producer, tmp_path, django_assert_max_num_queries
):
    _group_of_three(client, producer, tmp_path)
    client.force_login(producer)
    with django_assert_max_num_queries(12):
        first = client.get("/organise/duplicates/")
    # Twice the groups: no more queries.
    for n in range(3):
        for name, gain in (("A", 1.0), ("B", 0.5)):
            path = audio.write(tmp_path / f"Hat {n}{name}.wav", audio.hihat(seed=10 + n) * gain)
            upload_file(client, producer, path, url="/api/v1/audio/upload?keep_duplicate=1")
    with django_assert_max_num_queries(12):
        second = client.get("/organise/duplicates/")
    assert first.status_code == second.status_code == 200
    assert second.content.decode().count("Keep this one") == 9


@pytest.mark.django_db
def test_fingerprint_row_goes_with_its_sample(client, producer, tmp_path):
    response = upload_file(client, producer, audio.write(tmp_path / "Kick.wav", audio.kick()))
    sample = Sample.objects.get(pk=response.json()["id"])
    assert SampleFingerprint.objects.filter(sample=sample).exists()
    sample.delete()
    assert not SampleFingerprint.objects.exists()


@pytest.mark.django_db
def test_public_samples_of_others_are_not_candidates_either(client, producer, tmp_path):
    other = UserFactory(role=Role.PRO)
    path = audio.write(tmp_path / "Shared kick.wav", audio.kick())
    response = upload_file(client, other, path, visibility=Visibility.PUBLIC)
    assert response.status_code == 201
    mine = audio.write(tmp_path / "Kick.wav", audio.kick() * 0.8)
    assert upload_file(client, producer, mine).status_code == 201
