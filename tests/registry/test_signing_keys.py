"""The signing keyring: rotating keys keeps every earlier signature valid, a revoked key's signatures are refused with
the reason, the configured key of an older install joins the ring by itself; and signatures made upstream
(`model.sig` uploaded with the files) are checked at validation against the keys the organisation trusts."""

import io
import itertools
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import Client

from registry.endpoints.services import endpoint_create
from registry.governance.keys import (
    signing_key_activate,
    signing_key_active,
    signing_key_add,
    signing_key_get,
    signing_key_retire,
    signing_key_revoke,
    signing_keyring_bootstrap,
)
from registry.governance.models import SigningKey, VersionSignature
from registry.governance.services import review_submit, version_submit
from registry.governance.signing import version_sign, version_signature_verify
from registry.kernel.audit.models import AuditEvent
from registry.kernel.errors import Conflict, InvalidInput
from registry.kernel.lib.model_signatures import private_key_pem, public_key_id, public_key_pem
from registry.validation.services import version_validate
from registry.validation.upstream import upstream_key_trust, upstream_key_untrust
from tests.factories import make_asset, make_validated_version, make_version, onnx_bytes

pytestmark = pytest.mark.django_db
MODEL_SIGNING_CLI = Path(sys.executable).with_name("model_signing")
V = "/api/v1/assets/vision/clf/versions"


@pytest.fixture(autouse=True)
def keys_dir(settings, tmp_path):
    settings.MODELHUB_SIGNING_KEYS_DIR = str(tmp_path / "signing-keys")
    settings.MODELHUB_RUNTIME_MODELS_DIR = str(tmp_path / "runtime-models")
    return tmp_path / "signing-keys"


@pytest.fixture
def asset(alice, team):
    return make_asset(alice, team, slug="clf", license="MIT")


@pytest.fixture
def approve(alice, bob, dave, asset, tmp_path):
    """Approve and sign version `number` of vision/clf with whichever key is active now."""

    def approve(number: str) -> VersionSignature:
        version = make_validated_version(alice, asset, tmp_path, version=number)
        version_submit(user=bob, version=version)
        review_submit(user=dave, version=version, decision="approve", comment="Reproduced the metrics.")
        return version_sign(version_id=version.pk)

    return approve


def _actions() -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="registry.signingkey").order_by("seq").values_list("action", flat=True)
    )


# --- rotation ------------------------------------------------------------------------------------------------------


def test_rotating_keeps_the_old_signatures_valid_and_signs_new_ones_with_the_new_key(approve, keys_dir):
    first = approve("1.0.0")
    original = signing_key_active()
    assert first.key_id == original.key_id and original.name.startswith("organisation key")

    rotated = signing_key_add(generate=True, name="2027", activate=True)
    original.refresh_from_db()
    assert (rotated.status, original.status) == ("active", "retired") and original.retired_at is not None
    second = approve("2.0.0")
    assert second.key_id == rotated.key_id != first.key_id

    old_check, new_check = (version_signature_verify(version=s.version) for s in (first, second))
    assert old_check.valid and old_check.key_id == original.key_id and "retired" in old_check.detail, old_check
    assert new_check.valid and new_check.key_id == rotated.key_id and "2027" in new_check.detail, new_check
    # The private half is in the key store, never in the database.
    stored = keys_dir / f"{rotated.key_id}.pem"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600 and b"PRIVATE KEY" in stored.read_bytes()
    assert "PRIVATE" not in rotated.public_key_pem
    assert _actions() == ["signing_key.activated", "signing_key.added", "signing_key.retired", "signing_key.activated"]


def test_a_retired_key_verifies_and_may_sign_again(approve):
    first = approve("1.0.0")
    original = signing_key_active()
    rotated = signing_key_add(generate=True, name="next", activate=True)
    assert signing_key_retire(key_id=original.key_id).status == "retired"  # idempotent on a retired key
    assert version_signature_verify(version=first.version).valid
    # Rolling the rotation back: the configured key activates again (its private half is the configured one).
    assert signing_key_activate(key_id=original.key_id[:8]).status == "active"
    rotated.refresh_from_db()
    assert rotated.status == "retired" and approve("2.0.0").key_id == original.key_id


