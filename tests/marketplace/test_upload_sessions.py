"""Resumable upload sessions (registry/uploads, marketplace/api/uploads.py): parts in any order, again after a
failure, completion with the SHA-256, versions made of complete sessions, expiry; local storage and S3."""

import hashlib
import io
import os
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import onnx
import pytest
from django.db import connection
from django.utils import timezone

from registry.artifacts.models import Blob, blob_key
from registry.artifacts.storage import blob_open, blobs_collect_garbage
from registry.kernel.errors import InvalidInput
from registry.uploads.models import UploadSession
from registry.uploads.services import (
    _part_size,
    upload_part_receive,
    upload_session_create,
    upload_session_verify,
    upload_sessions_expire,
)
from registry.uploads.staging import LocalStaging
from registry.versions.models import AssetVersion
from tests.factories import linear_model, make_asset
from tests.s3 import BUCKET

pytestmark = pytest.mark.django_db
MIB = 1024 * 1024
UPLOADS = "/api/v1/assets/vision/iris/uploads/"
VERSIONS = "/api/v1/assets/vision/iris/versions/"


@pytest.fixture
def iris(alice, team, settings):
    settings.MODELHUB_UPLOAD_PART_SIZE = MIB
    return make_asset(alice, team, slug="iris", kind="model", visibility="private")


@pytest.fixture
def verified(monkeypatch):
    """Completion's task, run at once in this process (a real worker runs it in test_client_flow)."""
    sent = []
    monkeypatch.setattr(
        "registry.uploads.services.task_send_on_commit", lambda name, session_id: sent.append(session_id)
    )

    def run():
        while sent:
            upload_session_verify(sent.pop(0))

    return run


