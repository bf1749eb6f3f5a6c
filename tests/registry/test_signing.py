"""Signed approvals: the organisation key signs an approved version; consumers verify it offline."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ImproperlyConfigured

from registry.governance.models import SigningKey, VersionSignature
from registry.governance.services import review_submit, version_submit
from registry.governance.signing import APPROVAL_FILENAME, signing_key_id, version_sign, version_signature_verify
from registry.kernel.audit.models import AuditEvent
from tests.factories import make_asset, make_validated_version

pytestmark = pytest.mark.django_db
V = "/api/v1/assets/vision/clf/versions/1.0.0"
MODEL_SIGNING_CLI = Path(sys.executable).with_name("model_signing")


@pytest.fixture
def approved_version(alice, bob, dave, team, tmp_path):
    version = make_validated_version(alice, make_asset(alice, team, slug="clf", license="MIT"), tmp_path)
    version_submit(user=bob, version=version)
    review_submit(user=dave, version=version, decision="approve", comment="Reproduced the metrics.")
    return version


def download_for_offline_check(client, folder: Path) -> tuple[Path, Path]:
    """What a consumer does: fetch the files, the approval record, the signature and the public key."""
    model_dir = folder / "clf-1.0.0"
    model_dir.mkdir()
    response = client.get(f"{V}/download")
    (model_dir / "model.onnx").write_bytes(b"".join(response.streaming_content))
    (model_dir / APPROVAL_FILENAME).write_bytes(client.get(f"{V}/approval").content)
    (folder / "model.sig").write_bytes(client.get(f"{V}/signature").content)
    (folder / "modelhub.pub").write_bytes(client.get("/api/v1/signing-key").content)
    return model_dir, folder / "model.sig"


def cli_verify(model_dir: Path, bundle: Path, public_key: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(MODEL_SIGNING_CLI),
            "verify",
            "key",
            "--signature",
            str(bundle),
            "--public_key",
            str(public_key),
            str(model_dir),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_approved_version_is_signed_once_and_audited(approved_version):
    signature = version_sign(version_id=approved_version.pk)
    assert signature.key_id == signing_key_id()
    assert version_sign(version_id=approved_version.pk).pk == signature.pk
    approval = json.loads(signature.approval)
    assert approval["approvers"][0]["username"] == "dave" and approval["policy"]["approvals_required"] == 1
    assert approval["files"]["model.onnx"]["sha256"] == approved_version.sha256
    assert approval["card"].startswith("---\n") and "## Intended use" in approval["card"]
    assert AuditEvent.objects.filter(action="version.signed", target_id=str(approved_version.pk)).count() == 1


def test_unapproved_versions_are_not_signed(alice, team, tmp_path, alice_api):
    version = make_validated_version(alice, make_asset(alice, team, slug="clf", license="MIT"), tmp_path)
    assert version_sign(version_id=version.pk) is None
    response = alice_api.get(f"{V}/signature")
    assert response.status_code == 404 and "only approved versions are signed" in response.json()["detail"]


def test_consumer_verifies_offline_with_the_cli_and_a_changed_byte_fails(approved_version, alice_api, tmp_path):
    version_sign(version_id=approved_version.pk)
    model_dir, bundle = download_for_offline_check(alice_api, tmp_path)
    verified = cli_verify(model_dir, bundle, tmp_path / "modelhub.pub")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Verification succeeded" in verified.stdout

    data = bytearray((model_dir / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0x01
    (model_dir / "model.onnx").write_bytes(bytes(data))
    tampered = cli_verify(model_dir, bundle, tmp_path / "modelhub.pub")
    assert tampered.returncode != 0 and "Hash mismatch for 'model.onnx'" in tampered.stdout + tampered.stderr


def test_a_rewritten_approval_record_fails_verification(approved_version, alice_api, tmp_path):
    import model_signing

    version_sign(version_id=approved_version.pk)
    model_dir, bundle = download_for_offline_check(alice_api, tmp_path)
    record = json.loads((model_dir / APPROVAL_FILENAME).read_text())
    record["approvers"][0]["username"] = "mallory"
    (model_dir / APPROVAL_FILENAME).write_text(json.dumps(record))
    verifier = model_signing.verifying.Config().use_elliptic_key_verifier(public_key=tmp_path / "modelhub.pub")
    with pytest.raises(ValueError, match=APPROVAL_FILENAME):
        verifier.verify(model_dir, bundle)


def test_server_side_check_reports_a_file_changed_in_storage(approved_version, alice_api, _isolated_storage):
    version_sign(version_id=approved_version.pk)
    check = alice_api.get(f"{V}/signature/verification").json()
    assert check["valid"] is True, check
    blob = approved_version.files.get().blob
    stored = _isolated_storage / blob.storage_key
    stored.write_bytes(stored.read_bytes()[:-1] + b"\x00")
    check = version_signature_verify(version=approved_version)
    assert check.valid is False and "no longer verifies" in check.detail


def test_signing_key_from_a_setting_and_bad_keys_are_refused(settings, approved_version):
    key = ec.generate_private_key(ec.SECP256R1())
    settings.MODELHUB_SIGNING_KEY = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    signature = version_sign(version_id=approved_version.pk)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    import hashlib

    assert signature.key_id == hashlib.sha256(der).hexdigest()
    SigningKey.objects.all().delete()  # the configured key is read when the keyring is empty (its first use)
    settings.MODELHUB_SIGNING_KEY = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    with pytest.raises(ImproperlyConfigured, match="elliptic-curve"):
        signing_key_id()
    settings.MODELHUB_SIGNING_KEY = ""
    settings.MODELHUB_SIGNING_KEY_FILE = "/nonexistent/key.pem"
    settings.MODELHUB_SIGNING_KEY_GENERATE = False
    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        signing_key_id()


def test_public_key_is_served_to_anyone(anon_api):
    response = anon_api.get("/api/v1/signing-key")
    assert response.status_code == 200 and response.content.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert response["X-Key-Id"] == signing_key_id()
    assert VersionSignature.objects.count() == 0


def test_the_sweep_takes_a_lost_signing_once_per_lease(approved_version, settings):
    """A signing whose heartbeat stopped a lease ago, or that never started a grace after the approval, is taken by
    the sweep, which stamps it: the next sweep leaves it alone until that stamp is a lease old too."""
    from datetime import timedelta

    from django.utils import timezone

    from registry.governance.models import ReviewRound
    from registry.governance.signing import signatures_reclaim_lost

    settings.MODELHUB_CLAIM_LEASE, settings.MODELHUB_UNCLAIMED_GRACE = 30, 120
    now = timezone.now()
    assert signatures_reclaim_lost(now=now) == []  # approved a moment ago: its task is on its way
    assert signatures_reclaim_lost(now=now + timedelta(seconds=121)) == [approved_version.pk]  # its message was lost
    assert signatures_reclaim_lost(now=now + timedelta(seconds=122)) == []  # taken: not sent at every sweep
    assert signatures_reclaim_lost(now=now + timedelta(seconds=152)) == [approved_version.pk]  # a lease later
    ReviewRound.objects.filter(version=approved_version).update(signing_claimed_at=now + timedelta(seconds=160))
    assert signatures_reclaim_lost(now=now + timedelta(seconds=185)) == []  # a heartbeat 25 s ago: alive
    signature = version_sign(version_id=approved_version.pk)
    assert signatures_reclaim_lost(now=now + timedelta(seconds=999)) == []  # signed
    assert ReviewRound.objects.get(version=approved_version, status="approved").signed_at == signature.signed_at


def test_a_time_limit_during_the_check_is_not_reported_as_a_bad_signature(approved_version, monkeypatch):
    import model_signing
    from celery.exceptions import SoftTimeLimitExceeded

    version_sign(version_id=approved_version.pk)

    class Verifier:
        def verify(self, *args):
            raise SoftTimeLimitExceeded()

    monkeypatch.setattr(model_signing.verifying.Config, "use_elliptic_key_verifier", lambda self, **kwargs: Verifier())
    with pytest.raises(SoftTimeLimitExceeded):
        version_signature_verify(version=approved_version)
