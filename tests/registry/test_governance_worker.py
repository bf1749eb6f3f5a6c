"""The release flow end to end through a real Celery worker: upload, validate, review, sign."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import (
    kill_worker,
    replacement_worker,
    report_figure,
    wait_for_status,
    wait_until,
)
from tests.factories import (
    add_big_file,
    complete_card_fields,
    linear_model,
    make_asset,
    make_validated_version,
    onnx_bytes,
)

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


@pytest.mark.parametrize("celery_worker_env", [{"MODELHUB_CLAIM_LEASE": "6", "MODELHUB_HEARTBEAT_INTERVAL": "1"}])
def test_a_worker_killed_mid_signing_is_replaced_within_seconds(
    celery_worker, celery_worker_env, alice, bob, dave, team, settings, tmp_path
):
    """SIGKILL while the worker hashes a 1 GiB version to sign it: the signing's heartbeat stops, and once its lease
    (6 s here, 30 s by default) has run out the sweep sends it to the next worker, which signs it once."""
    from registry.governance.models import ReviewRound, VersionSignature
    from registry.governance.services import review_submit, version_submit
    from registry.governance.signing import version_signature_verify
    from registry.governance.tasks import signatures_recover_task
    from registry.kernel.audit.models import AuditEvent

    settings.MODELHUB_CLAIM_LEASE = 6
    version = make_validated_version(alice, make_asset(alice, team, slug="big", license="MIT"), tmp_path)
    add_big_file(version)
    version_submit(user=bob, version=version)
    review_submit(user=dave, version=version, decision="approve", comment="Ship it.")  # sends the signing
    wait_until(
        lambda: ReviewRound.objects.filter(version=version, signing_claimed_at__isnull=False).exists(),
        timeout=60,
        every=0.05,
        log=celery_worker.log_path,
    )
    time.sleep(1.0)  # into the copying and hashing, seconds of work
    killed_at = kill_worker(celery_worker)
    assert not VersionSignature.objects.filter(version=version).exists()

    with replacement_worker(tmp_path, celery_worker_env) as replacement:
        wait_until(
            lambda: VersionSignature.objects.filter(version=version).exists(),
            timeout=120,
            tick=signatures_recover_task,  # what celery beat runs every MODELHUB_RECOVERY_INTERVAL
            log=replacement.log_path,
        )
        recovered = time.monotonic() - killed_at
    assert AuditEvent.objects.filter(action="version.signed").count() == 1
    assert version_signature_verify(version=version).valid
    report_figure(f"signing recovered {recovered:.1f} s after its worker was killed (lease 6 s; a new worker started)")