def external_model(tmp_path: Path, weights: int = 700_000) -> dict[str, bytes]:
    """model.onnx and weights.bin: a graph whose initializer (`weights` floats) lives in external data."""
    folder = tmp_path / "model"
    folder.mkdir()
    model = linear_model(weights // 100, 100)
    onnx.save_model(model, folder / "model.onnx", save_as_external_data=True, location="weights.bin", size_threshold=0)
    return {name: (folder / name).read_bytes() for name in ("model.onnx", "weights.bin")}


def put_parts(api, session: dict, data: bytes, numbers=None) -> None:
    for part in session["missing"]:
        if numbers is None or part["number"] in numbers:
            chunk = data[part["offset"] : part["offset"] + part["size"]]
            response = api.put(part["url"], chunk, content_type="application/octet-stream")
            assert response.status_code == 200, response.json()


def upload(api, verified, name: str, data: bytes) -> str:
    session = api.post(UPLOADS, {"filename": name, "size": len(data)}, format="json").json()
    put_parts(api, session, data)
    done = api.post(f"{session['url']}/complete", {"sha256": hashlib.sha256(data).hexdigest()}, format="json")
    assert done.status_code == 202, done.json()
    verified()
    assert api.get(session["url"]).json()["status"] == "complete"
    return session["id"]


def test_parts_in_any_order_and_again_make_a_verified_blob_and_a_version(alice_api, iris, verified, tmp_path):
    files = external_model(tmp_path)
    weights = files["weights.bin"]
    assert len(weights) > 2 * MIB
    created = alice_api.post(UPLOADS, {"filename": "weights.bin", "size": len(weights)}, format="json")
    assert created.status_code == 201, created.json()
    session = created.json()
    assert session["part_size"] == MIB and session["part_count"] == 3 and session["status"] == "open"
    assert [p["number"] for p in session["missing"]] == [1, 2, 3]
    assert session["missing"][2]["size"] == len(weights) - 2 * MIB and not session["missing"][0]["presigned"]

    put_parts(alice_api, session, weights, numbers={3, 1})
    put_parts(alice_api, session, b"\0" * len(weights), numbers={3})  # a bad copy of part 3 ...
    put_parts(alice_api, session, weights, numbers={3})  # ... replaced by sending it again
    state = alice_api.get(session["url"]).json()
    assert state["received"] == 2 and [p["number"] for p in state["missing"]] == [2]

    sha = hashlib.sha256(weights).hexdigest()
    early = alice_api.post(f"{session['url']}/complete", {"sha256": sha}, format="json")
    assert early.status_code == 409 and "1 of 3 parts are missing" in early.json()["detail"]
    put_parts(alice_api, state, weights)
    done = alice_api.post(f"{session['url']}/complete", {"sha256": sha}, format="json")
    assert done.status_code == 202 and done.json()["status"] == "verifying"
    again = alice_api.post(f"{session['url']}/complete", {"sha256": sha.upper()}, format="json")
    assert again.status_code == 202  # idempotent
    verified()
    assert alice_api.get(session["url"]).json()["status"] == "complete"
    assert Blob.objects.get(sha256=sha).size == len(weights)
    assert not LocalStaging.path(UploadSession.objects.get()).exists()

    graph = upload(alice_api, verified, "model.onnx", files["model.onnx"])
    response = alice_api.post(
        VERSIONS,
        {
            "version": "1.0.0",
            "files": [{"path": "model.onnx", "upload": graph}, {"path": "weights.bin", "upload": session["id"]}],
            "metadata": {"framework": "onnx"},
        },
        format="json",
    )
    assert response.status_code == 202, response.json()
    version = response.json()
    assert version["filename"] == "model.onnx" and version["size"] == len(weights) + len(files["model.onnx"])
    assert {f["path"]: f["sha256"] for f in version["files"]}["weights.bin"] == sha
    assert not UploadSession.objects.exists()  # used up by the version
    download = alice_api.get(f"{VERSIONS}1.0.0/download?path=weights.bin")
    assert b"".join(download.streaming_content) == weights


def test_a_wrong_sha256_fails_the_session_and_stores_nothing(alice_api, iris, verified):
    data = os.urandom(MIB + 10)
    session = alice_api.post(UPLOADS, {"filename": "data.bin", "size": len(data)}, format="json").json()
    put_parts(alice_api, session, data)
    alice_api.post(f"{session['url']}/complete", {"sha256": "0" * 64}, format="json")
    verified()
    state = alice_api.get(session["url"]).json()
    assert state["status"] == "failed" and hashlib.sha256(data).hexdigest() in state["error"]
    assert not Blob.objects.exists() and not LocalStaging.path(UploadSession.objects.get()).exists()
    refused = alice_api.post(
        VERSIONS, {"version": "1.0.0", "files": [{"path": "model.onnx", "upload": session["id"]}]}, format="json"
    )
    assert refused.status_code == 400 and "failed" in refused.json()["detail"]
    assert not AssetVersion.objects.exists()
    retry = alice_api.post(f"{session['url']}/complete", {"sha256": hashlib.sha256(data).hexdigest()}, format="json")
    assert retry.status_code == 409 and "Start a new session" in retry.json()["detail"]


def test_parts_of_the_wrong_size_or_number_are_refused(alice_api, iris):
    session = alice_api.post(UPLOADS, {"filename": "x.bin", "size": MIB + 1}, format="json").json()
    url = session["url"]
    short = alice_api.put(f"{url}/parts/1", b"x" * 100, content_type="application/octet-stream")
    assert short.status_code == 400 and "part 1 is 1,048,576 bytes" in short.json()["detail"]
    beyond = alice_api.put(f"{url}/parts/3", b"x", content_type="application/octet-stream")
    assert beyond.status_code == 400 and "there is no part 3" in beyond.json()["detail"]
    assert alice_api.get(url).json()["received"] == 0
    for body, message in [({"filename": "x", "size": 0}, "size"), ({"filename": "x"}, "size")]:
        response = alice_api.post(UPLOADS, body, format="json")
        assert response.status_code == 400 and message in response.json()["detail"]


def test_a_part_cut_short_is_not_recorded(alice, iris):
    session = upload_session_create(user=alice, asset=iris, filename="x.bin", size=MIB)
    with pytest.raises(InvalidInput, match="ended after 1,000 of its 1,048,576 bytes"):
        upload_part_receive(user=alice, session=session, number=1, length=MIB, stream=io.BytesIO(b"y" * 1000))
    assert not session.parts.exists()


def test_too_large_sessions_are_refused_before_anything_is_staged(alice_api, iris, settings):
    settings.MODELHUB_UPLOAD_SESSION_MAX_SIZE = 10 * MIB
    response = alice_api.post(UPLOADS, {"filename": "big.bin", "size": 11 * MIB}, format="json")
    assert response.status_code == 413 and "over the limit of 10.0 MiB" in response.json()["detail"]
    huge = alice_api.post(UPLOADS, {"filename": "big.bin", "size": 2**62}, format="json")
    assert huge.status_code == 413 and not UploadSession.objects.exists()


def test_ten_thousand_parts_at_most(alice, iris, settings):
    settings.MODELHUB_UPLOAD_PART_SIZE = 5 * MIB
    size = 20 * 1024**4  # no file this big is staged here: only the layout is computed
    assert -(-size // _part_size(size, "local")) <= 10_000 and _part_size(size, "local") % MIB == 0
    assert _part_size(100 * MIB, "s3") == 5 * MIB


def test_only_the_asset_team_uploads_and_reads_sessions(alice_api, bob_api, charlie_api, iris, client_for):
    response = charlie_api.post(UPLOADS, {"filename": "x", "size": 10}, format="json")
    assert response.status_code == 404  # a private asset is not there for outsiders
    session = alice_api.post(UPLOADS, {"filename": "x", "size": 10}, format="json").json()
    assert bob_api.get(session["url"]).status_code == 200  # a team member may resume it
    assert charlie_api.get(session["url"]).status_code == 404
    assert (
        charlie_api.put(f"{session['url']}/parts/1", b"x" * 10, content_type="application/octet-stream").status_code
        == 404
    )
    iris.visibility = "internal"
    iris.save()
    # A non-member sees the asset, not its sessions, and may not open one.
    assert charlie_api.get(session["url"]).status_code == 404
    part = charlie_api.put(f"{session['url']}/parts/1", b"x" * 10, content_type="application/octet-stream")
    assert part.status_code == 404 and charlie_api.get(UPLOADS).json() == []
    assert charlie_api.post(UPLOADS, {"filename": "x", "size": 10}, format="json").status_code == 403
    assert alice_api.get(UPLOADS).json()[0]["id"] == session["id"] and bob_api.get(UPLOADS).json() == []


def test_versions_take_only_complete_sessions_of_their_asset_once(alice, alice_api, iris, team, verified, tmp_path):
    files = external_model(tmp_path, weights=1000)
    graph = upload(alice_api, verified, "model.onnx", files["model.onnx"])
    weights = upload(alice_api, verified, "weights.bin", files["weights.bin"])
    still_open = alice_api.post(UPLOADS, {"filename": "y", "size": 5}, format="json").json()["id"]
    make_asset(alice, team, slug="other", kind="model")
    elsewhere = alice_api.post(
        "/api/v1/assets/vision/other/uploads/", {"filename": "z", "size": 5}, format="json"
    ).json()["id"]

    def create(entries, version="1.0.0"):
        return alice_api.post(VERSIONS, {"version": version, "files": entries}, format="json")

    cases = [
        ([{"path": "model.onnx", "upload": still_open}], "is open"),
        ([{"path": "model.onnx", "upload": elsewhere}], "is not an upload session of 'vision/iris'"),
        ([{"path": "../model.onnx", "upload": graph}], '".." component'),
        ([{"path": "model.onnx", "upload": graph}, {"path": "MODEL.onnx", "upload": weights}], "differ only in"),
        ([{"path": "weights.dat", "upload": weights}], "no model file among weights.dat"),
        ([{"path": "model.onnx", "upload": graph}, {"path": "w.bin", "upload": graph}], "one file only"),
        ([], "at least one file"),
    ]
    for entries, message in cases:
        response = create(entries)
        assert response.status_code == 400 and message in response.json()["detail"], (entries, response.json())
    assert not AssetVersion.objects.exists() and UploadSession.objects.count() == 4

    entries = [{"path": "model.onnx", "upload": graph}, {"path": "weights.bin", "upload": weights}]
    assert create(entries).status_code == 202
    second = create(entries, version="1.0.1")
    assert second.status_code == 400 and "is not an upload session" in second.json()["detail"]


def test_expired_sessions_are_deleted_with_what_they_staged(alice, alice_api, iris, verified):
    data = os.urandom(1000)
    done = upload(alice_api, verified, "done.bin", data)
    open_one = alice_api.post(UPLOADS, {"filename": "open.bin", "size": 3 * MIB}, format="json").json()
    staged = LocalStaging.path(UploadSession.objects.get(pk=open_one["id"]))
    assert staged.exists()
    assert upload_sessions_expire() == 0
    later = timezone.now() + timedelta(days=2)
    assert upload_sessions_expire(now=later) == 2
    assert not staged.exists() and not UploadSession.objects.exists()
    assert alice_api.get(f"{UPLOADS}{done}").status_code == 404
    # The blob the unused session made is garbage now.
    assert blobs_collect_garbage(older_than=later) == [hashlib.sha256(data).hexdigest()]


def test_a_completed_blob_is_not_collected_while_its_session_lives(alice_api, iris, verified):
    upload(alice_api, verified, "done.bin", b"kept")
    assert blobs_collect_garbage(older_than=timezone.now() + timedelta(hours=1)) == []


def test_abort_deletes_the_session(alice_api, iris):
    session = alice_api.post(UPLOADS, {"filename": "x.bin", "size": 10}, format="json").json()
    staged = LocalStaging.path(UploadSession.objects.get())
    assert alice_api.delete(session["url"]).status_code == 204
    assert not staged.exists() and not UploadSession.objects.exists()
    assert (
        alice_api.put(f"{session['url']}/parts/1", b"x" * 10, content_type="application/octet-stream").status_code
        == 404
    )


def test_a_late_part_after_completion_is_refused(alice, alice_api, iris, verified):
    data = os.urandom(100)
    session_id = upload(alice_api, verified, "x.bin", data)
    late = alice_api.put(f"{UPLOADS}{session_id}/parts/1", b"z" * 100, content_type="application/octet-stream")
    assert late.status_code == 409
    blob = Blob.objects.get(sha256=hashlib.sha256(data).hexdigest())
    with blob_open(blob) as fh:
        assert fh.read() == data


# --- S3: parts go straight to the bucket ----------------------------------------------------------------


def test_on_s3_parts_go_to_presigned_urls_and_the_web_process_carries_no_bytes(
    s3_storage, alice, alice_api, iris, verified, tmp_path
):
    files = external_model(tmp_path, weights=2_800_000)  # 11 MB of weights: 3 parts of 5 MiB (S3's minimum)
    weights = files["weights.bin"]
    session = alice_api.post(UPLOADS, {"filename": "weights.bin", "size": len(weights)}, format="json").json()
    assert session["part_size"] == 5 * MIB and session["part_count"] == 3
    parts = session["missing"]
    assert all(p["presigned"] and p["url"].startswith(s3_storage.endpoint) for p in parts)
    refused = alice_api.put(f"{session['url']}/parts/1", b"x", content_type="application/octet-stream")
    assert refused.status_code == 409 and "straight to S3" in refused.json()["detail"]
    with httpx.Client() as direct:
        for part in reversed(parts[1:]):
            chunk = weights[part["offset"] : part["offset"] + part["size"]]
            assert direct.put(part["url"], content=chunk).status_code == 200
        state = alice_api.get(session["url"]).json()
        assert state["received"] == 2 and [p["number"] for p in state["missing"]] == [1]
        first = state["missing"][0]
        assert direct.put(first["url"], content=weights[: first["size"]]).status_code == 200
    sha = hashlib.sha256(weights).hexdigest()
    assert alice_api.post(f"{session['url']}/complete", {"sha256": sha}, format="json").status_code == 202
    verified()
    assert alice_api.get(session["url"]).json()["status"] == "complete"
    client = s3_storage.client()
    assert client.head_object(Bucket=BUCKET, Key=blob_key(sha))["ContentLength"] == len(weights)
    assert client.list_objects_v2(Bucket=BUCKET, Prefix="uploads/").get("KeyCount") == 0

    graph = upload_s3(alice_api, verified, "model.onnx", files["model.onnx"])
    response = alice_api.post(
        VERSIONS,
        {
            "version": "1.0.0",
            "files": [{"path": "model.onnx", "upload": graph}, {"path": "weights.bin", "upload": session["id"]}],
        },
        format="json",
    )
    assert response.status_code == 202, response.json()


def upload_s3(api, verified, name: str, data: bytes) -> str:
    session = api.post(UPLOADS, {"filename": name, "size": len(data)}, format="json").json()
    with httpx.Client() as direct:
        for part in session["missing"]:
            assert direct.put(part["url"], content=data[part["offset"] : part["offset"] + part["size"]]).is_success
    api.post(f"{session['url']}/complete", {"sha256": hashlib.sha256(data).hexdigest()}, format="json")
    verified()
    return session["id"]


def test_on_s3_a_mismatch_and_an_expiry_leave_nothing_in_the_bucket(s3_storage, alice_api, iris, verified):
    data = os.urandom(6 * MIB)
    session = alice_api.post(UPLOADS, {"filename": "x.bin", "size": len(data)}, format="json").json()
    with httpx.Client() as direct:
        for part in session["missing"]:
            direct.put(part["url"], content=data[part["offset"] : part["offset"] + part["size"]])
    alice_api.post(f"{session['url']}/complete", {"sha256": "1" * 64}, format="json")
    verified()
    assert alice_api.get(session["url"]).json()["status"] == "failed"
    client = s3_storage.client()
    assert client.list_objects_v2(Bucket=BUCKET, Prefix="uploads/").get("KeyCount") == 0
    assert not Blob.objects.exists()

    alice_api.post(UPLOADS, {"filename": "abandoned.bin", "size": 6 * MIB}, format="json")
    assert len(client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])) == 1
    assert upload_sessions_expire(now=timezone.now() + timedelta(days=2)) == 2
    assert client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert not UploadSession.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_verification_waits_for_a_part_still_being_written(alice, alice_api, iris, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "registry.uploads.services.task_send_on_commit", lambda name, session_id: sent.append(session_id)
    )
    data = os.urandom(100)
    session = alice_api.post(UPLOADS, {"filename": "x.bin", "size": len(data)}, format="json").json()
    put_parts(alice_api, session, data)
    alice_api.post(f"{session['url']}/complete", {"sha256": hashlib.sha256(data).hexdigest()}, format="json")
    staged = UploadSession.objects.get()
    with LocalStaging().writing(staged):  # a writer that got its lock before the session completed

        def verify():
            try:
                upload_session_verify(sent[0])
            finally:
                connection.close()

        verifying = threading.Thread(target=verify)
        verifying.start()
        verifying.join(timeout=1)
        assert verifying.is_alive()  # waits for the writer
    verifying.join(timeout=10)
    assert not verifying.is_alive()
    assert alice_api.get(session["url"]).json()["status"] == "complete"