def test_illegal_moves_are_refused_with_what_to_do(approve, keys_dir):
    approve("1.0.0")
    active = signing_key_active()
    with pytest.raises(Conflict, match="active key: activate another key first") as refused:
        signing_key_retire(key_id=active.key_id)
    assert refused.value.code == "illegal_transition"
    with pytest.raises(Conflict, match="activate another key first"):
        signing_key_revoke(key_id=active.key_id, reason="leaked")
    with pytest.raises(InvalidInput, match="reason is required"):
        signing_key_revoke(key_id=active.key_id, reason="  ")
    pending = signing_key_add(generate=True, name="spare")
    assert pending.status == "pending" and signing_key_active() == active
    revoked = signing_key_revoke(key_id=pending.key_id, reason="never used; generated by mistake")
    assert revoked.status == "revoked" and revoked.revoked_at is not None
    with pytest.raises(Conflict, match="is revoked: 'activate' is not allowed") as refused:
        signing_key_activate(key_id=pending.key_id)
    assert refused.value.code == "illegal_transition"
    with pytest.raises(Conflict, match="is revoked: 'revoke' is not allowed"):
        signing_key_revoke(key_id=pending.key_id, reason="again")
    with pytest.raises(InvalidInput, match="not both or neither"):
        signing_key_add(generate=True, private_key=b"x")
    rsa_pem = private_key_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    with pytest.raises(InvalidInput, match="elliptic-curve"):
        signing_key_add(private_key=rsa_pem)
    key = ec.generate_private_key(ec.SECP256R1())
    added = signing_key_add(private_key=private_key_pem(key), name="imported")
    with pytest.raises(Conflict, match="in the keyring already"):
        signing_key_add(private_key=private_key_pem(key))
    (keys_dir / f"{added.key_id}.pem").unlink()  # a key whose private half is gone cannot be made to sign
    with pytest.raises(Conflict, match="private key is not in the key store"):
        signing_key_activate(key_id=added.key_id)
    assert signing_key_active() == active
    with pytest.raises(IntegrityError), transaction.atomic():  # and the database holds one active key, whatever
        SigningKey.objects.filter(pk=added.pk).update(status="active")


def test_key_ids_are_taken_by_a_prefix_of_eight_unless_ambiguous():
    signing_keyring_bootstrap()
    for suffix in "12":
        SigningKey.objects.create(key_id="abcdef01" + suffix * 56, name=suffix, public_key_pem="-", status="retired")
    with pytest.raises(InvalidInput, match="more than one"):
        signing_key_get(key_id="abcdef01")
    assert signing_key_get(key_id="abcdef011").name == "1"
    with pytest.raises(InvalidInput, match="at least 8"):
        signing_key_get(key_id="abcdef0")


# --- revocation ----------------------------------------------------------------------------------------------------


def test_a_revoked_key_s_signatures_are_reported_with_the_reason_and_not_deployed(approve, bob, team, bob_api):
    first = approve("1.0.0")
    original = signing_key_active()
    signing_key_add(generate=True, name="after the leak", activate=True)
    signing_key_revoke(key_id=original.key_id, reason="the key leaked in a CI log")

    check = version_signature_verify(version=first.version)
    assert not check.valid and check.key_id == original.key_id
    assert original.key_id[:16] in check.detail and "revoked on" in check.detail
    assert "the key leaked in a CI log" in check.detail
    with pytest.raises(Conflict, match="the key leaked in a CI log") as refused:
        endpoint_create(user=bob, team=team, asset="vision/clf", version="1.0.0", name="scorer")
    assert refused.value.code == "signature_invalid"
    answer = bob_api.post(
        "/api/v1/endpoints/", {"team": "vision", "asset": "vision/clf", "version": "1.0.0"}, format="json"
    )
    assert answer.status_code == 409 and answer.json()["code"] == "signature_invalid"
    assert "revoked" in answer.json()["detail"]
    verification = bob_api.get(f"{V}/1.0.0/signature/verification").json()
    assert verification["valid"] is False and verification["key_id"] == original.key_id
    assert _actions()[-1] == "signing_key.revoked"
    event = AuditEvent.objects.filter(action="signing_key.revoked").get()
    assert event.data["reason"] == "the key leaked in a CI log" and event.after == {"status": "revoked"}


