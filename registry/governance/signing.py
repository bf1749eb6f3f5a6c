"""Signed approvals: an approved version's files and its approval record, signed with the organisation key.

The signature is a Sigstore bundle in the OpenSSF model signing format (PyPI `model-signing`), made
with an elliptic-curve key that belongs to this Modelhub installation, so anyone can verify it
offline with the public key (`GET /api/v1/signing-key`). It covers a directory holding the version's
files plus `modelhub-approval.json`: which policy approved it, who approved it, when, the sha256 of
each file, and the model card as reviewed. Changing a file, the card, or the record of who approved
what, breaks the signature.

It is made with the keyring's active key and names it (`VersionSignature.key_id`); it is verified with the key it
names, so rotating the key (registry/governance/keys.py) leaves every earlier signature valid, and revoking a key
makes its signatures report as revoked, with the reason.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from registry.artifacts.storage import BlobMissing, blob_materialize
from registry.cards.huggingface import card_to_huggingface_readme
from registry.cards.selectors import card_get
from registry.governance.keys import signing_key_active, signing_key_find, signing_private_key
from registry.governance.models import (
    ReviewDecision,
    ReviewRound,
    RoundStatus,
    SigningKey,
    SigningKeyStatus,
    VersionSignature,
)
from registry.kernel.audit.services import audit_record
from registry.kernel.events import Event
from registry.kernel.lib.leases import Heartbeat, claim_lease, unclaimed_grace
from registry.kernel.lib.model_signatures import directory_verify, private_key_pem
from registry.versions.models import AssetVersion, VersionStatus

logger = logging.getLogger(__name__)

# Registered under this name by registry.governance.tasks; services send it by name.
SIGN_TASK = "registry.governance.tasks.version_sign_task"
APPROVAL_FILENAME = "modelhub-approval.json"
APPROVAL_FORMAT = "https://modelhub.dev/approval/v1"


# --- the organisation's keys (registry/governance/keys.py) ---------------------------------------------------------


def signing_public_key_pem() -> str:
    """The active key's public half (PEM, SubjectPublicKeyInfo): what consumers verify new approvals with."""
    return signing_key_active().public_key_pem


def signing_key_id() -> str:
    """The active key's id: sha256 of its public key's DER encoding, as hex."""
    return signing_key_active().key_id


# --- signing a directory -------------------------------------------------------------------------------------------


def _sign_directory(directory: Path, key: SigningKey) -> str:
    import model_signing

    with tempfile.TemporaryDirectory(prefix="modelhub-key-") as keydir:
        key_path = Path(keydir) / "key.pem"
        key_path.touch(mode=0o600)
        key_path.write_bytes(private_key_pem(signing_private_key(key)))
        bundle_path = Path(keydir) / "bundle.sig"
        model_signing.signing.Config().use_elliptic_key_signer(private_key=key_path).sign(directory, bundle_path)
        return bundle_path.read_text()


# --- the approval record -------------------------------------------------------------------------------


