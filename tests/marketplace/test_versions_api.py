import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.artifacts.models import Blob, blob_key
from registry.artifacts.storage import artifact_storage
from registry.kernel.audit.models import AuditEvent
from registry.validation.services import version_validate
from registry.versions.models import AssetVersion
from tests.factories import external_data_zip, linear_model, make_asset, onnx_bytes

pytestmark = pytest.mark.django_db
URL = "/api/v1/assets/vision/iris/versions/"


@pytest.fixture
def model_asset(alice, team):
    return make_asset(alice, team, slug="iris", kind="model")


def upload(client, content: bytes, *, filename="model.onnx", version="1.0.0", url=URL, **fields):
    data = {"version": version, "file": SimpleUploadedFile(filename, content), **fields}
    return client.post(url, data, format="multipart")


def validate(version_string="1.0.0", slug="iris") -> AssetVersion:
    version = AssetVersion.objects.get(asset__slug=slug, version=version_string)
    version_validate(version_id=version.pk, task_id="test-task")
    version.refresh_from_db()
    return version


def test_upload_answers_202_validating_then_validates(bob_api, model_asset):
    content = onnx_bytes()
    response = upload(bob_api, content, metadata='{"epochs": 3}', sha256=hashlib.sha256(content).hexdigest())
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "validating" and body["validation"]["outcome"] == "pending"
    assert body["sha256"] == hashlib.sha256(content).hexdigest() and body["size"] == len(content)
    assert body["files"] == [
        {
            "path": "model.onnx",
            "sha256": body["sha256"],
            "size": len(content),
            "primary": True,
            "download_url": "http://testserver/api/v1/assets/vision/iris/versions/1.0.0/download",
        }
    ]
    assert body["metadata"] == {"epochs": 3}

    version = validate()
    assert version.status == "validated"
    detail = bob_api.get(f"{URL}1.0.0/").json()
    assert detail["signature"] == {
        "inputs": [{"name": "x", "dtype": "float32", "shape": ["batch", 4]}],
        "outputs": [{"name": "y", "dtype": "float32", "shape": ["batch", 3]}],
    }
    report = detail["validation"]
    assert report["outcome"] == "passed" and report["attempts"] == 1
    assert report["details"]["opset_imports"] == {"ai.onnx": 17}
    assert report["details"]["operator_counts"] == {"Gemm": 1, "Relu": 1}
    assert report["details"]["parameter_count"] == 4 * 3 + 3
    assert report["details"]["smoke_inference"]["outputs"] == [{"name": "y", "dtype": "float32", "shape": [1, 3]}]
    assert AuditEvent.objects.filter(action="version.validated", target_id=str(version.pk)).exists()
    assert bob_api.get("/api/v1/assets/vision/iris/").json()["latest_version"] == "1.0.0"


def test_identical_content_is_stored_once(alice_api, model_asset):
    content = onnx_bytes()
    assert upload(alice_api, content, version="1.0.0").status_code == 202
    assert upload(alice_api, content, version="1.0.1").status_code == 202
    sha = hashlib.sha256(content).hexdigest()
    assert Blob.objects.filter(sha256=sha).count() == 1
    assert artifact_storage().exists(blob_key(sha))
    assert blob_key(sha) == f"blobs/sha256/{sha[:2]}/{sha[2:4]}/{sha}"


def test_zip_with_external_data_validates_and_lists_every_file(alice_api, model_asset, tmp_path):
    response = upload(alice_api, external_data_zip(tmp_path), filename="bundle.zip")
    assert response.status_code == 202, response.json()
    assert {(f["path"], f["primary"]) for f in response.json()["files"]} == {
        ("model.onnx", True),
        ("weights.bin", False),
    }
    weights = next(f for f in response.json()["files"] if f["path"] == "weights.bin")
    assert weights["download_url"].endswith("/versions/1.0.0/download?path=weights.bin")
    version = validate()
    assert version.status == "validated", version.validation.reason
    assert version.signature["inputs"][0]["shape"] == ["batch", 64]


def test_download_streams_the_exact_bytes_and_each_file(alice_api, model_asset, tmp_path):
    archive = external_data_zip(tmp_path)
    upload(alice_api, archive, filename="bundle.zip")
    response = alice_api.get(f"{URL}1.0.0/download")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        assert b"".join(response.streaming_content) == z.read("model.onnx")
        weights = alice_api.get(f"{URL}1.0.0/download?path=weights.bin")
        assert b"".join(weights.streaming_content) == z.read("weights.bin")
        assert response["X-Checksum-SHA256"] == hashlib.sha256(z.read("model.onnx")).hexdigest()
    assert response["Content-Disposition"] == 'attachment; filename="model.onnx"'
    missing = alice_api.get(f"{URL}1.0.0/download?path=nope.bin")
    assert missing.status_code == 404 and "weights.bin" in missing.json()["detail"]


