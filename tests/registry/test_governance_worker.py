"""The release flow end to end through a real Celery worker: upload, validate, review, sign."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import wait_for_status
from tests.factories import complete_card_fields, linear_model, make_asset, onnx_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]
V = "/api/v1/assets/vision/clf/versions/1.0.0"


def test_approval_is_signed_by_the_worker(celery_worker, alice, team, alice_api, bob_api, dave, client_for):
    make_asset(alice, team, slug="clf", license="Apache-2.0")
    upload = {"version": "1.0.0", "file": SimpleUploadedFile("model.onnx", onnx_bytes(linear_model(3, 2)))}
    assert alice_api.post("/api/v1/assets/vision/clf/versions/", upload, format="multipart").status_code == 202
    assert wait_for_status(alice_api, f"{V}/")["status"] == "validated"
    assert alice_api.put(f"{V}/card", complete_card_fields(), format="json").status_code == 200
    assert bob_api.post(f"{V}/submit", {}, format="json").status_code == 201
    dave_api = client_for(dave)
    response = dave_api.post(f"{V}/reviews", {"decision": "approve", "comment": "Ship it."}, format="json")
    assert response.status_code == 201 and response.json()["version_status"] == "approved"

    deadline = time.monotonic() + 60
    while (signature := alice_api.get(f"{V}/signature")).status_code == 404:
        assert time.monotonic() < deadline, celery_worker.log_path.read_text()[-3000:]
        time.sleep(0.25)
    assert signature.json()["mediaType"].startswith("application/vnd.dev.sigstore.bundle")
    assert alice_api.get(f"{V}/signature/verification").json()["valid"] is True