def test_a_signature_naming_a_key_outside_the_ring_is_reported(approve):
    signed = approve("1.0.0")
    VersionSignature.objects.filter(pk=signed.pk).update(key_id="0" * 64)
    check = version_signature_verify(version=signed.version)
    assert not check.valid and "not in this Modelhub's keyring" in check.detail


# --- upgrading -----------------------------------------------------------------------------------------------------


def test_a_signature_made_before_the_keyring_existed_still_verifies(approve, settings):
    """Before the upgrade there were signatures and no key rows: the configured key joins the ring on first use."""
    signed = approve("1.0.0")
    SigningKey.objects.all().delete()
    check = version_signature_verify(version=signed.version)
    assert check.valid, check.detail
    registered = SigningKey.objects.get()
    assert registered.key_id == signed.key_id and registered.status == "active"
    assert registered.activated_at is not None
    assert AuditEvent.objects.filter(action="signing_key.activated").last().data["registered_from"] in (
        "MODELHUB_SIGNING_KEY",
        "MODELHUB_SIGNING_KEY_FILE",
    )
    signing_keyring_bootstrap()
    assert SigningKey.objects.count() == 1


def test_registering_the_configured_key_is_safe_when_another_process_wins(monkeypatch):
    """Two processes that both find the ring empty: the one that loses the insert finds the winner's row."""
    winner = signing_key_add(generate=True, name="won the race")  # bootstraps the configured key first
    SigningKey.objects.exclude(pk=winner.pk).delete()
    SigningKey.objects.filter(pk=winner.pk).update(status="active")
    monkeypatch.setattr(SigningKey.objects, "exists", lambda: False)  # this process read "empty" a moment ago
    signing_keyring_bootstrap()  # its insert of the configured key as active meets the winner's active key
    assert list(SigningKey.objects.values_list("name", flat=True)) == ["won the race"]


def test_a_changed_default_key_is_not_taken_for_the_registered_one(approve, settings, tmp_path):
    """Once registered, the configured key is only asked for its private half: replacing it changes nothing."""
    signed = approve("1.0.0")
    settings.MODELHUB_SIGNING_KEY = private_key_pem(ec.generate_private_key(ec.SECP256R1())).decode()
    assert signing_key_active().key_id == signed.key_id
    assert version_signature_verify(version=signed.version).valid


# --- offline, with the CLI -----------------------------------------------------------------------------------------


def test_the_cli_verifies_an_old_signature_with_the_key_it_names(approve, alice_api, anon_api, tmp_path):
    approve("1.0.0")
    signing_key_add(generate=True, name="2027", activate=True)
    folder = tmp_path / "offline"
    model_dir = folder / "clf-1.0.0"
    model_dir.mkdir(parents=True)
    download = alice_api.get(f"{V}/1.0.0/download")
    (model_dir / "model.onnx").write_bytes(b"".join(download.streaming_content))
    (model_dir / "modelhub-approval.json").write_bytes(alice_api.get(f"{V}/1.0.0/approval").content)
    signature = alice_api.get(f"{V}/1.0.0/signature")
    (folder / "model.sig").write_bytes(signature.content)
    key_id = signature["X-Key-Id"]
    assert key_id != signing_key_active().key_id  # the signature's key, not the one signing now
    by_format = anon_api.get(f"/api/v1/signing-keys/{key_id}?format=pem")
    by_accept = anon_api.get(f"/api/v1/signing-keys/{key_id}", HTTP_ACCEPT="application/x-pem-file")
    assert by_format.content == by_accept.content and by_format["Content-Type"] == "application/x-pem-file"
    (folder / "named.pub").write_bytes(by_format.content)
    (folder / "active.pub").write_bytes(anon_api.get("/api/v1/signing-key").content)

    def cli(public_key: str) -> subprocess.CompletedProcess:
        command = [str(MODEL_SIGNING_CLI), "verify", "key", "--signature", str(folder / "model.sig")]
        command += ["--public_key", str(folder / public_key), str(model_dir)]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    verified = cli("named.pub")
    assert verified.returncode == 0 and "Verification succeeded" in verified.stdout, verified.stdout + verified.stderr
    with_the_new_key = cli("active.pub")
    assert with_the_new_key.returncode != 0 and "Key mismatch" in with_the_new_key.stdout + with_the_new_key.stderr