def test_versions_sort_by_semver_and_metadata_is_editable_but_files_are_not(alice_api, model_asset):
    for version in ["1.9.0", "1.10.0", "1.10.0-rc.1", "0.1.0"]:
        assert upload(alice_api, onnx_bytes(), version=version).status_code == 202
    listed = [v["version"] for v in alice_api.get(URL).json()["results"]]
    assert listed == ["1.10.0", "1.10.0-rc.1", "1.9.0", "0.1.0"]
    response = alice_api.patch(f"{URL}1.9.0/", {"metadata": {"note": "ok"}}, format="json")
    assert response.status_code == 200 and response.json()["metadata"] == {"note": "ok"}
    assert alice_api.get(f"{URL}1.9.0/").json() == response.json()  # the view answers the version as stored
    response = alice_api.patch(f"{URL}1.9.0/", {"metadata": {}, "sha256": "0" * 64}, format="json")
    assert response.status_code == 400 and "cannot be changed" in response.json()["detail"]


def test_outsider_cannot_upload_or_edit(charlie_api, alice_api, model_asset):
    response = upload(charlie_api, onnx_bytes())
    assert response.status_code == 403
    assert not AssetVersion.objects.exists()
    assert upload(alice_api, onnx_bytes()).status_code == 202
    response = charlie_api.patch(f"{URL}1.0.0/", {"metadata": {"owned": True}}, format="json")
    assert response.status_code == 403
    assert AssetVersion.objects.get().metadata == {}


# --- bad input: each gets a clear error and leaves nothing half-written ---------------------------


def test_missing_token_is_401(anon_api, model_asset):
    response = upload(anon_api, onnx_bytes())
    assert response.status_code == 401
    assert not AssetVersion.objects.exists()


def test_other_teams_private_asset_is_404(alice, team, charlie_api):
    make_asset(alice, team, slug="iris", visibility="private")
    response = upload(charlie_api, onnx_bytes())
    assert response.status_code == 404
    assert not AssetVersion.objects.exists()


def test_wrong_sha256_is_400_and_nothing_is_kept(alice_api, model_asset):
    content = onnx_bytes(linear_model(seed=4242))  # content no other test stores
    response = upload(alice_api, content, sha256="ab" * 32)
    assert response.status_code == 400
    assert "SHA-256" in response.json()["detail"] and response.json()["code"] == "checksum_mismatch"
    sha = hashlib.sha256(content).hexdigest()
    assert not AssetVersion.objects.exists() and not Blob.objects.filter(sha256=sha).exists()
    assert not artifact_storage().exists(blob_key(sha))


def test_duplicate_version_is_409(alice_api, model_asset):
    assert upload(alice_api, onnx_bytes()).status_code == 202
    response = upload(alice_api, b"other bytes, same number")
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_version" and "1.0.0" in response.json()["detail"]
    assert AssetVersion.objects.count() == 1


def test_over_limit_upload_is_413(alice_api, model_asset, settings):
    settings.MODELHUB_MAX_UPLOAD_SIZE = 1000
    response = upload(alice_api, b"x" * 5000)
    assert response.status_code == 413
    assert "over the limit of 1000 bytes" in response.json()["detail"]
    assert not AssetVersion.objects.exists() and not Blob.objects.exists()


def test_over_limit_by_content_length_is_refused_before_reading(alice_api, model_asset, settings):
    settings.MODELHUB_MAX_UPLOAD_SIZE = 10
    response = alice_api.post(URL, b"x" * 2_000_000, content_type="multipart/form-data; boundary=zz")
    assert response.status_code == 413


@pytest.mark.parametrize("version", ["v1.0.0", "1.0", "latest", "1.0.0.0", "01.0.0"])
def test_non_semver_is_400(alice_api, model_asset, version):
    response = upload(alice_api, onnx_bytes(), version=version)
    assert response.status_code == 400
    assert "semantic version" in response.json()["detail"]


def test_model_must_be_a_model_file_or_zip(alice_api, model_asset):
    response = upload(alice_api, b"just text", filename="model.txt")
    assert response.status_code == 400
    assert ".onnx" in response.json()["detail"] and response.json()["code"] == "unsupported_upload"
    assert ".safetensors" in response.json()["detail"]


