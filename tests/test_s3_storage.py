"""Media on an S3-compatible server (moto's, on loopback) through django-storages."""

from __future__ import annotations

import urllib.request

import boto3
import pytest
from moto.server import ThreadedMotoServer

from accounts.models import Role
from library.models import Sample
from library.services.analysis import sample_analyze
from tests import audio
from tests.factories import UserFactory, bearer, upload_file

BUCKET = "samplemind-test"


@pytest.fixture
def s3(settings):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **credentials)
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "access_key": "test",
                "secret_key": "test",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
    }
    yield client
    server.stop()


def _keys(client) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


@pytest.mark.django_db
def test_upload_analyse_download_and_delete_on_s3(
    client, s3, tmp_path, django_capture_on_commit_callbacks
):
    user = UserFactory(role=Role.PRO)
    path = audio.write(tmp_path / "BD_808.wav", audio.kick())

    created = upload_file(client, user, path).json()
    sample = Sample.objects.get(pk=created["id"])
    assert _keys(s3) == {sample.file.name}

    assert sample_analyze(sample_id=str(sample.pk)) == "ready"
    assert _keys(s3) == {sample.file.name}  # a one-shot's preview waits for its first play
    preview = client.get(f"/api/v1/audio/{sample.pk}/preview", **bearer(user))
    assert preview.status_code == 302 and "Signature=" in preview["Location"]
    sample.refresh_from_db()
    assert _keys(s3) == {sample.file.name, sample.preview.name}

    download = client.get(f"/api/v1/audio/{sample.pk}/download", **bearer(user))
    assert download.status_code == 302
    assert "Signature=" in download["Location"]  # a signed, expiring URL
    with urllib.request.urlopen(download["Location"], timeout=10) as response:  # noqa: S310
        assert response.read() == path.read_bytes()
        assert "BD_808.wav" in response.headers["Content-Disposition"]

    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/v1/audio/{sample.pk}", **bearer(user)).status_code == 204
    assert _keys(s3) == set()
