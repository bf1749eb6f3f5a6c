import hashlib
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.artifacts.models import blob_key
from registry.validation.services import version_validate
from registry.versions.models import AssetVersion
from tests.factories import external_data_zip, linear_model, make_asset, make_version, onnx_bytes
from tests.s3 import BUCKET, S3Server

pytestmark = pytest.mark.django_db


def test_upload_stores_content_addressed_object_and_download_redirects_to_presigned_url(
    s3_storage, alice, team, alice_api
):
    make_asset(alice, team, slug="iris")
    content = onnx_bytes(linear_model(seed=7))
    sha = hashlib.sha256(content).hexdigest()
    response = alice_api.post(
        "/api/v1/assets/vision/iris/versions/",
        {"version": "1.0.0", "file": SimpleUploadedFile("model.onnx", content)},
        format="multipart",
    )
    assert response.status_code == 202, response.json()

    head = s3_storage.client().head_object(Bucket=BUCKET, Key=blob_key(sha))
    assert head["ContentLength"] == len(content)

    download = alice_api.get("/api/v1/assets/vision/iris/versions/1.0.0/download")
    assert download.status_code == 302
    url = download["Location"]
    assert url.startswith(f"{s3_storage.endpoint}/{BUCKET}/{blob_key(sha)}?")
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Expires"] == ["300"] and "X-Amz-Signature" in query
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == content
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="model.onnx"'


def test_presigned_url_is_only_handed_to_callers_who_may_see_the_asset(
    s3_storage, alice, team, bob_api, charlie_api, tmp_path
):
    secret = make_asset(alice, team, slug="secret", visibility="private")
    make_version(alice, secret, tmp_path, onnx_bytes(), version="1.0.0")
    url = "/api/v1/assets/vision/secret/versions/1.0.0/download"
    assert bob_api.get(url).status_code == 302  # the version exists: the teammate gets its URL
    refused = charlie_api.get(url)
    assert refused.status_code == 404 and "Location" not in refused


def test_validation_reads_the_files_back_from_s3(s3_storage, alice, team, alice_api, tmp_path):
    make_asset(alice, team, slug="ext")
    archive = external_data_zip(tmp_path, in_features=16, out_features=8)
    response = alice_api.post(
        "/api/v1/assets/vision/ext/versions/",
        {"version": "1.0.0", "file": SimpleUploadedFile("bundle.zip", archive)},
        format="multipart",
    )
    assert response.status_code == 202
    version = AssetVersion.objects.get(asset__slug="ext")
    assert version_validate(version_id=version.pk, task_id="t") is True
    version.refresh_from_db()
    assert version.status == "validated", version.validation.reason
    assert version.signature["inputs"][0]["shape"] == ["batch", 16]


def test_storage_outage_on_upload_is_503_and_records_nothing(settings, alice, team, alice_api):
    down = S3Server()  # never started: nothing listens on its port
    settings.STORAGES = {**settings.STORAGES, "artifacts": down.storage_settings()}
    make_asset(alice, team, slug="iris")
    response = alice_api.post(
        "/api/v1/assets/vision/iris/versions/",
        {"version": "1.0.0", "file": SimpleUploadedFile("model.onnx", onnx_bytes())},
        format="multipart",
    )
    assert response.status_code == 503
    assert "storage is unavailable" in response.json()["detail"]
    assert not AssetVersion.objects.exists()