# --- the command ---------------------------------------------------------------------------------------------------


def _command(*args) -> str:
    out = io.StringIO()
    call_command("signingkey", *args, stdout=out)
    return out.getvalue()


def test_the_command_lists_adds_rotates_and_revokes(approve, tmp_path, keys_dir):
    signed = approve("1.0.0")
    original = signing_key_active()
    listed = _command("list")
    assert original.key_id in listed and "active" in listed

    key_file = tmp_path / "imported.pem"
    key_file.write_bytes(private_key_pem(ec.generate_private_key(ec.SECP384R1())))
    imported = _command("add", "--private-key-file", str(key_file), "--name", "imported")
    assert "pending" in imported
    imported_id = imported.split()[1]
    assert (keys_dir / f"{imported_id}.pem").exists()
    generated = _command("add", "--generate", "--name", "2027", "--activate")
    generated_id = generated.split()[1]
    assert "active" in generated and signing_key_active().key_id == generated_id
    assert "retired" in _command("retire", imported_id[:8])
    assert "activated" in _command("activate", imported_id[:12])
    assert signing_key_active().key_id == imported_id
    revoked = _command("revoke", original.key_id[:10], "--reason", "rotated out after the audit")
    assert "revoked" in revoked
    listed = _command("list")
    assert "rotated out after the audit" in listed and "2027" in listed and "imported" in listed
    assert not version_signature_verify(version=signed.version).valid

    with pytest.raises(CommandError, match="activate another key first"):
        _command("retire", imported_id)
    with pytest.raises(CommandError, match="reason"):
        _command("revoke", generated_id)  # --reason is required
    with pytest.raises(CommandError, match="No signing key"):
        _command("activate", "ffffffff")
    with pytest.raises(CommandError, match="at least 8"):
        _command("activate", "abc")
    with pytest.raises(CommandError, match="cannot read"):
        _command("add", "--private-key-file", str(tmp_path / "missing.pem"))
    with pytest.raises(CommandError):
        _command("add", "--generate", "--private-key-file", str(key_file))  # one source only


# --- signatures made upstream --------------------------------------------------------------------------------------


@pytest.fixture
def pipeline_key(tmp_path):
    """The training pipeline's key: its private half signs the model, the public half is what an operator trusts."""
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "pipeline.pem").write_bytes(private_key_pem(key))
    (tmp_path / "pipeline.pub").write_text(public_key_pem(key.public_key()))
    return key


_uploads = itertools.count()


def _signed_upload(tmp_path, private_key_path: Path, *, tamper: bool = False) -> bytes:
    """What the pipeline uploads: its model folder, signed with model_signing (the bundle at the default
    `model.sig`), zipped with the bundle beside the files."""
    import model_signing

    folder = tmp_path / f"pipeline-out-{next(_uploads)}"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(onnx_bytes())
    (folder / "config.json").write_text('{"threshold": 0.5}')
    bundle = tmp_path / f"{folder.name}.sig"
    model_signing.signing.Config().use_elliptic_key_signer(private_key=private_key_path).sign(folder, bundle)
    if tamper:
        (folder / "config.json").write_text('{"threshold": 0.1}')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in ("model.onnx", "config.json"):
            archive.write(folder / name, name)
        archive.write(bundle, "model.sig")
    return buffer.getvalue()


def _upload_and_validate(alice, asset, tmp_path, content: bytes, version: str):
    made = make_version(alice, asset, tmp_path, content, filename="model.zip", version=version)
    version_validate(version_id=made.pk, task_id=f"t-{version}")
    made.refresh_from_db()
    return made


