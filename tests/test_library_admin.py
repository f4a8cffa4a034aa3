"""The library's admin: filtering samples by owner, re-analysing as a visible batch job."""

from __future__ import annotations

import pytest

from library.models import BatchJob, SampleStatus
from tests.factories import SampleFactory, UserFactory


@pytest.mark.django_db
def test_samples_can_be_filtered_by_owner(admin_client):
    alice, bob = UserFactory(email="alice@example.com"), UserFactory(email="bob@example.com")
    SampleFactory(owner=alice, name="Alice kick")
    SampleFactory(owner=bob, name="Bob snare")
    UserFactory(email="nobody@example.com")  # no samples: not offered as a filter

    page = admin_client.get("/admin/library/sample/").content.decode()
    assert "alice@example.com" in page and "bob@example.com" in page
    assert "nobody@example.com" not in page

    filtered = admin_client.get(f"/admin/library/sample/?owner__id__exact={alice.pk}")
    assert "Alice kick" in filtered.content.decode()
    assert "Bob snare" not in filtered.content.decode()


@pytest.mark.django_db
def test_the_reanalyse_action_creates_a_job_per_owner(admin_client):
    samples = [SampleFactory(), SampleFactory(), SampleFactory()]

    response = admin_client.post(
        "/admin/library/sample/",
        {"action": "reanalyze", "_selected_action": [str(s.pk) for s in samples]},
        follow=True,
    )

    message = "3 samples queued for analysis in 3 re-analysis batch job(s)"
    assert message in response.content.decode()
    assert BatchJob.objects.filter(kind="reanalyze").count() == 3
    for sample in samples:
        sample.refresh_from_db()
        assert sample.status == SampleStatus.PENDING
    job = BatchJob.objects.filter(kind="reanalyze").first()
    assert admin_client.get(f"/admin/library/batchjob/{job.pk}/change/").status_code == 200


@pytest.mark.django_db
def test_a_samples_admin_page_names_its_files_without_linking_media(admin_client):
    sample = SampleFactory()

    page = admin_client.get(f"/admin/library/sample/{sample.pk}/change/")

    assert page.status_code == 200
    assert sample.file.name in page.content.decode()
    assert 'href="/media/' not in page.content.decode()