def test_metadata_must_be_a_small_json_object(alice_api, model_asset, settings):
    assert "not valid JSON" in upload(alice_api, onnx_bytes(), metadata="{nope").json()["detail"]
    assert "JSON object" in upload(alice_api, onnx_bytes(), metadata="[1, 2]").json()["detail"]
    settings.MODELHUB_METADATA_MAX_BYTES = 100
    response = upload(alice_api, onnx_bytes(), metadata='{"k": "' + "v" * 200 + '"}')
    assert response.status_code == 400 and "over the limit of 100 bytes" in response.json()["detail"]
    assert not AssetVersion.objects.exists()


def test_non_onnx_file_fails_validation_with_a_readable_reason(alice_api, model_asset):
    assert upload(alice_api, b"this is plain text, not a model\n" * 10).status_code == 202
    version = validate()
    assert version.status == "invalid"
    assert version.validation.failed_check == "parse"
    assert "not a valid ONNX file" in version.validation.reason or "not an ONNX model" in version.validation.reason


def test_truncated_onnx_fails_validation(alice_api, model_asset):
    content = onnx_bytes()
    assert upload(alice_api, content[: len(content) // 2]).status_code == 202
    version = validate()
    assert version.status == "invalid"
    assert version.validation.failed_check in {"parse", "checker"}
    assert version.validation.reason


def test_external_data_outside_the_folder_makes_the_version_invalid(alice_api, model_asset, tmp_path):
    archive = external_data_zip(tmp_path, location="../../etc/passwd")
    assert upload(alice_api, archive, filename="bundle.zip").status_code == 202
    version = validate()
    assert version.status == "invalid"
    assert version.validation.failed_check == "external_data"
    assert "../../etc/passwd" in version.validation.reason


def test_zip_with_parent_entries_is_400(alice_api, model_asset):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model.onnx", onnx_bytes())
        archive.writestr("../escape.bin", b"x")
    response = upload(alice_api, buffer.getvalue(), filename="bundle.zip")
    assert response.status_code == 400
    assert "../escape.bin" in response.json()["detail"]
    assert not AssetVersion.objects.exists() and not Blob.objects.exists()


def test_zip_bomb_is_400(alice_api, model_asset):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model.onnx", onnx_bytes())
        archive.writestr("weights.bin", b"\0" * (64 * 1024 * 1024))
    assert len(buffer.getvalue()) < 1024 * 1024
    response = upload(alice_api, buffer.getvalue(), filename="bundle.zip")
    assert response.status_code == 400
    assert "zip bomb" in response.json()["detail"]
    assert not AssetVersion.objects.exists() and not Blob.objects.exists()


def test_zip_must_hold_exactly_one_onnx(alice_api, model_asset):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.onnx", onnx_bytes())
        archive.writestr("b.onnx", onnx_bytes())
    response = upload(alice_api, buffer.getvalue(), filename="bundle.zip")
    assert response.status_code == 400
    assert "at most one .onnx" in response.json()["detail"] and "a.onnx, b.onnx" in response.json()["detail"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.md", "no model here")
    response = upload(alice_api, buffer.getvalue(), filename="bundle.zip", version="1.0.1")
    assert response.status_code == 400 and "no model file among README.md" in response.json()["detail"]


def test_local_storage_publishes_upload_temp_files_by_link_and_copies_others(settings, _isolated_storage, tmp_path):
    from pathlib import Path

    from registry.artifacts.storage import blob_store

    temp_upload = Path(settings.FILE_UPLOAD_TEMP_DIR) / "upload-under-test.bin"
    temp_upload.write_bytes(b"linked content")
    elsewhere = tmp_path / "user-file.bin"
    elsewhere.write_bytes(b"copied content")
    try:
        for path, should_link in [(temp_upload, True), (elsewhere, False)]:
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            blob_store(local_path=path, sha256=sha, size=path.stat().st_size)
            stored = _isolated_storage / blob_key(sha)
            assert stored.read_bytes() == path.read_bytes()
            assert stored.samefile(path) is should_link
    finally:
        temp_upload.unlink()


def test_member_uploads_through_a_browser_session_with_csrf(bob, model_asset):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(bob)
    client.cookies["csrftoken"] = "s" * 32
    data = {"version": "1.0.0", "file": SimpleUploadedFile("model.onnx", onnx_bytes())}
    assert client.post(URL, data, format="multipart").status_code == 403  # no CSRF token: refused
    response = client.post(
        URL,
        {**data, "file": SimpleUploadedFile("model.onnx", onnx_bytes())},
        format="multipart",
        HTTP_X_CSRFTOKEN="s" * 32,
    )
    assert response.status_code == 202, response.json()