def test_an_upload_signed_upstream_by_a_trusted_key_is_validated_and_shown(
    alice, asset, tmp_path, pipeline_key, alice_api
):
    trusted = upstream_key_trust(public_key=(tmp_path / "pipeline.pub").read_bytes(), name="training pipeline")
    assert trusted.key_id == public_key_id(pipeline_key.public_key())
    version = _upload_and_validate(alice, asset, tmp_path, _signed_upload(tmp_path, tmp_path / "pipeline.pem"), "1.0.0")
    assert version.status == "validated", version.validation.reason
    expected = {"verified": True, "key_id": trusted.key_id, "key_name": "training pipeline"}
    assert version.validation.details["upstream_signature"] == expected
    assert "smoke_inference" in version.validation.details  # the other checks ran as usual
    assert alice_api.get(f"{V}/1.0.0/").json()["upstream_signature"] == expected
    portal = Client()
    portal.force_login(alice)
    page = portal.get("/assets/vision/clf/?version=1.0.0").content.decode()
    assert "Signed upstream by training pipeline" in page
    assert AuditEvent.objects.filter(action="upstream_key.trusted", target_id=str(trusted.pk)).exists()


def test_a_tampered_file_or_an_untrusted_key_fails_validation_with_the_reason(alice, asset, tmp_path, pipeline_key):
    upstream_key_trust(public_key=(tmp_path / "pipeline.pub").read_bytes(), name="training pipeline")
    tampered = _upload_and_validate(
        alice, asset, tmp_path, _signed_upload(tmp_path, tmp_path / "pipeline.pem", tamper=True), "1.0.0"
    )
    assert tampered.status == "invalid" and tampered.validation.failed_check == "upstream_signature"
    assert "model.sig does not verify the version's files with the trusted key" in tampered.validation.reason
    assert "training pipeline" in tampered.validation.reason and "config.json" in tampered.validation.reason

    stranger = tmp_path / "stranger.pem"
    stranger.write_bytes(private_key_pem(ec.generate_private_key(ec.SECP256R1())))
    unknown = _upload_and_validate(alice, asset, tmp_path, _signed_upload(tmp_path, stranger), "2.0.0")
    assert unknown.status == "invalid" and unknown.validation.failed_check == "upstream_signature"
    assert "not a trusted upstream key" in unknown.validation.reason
    assert unknown.validation.details["upstream_signature"]["verified"] is False


def test_an_untrusted_key_no_longer_validates_and_no_model_sig_is_unaffected(
    alice, asset, tmp_path, pipeline_key, alice_api
):
    plain = make_version(alice, asset, tmp_path, onnx_bytes(), version="0.9.0")
    version_validate(version_id=plain.pk, task_id="plain")
    plain.refresh_from_db()
    assert plain.status == "validated" and "upstream_signature" not in plain.validation.details
    assert alice_api.get(f"{V}/0.9.0/").json()["upstream_signature"] is None

    nobody_trusted = _upload_and_validate(
        alice, asset, tmp_path, _signed_upload(tmp_path, tmp_path / "pipeline.pem"), "1.0.0"
    )
    assert nobody_trusted.status == "invalid" and "trusts no upstream key" in nobody_trusted.validation.reason

    trusted = upstream_key_trust(public_key=(tmp_path / "pipeline.pub").read_bytes(), name="pipeline")
    with pytest.raises(Conflict, match="trusted already"):
        upstream_key_trust(public_key=(tmp_path / "pipeline.pub").read_bytes(), name="again")
    upstream_key_untrust(key_id=trusted.key_id[:8])
    untrusted = _upload_and_validate(
        alice, asset, tmp_path, _signed_upload(tmp_path, tmp_path / "pipeline.pem"), "2.0.0"
    )
    assert untrusted.status == "invalid" and untrusted.validation.failed_check == "upstream_signature"
    assert AuditEvent.objects.filter(action="upstream_key.untrusted").count() == 1


def test_the_command_trusts_and_untrusts_upstream_keys(tmp_path, pipeline_key):
    trusted = _command("trust", "--public-key-file", str(tmp_path / "pipeline.pub"), "--name", "pipeline")
    key_id = public_key_id(pipeline_key.public_key())
    assert key_id in trusted and "pipeline" in _command("list")
    assert "untrusted" in _command("untrust", key_id[:8])
    assert "untrusted" in _command("list")
    with pytest.raises(CommandError, match="not a PEM public key"):
        _command("trust", "--public-key-file", str(tmp_path / "pipeline.pem"), "--name", "private by mistake")