def approval_record(version: AssetVersion, review_round: ReviewRound) -> bytes:
    """The canonical JSON that says who approved which files under which policy (signed with them).

    It carries the model card as reviewed (its Hugging Face README.md; cards of approved versions are
    frozen), so the signature also covers what the model claims to be.
    """
    approvals = [r for r in review_round.reviews.all() if r.decision == ReviewDecision.APPROVE]
    card = card_get(version=version)
    record = {
        "_type": APPROVAL_FORMAT,
        "asset": version.asset.full_slug,
        "version": version.version,
        "files": {f.path: {"sha256": f.blob.sha256, "size": f.blob.size} for f in version.files.all()},
        "review_round": review_round.number,
        "policy": {
            "id": review_round.policy_id,
            "approvals_required": review_round.approvals_required,
            "reviewer_groups": sorted(g.name for g in review_round.reviewer_groups.all()),
            "forbid_owning_team": review_round.forbid_owning_team,
        },
        "submitted_by": review_round.submitted_by.username if review_round.submitted_by else None,
        "approvers": [
            {"username": r.reviewer.username, "comment": r.comment, "at": r.created_at.isoformat()} for r in approvals
        ],
        "approved_at": review_round.closed_at.isoformat() if review_round.closed_at else None,
        "card": card_to_huggingface_readme(card) if card is not None else None,
    }
    return (json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _materialize(version: AssetVersion, root: Path, approval: bytes, *, local_files: Path | None = None) -> None:
    """The signed folder: the version's files (hard links to `local_files` when the caller already holds a
    checked copy, else read from storage) and the approval record."""
    for version_file in version.files.all():
        target = root / version_file.path
        if local_files is None:
            blob_materialize(version_file.blob, target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(local_files / version_file.path, target)
        except OSError:  # another file system, or a missing file (which then fails the verification)
            if (local_files / version_file.path).is_file():
                shutil.copyfile(local_files / version_file.path, target)
    (root / APPROVAL_FILENAME).write_bytes(approval)


def _approved_round(version: AssetVersion) -> ReviewRound | None:
    return (
        ReviewRound.objects.filter(version=version, status=RoundStatus.APPROVED)
        .select_related("submitted_by")
        .prefetch_related("reviews__reviewer", "reviewer_groups")
        .order_by("-number")
        .first()
    )


def _load(version_id: int) -> AssetVersion | None:
    return (
        AssetVersion.objects.select_related("asset__team").prefetch_related("files__blob").filter(pk=version_id).first()
    )


def version_sign(*, version_id: int) -> VersionSignature | None:
    """Sign an approved version (idempotent: an existing signature is kept). Called by the signing task.

    Returns None when there is nothing to sign (gone, not approved). Raises TransientStorageError
    when storage cannot be read (the task retries) and BlobMissing when a file is gone or changed.
    """
    version = _load(version_id)
    if version is None or version.status != VersionStatus.APPROVED:
        return None
    review_round = _approved_round(version)
    existing = VersionSignature.objects.filter(version=version).first()
    if existing is not None:  # a duplicate delivery, or a sweep racing a slow signer: make sure the round says so
        if review_round is not None:
            ReviewRound.objects.filter(pk=review_round.pk, signed_at=None).update(signed_at=existing.signed_at)
        return existing
    if review_round is None:
        return None
    approval = approval_record(version, review_round)

    def renew() -> int:
        return ReviewRound.objects.filter(pk=review_round.pk).update(signing_claimed_at=timezone.now())

    key = signing_key_active()
    renew()
    with (
        Heartbeat(renew, name=f"signing of version {version_id}"),
        tempfile.TemporaryDirectory(prefix="sign-", dir=settings.FILE_UPLOAD_TEMP_DIR) as tmp,
    ):
        root = Path(tmp) / "version"
        _materialize(version, root, approval)
        bundle = _sign_directory(root, key)
    try:
        with transaction.atomic():
            signature = VersionSignature.objects.create(
                version=version, bundle=bundle, approval=approval.decode(), key_id=key.key_id
            )
            ReviewRound.objects.filter(pk=review_round.pk).update(signed_at=signature.signed_at)
            audit_record(
                actor=None,
                action=Event.VERSION_SIGNED,
                target=version,
                team=version.asset.team,
                data={"key_id": signature.key_id, "round": review_round.number},
            )
    except IntegrityError:  # signed concurrently by a duplicate delivery: keep the first
        return VersionSignature.objects.get(version=version)
    return signature


@dataclass(frozen=True)
class SignatureCheck:
    valid: bool
    detail: str
    key_id: str = ""  # the key the signature names (empty: no signature)


def version_signature_verify(*, version: AssetVersion, local_files: Path | None = None) -> SignatureCheck:
    """Check the stored signature against the files as they are in storage now, or against a local copy
    of them (`local_files`, laid out by path) that the caller has just made, so they are not read twice.

    For consumers that need "approved and signature valid" (downloads, endpoints). It is checked with the key the
    signature names, active or retired. A file changed or missing in storage, a key that is not in the keyring, or a
    revoked key (named, with when and why), is reported as invalid with the reason.
    """
    version = _load(version.pk)
    signature = VersionSignature.objects.filter(version=version).first()
    if signature is None:
        return SignatureCheck(False, "The version has no signature (it is not approved, or signing is pending).")
    if version.status not in (VersionStatus.APPROVED, VersionStatus.DEPRECATED):
        return SignatureCheck(False, f"The version is {version.status}, not approved.", signature.key_id)
    key = signing_key_find(signature.key_id)
    if key is None:
        return SignatureCheck(
            False,
            f"The signature names the key {signature.key_id[:16]}, which is not in this Modelhub's keyring.",
            signature.key_id,
        )
    if key.status == SigningKeyStatus.REVOKED:
        return SignatureCheck(
            False,
            f"The signature was made with the signing key {key.key_id[:16]} ({key.name}), revoked on "
            f"{key.revoked_at:%Y-%m-%d %H:%M} UTC: {key.revoked_reason}",
            key.key_id,
        )
    with tempfile.TemporaryDirectory(prefix="verify-", dir=settings.FILE_UPLOAD_TEMP_DIR) as tmp:
        root = Path(tmp) / "version"
        try:
            _materialize(version, root, signature.approval.encode(), local_files=local_files)
        except BlobMissing as exc:
            return SignatureCheck(False, f"The signature no longer verifies: {exc}.", key.key_id)
        problem = directory_verify(root, signature.bundle, key.public_key_pem)
    if problem:
        return SignatureCheck(False, f"The signature no longer verifies: {problem}", key.key_id)
    return SignatureCheck(
        True,
        "The signature verifies the version's files and approval record with the "
        f"organisation key {key.key_id[:16]} ({key.name}, {key.status}).",
        key.key_id,
    )


def signatures_reclaim_lost(*, now=None) -> list[int]:
    """Approved versions whose signature never arrived, for the recovery sweep: the signing task's heartbeat
    stopped a lease ago (its worker was lost), or it never started a grace after the approval (its message was
    lost). Each is stamped as it is taken (a conditional update), so it is sent once per lease, not at every sweep,
    and two sweeps never both take it. Returns the version ids to send the signing task for."""
    now = now or timezone.now()
    lost = ReviewRound.objects.filter(
        Q(signing_claimed_at__isnull=True, version__status_changed_at__lt=now - unclaimed_grace())
        | Q(signing_claimed_at__lt=now - claim_lease()),
        status=RoundStatus.APPROVED,
        signed_at__isnull=True,  # review_round_unsigned_idx: the sweep never reads the signed rounds
        version__status=VersionStatus.APPROVED,
        version__signature_record__isnull=True,
    ).values_list("pk", "version_id", "signing_claimed_at")
    return [
        version_id
        for pk, version_id, claimed_at in lost
        if ReviewRound.objects.filter(pk=pk, signing_claimed_at=claimed_at).update(signing_claimed_at=now)
    ]
