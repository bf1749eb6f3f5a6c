"""Signatures made upstream: a training pipeline that signs its model with `model-signing` uploads the bundle as
`model.sig` beside the files, and validation checks it against the keys the organisation trusts for that.

A version with `model.sig` at the top of its files is valid only if the bundle verifies the other files with a
trusted key (TrustedUpstreamKey): the key the bundle names (its hint) when it names one, else any trusted key. The
report says which key (`details.upstream_signature`); a bundle that does not verify, or names a key nobody trusts,
makes the version invalid at the `upstream_signature` check, with the reason. A version without `model.sig` is not
affected. The check runs in the worker, not in the sandbox: verifying a bundle only reads and hashes the files.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from registry.kernel.audit.services import audit_record
from registry.kernel.errors import Conflict, InvalidInput, NotFound
from registry.kernel.events import Event
from registry.kernel.lib.model_signatures import (
    bundle_key_hint,
    directory_verify,
    ec_public_key_load,
    public_key_hint,
    public_key_id,
    public_key_pem,
)
from registry.validation.models import TrustedUpstreamKey

UPSTREAM_SIGNATURE_FILE = "model.sig"  # the model_signing CLI's default output
UPSTREAM_CHECK = "upstream_signature"
KEY_ID_PREFIX_MIN = 8
NAME_MAX_LENGTH = 100
BUNDLE_MAX_BYTES = 1024 * 1024


# --- the trusted keys ----------------------------------------------------------------------------------------------


def upstream_key_list(*, include_untrusted: bool = False) -> QuerySet[TrustedUpstreamKey]:
    keys = TrustedUpstreamKey.objects.order_by("added_at", "id")
    return keys if include_untrusted else keys.filter(revoked_at__isnull=True)


def upstream_key_get(*, key_id: str) -> TrustedUpstreamKey:
    """The key of this id, or of this prefix of at least KEY_ID_PREFIX_MIN hex digits when one key has it."""
    key_id = (key_id or "").strip().lower()
    if len(key_id) < KEY_ID_PREFIX_MIN or any(c not in "0123456789abcdef" for c in key_id):
        raise InvalidInput(
            f"A key id is hex: the full sha256 (64 digits) or a prefix of at least {KEY_ID_PREFIX_MIN}.",
            field="key_id",
        )
    found = list(TrustedUpstreamKey.objects.filter(key_id__startswith=key_id)[:2])
    if not found:
        raise NotFound(f"No upstream key with the id {key_id[:64]}.")
    if len(found) > 1:
        raise InvalidInput(f"The prefix {key_id} names more than one upstream key; give more of it.", field="key_id")
    return found[0]


def upstream_key_trust(*, user=None, public_key: bytes | str, name: str) -> TrustedUpstreamKey:
    """Trust a public key (PEM, EC on P-256/384/521) for signatures made upstream; a key trusted before and then
    untrusted is trusted again. Transactional; audited. Who may call: operators (manage.py)."""
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"Name the key (1-{NAME_MAX_LENGTH} characters): who signs with it.", field="name")
    try:
        key = ec_public_key_load(public_key)
    except ValueError as exc:
        raise InvalidInput(f"The public key is unusable: {exc}", field="public_key") from None
    key_id = public_key_id(key)
    try:
        return _trust(user=user, key=key, key_id=key_id, name=name)
    except IntegrityError:  # trusted by another process at the same moment
        raise Conflict("This key was trusted at the same moment by another process.") from None


def _trust(*, user, key, key_id: str, name: str) -> TrustedUpstreamKey:
    with transaction.atomic():
        row = TrustedUpstreamKey.objects.select_for_update().filter(key_id=key_id).first()
        if row is not None and row.revoked_at is None:
            raise Conflict(f"This key is trusted already, as {row.key_id[:16]} ({row.name}).")
        if row is None:
            row = TrustedUpstreamKey(key_id=key_id, name=name, public_key_pem=public_key_pem(key))
            row.full_clean(validate_unique=False)  # the row is locked or absent: the insert says the rest
            row.save(force_insert=True)
        else:
            row.name, row.revoked_at = name, None
            row.save(update_fields=["name", "revoked_at"])
        audit_record(
            actor=user, action=Event.UPSTREAM_KEY_TRUSTED, target=row, data={"key_id": key_id, "name": row.name}
        )
    return row


def upstream_key_untrust(*, user=None, key_id: str) -> TrustedUpstreamKey:
    """Stop trusting a key: versions validated from now on with a `model.sig` it made are invalid (versions
    validated before keep their report). Idempotent. Transactional; audited. Who may call: operators (manage.py)."""
    found = upstream_key_get(key_id=key_id)
    with transaction.atomic():
        row = TrustedUpstreamKey.objects.select_for_update().get(pk=found.pk)
        if row.revoked_at is not None:
            return row
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        audit_record(
            actor=user, action=Event.UPSTREAM_KEY_UNTRUSTED, target=row, data={"key_id": row.key_id, "name": row.name}
        )
    return row


# --- the check -----------------------------------------------------------------------------------------------------


def _failed(reason: str, key: TrustedUpstreamKey | None = None) -> dict:
    found = {"key_id": key.key_id, "key_name": key.name} if key else {}
    return {"verified": False, **found, "reason": reason}


def _signed_files(root: Path, into: Path) -> Path:
    """The version's files without the bundle itself (hard links: nothing is copied), as the signer saw them."""
    for source in root.rglob("*"):
        relative = source.relative_to(root)
        if source.is_dir() or relative == Path(UPSTREAM_SIGNATURE_FILE):
            continue
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    into.mkdir(parents=True, exist_ok=True)
    return into


def upstream_signature_check(root: Path, *, scratch: Path) -> dict | None:
    """Check the `model.sig` among the version's files (laid out under `root`) against the trusted upstream keys.

    None when there is none; else `{"verified": True, "key_id", "key_name"}`, or `{"verified": False, "reason"}`
    (with the key when one was tried). `scratch` is an empty folder the caller removes. Never loads the model."""
    bundle_path = root / UPSTREAM_SIGNATURE_FILE
    if not bundle_path.is_file():
        return None
    if bundle_path.stat().st_size > BUNDLE_MAX_BYTES:
        return _failed(f"{UPSTREAM_SIGNATURE_FILE} is over {BUNDLE_MAX_BYTES // 1024} KiB: not a signature bundle.")
    try:
        bundle = bundle_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return _failed(f"{UPSTREAM_SIGNATURE_FILE} is not a Sigstore bundle (not UTF-8 JSON).")
    trusted = list(upstream_key_list())
    if not trusted:
        return _failed(
            f"The version carries an upstream signature ({UPSTREAM_SIGNATURE_FILE}), but this Modelhub trusts no "
            "upstream key (manage.py signingkey trust)."
        )
    hint = bundle_key_hint(bundle)
    candidates = [k for k in trusted if public_key_hint(ec_public_key_load(k.public_key_pem)) == hint] if hint else []
    if hint and not candidates:
        return _failed(
            f"{UPSTREAM_SIGNATURE_FILE} was made with a key that is not a trusted upstream key (its key hint "
            f"{hint[:16]}); ask an operator to trust the pipeline's public key (manage.py signingkey trust)."
        )
    signed = _signed_files(root, scratch / "signed")
    problem = ""
    for key in candidates or trusted:
        problem = directory_verify(signed, bundle, key.public_key_pem)
        if problem is None:
            return {"verified": True, "key_id": key.key_id, "key_name": key.name}
    tried = candidates[0] if len(candidates) == 1 else None
    named = f"the trusted key {tried.key_id[:16]} ({tried.name})" if tried else "any trusted upstream key"
    return _failed(f"{UPSTREAM_SIGNATURE_FILE} does not verify the version's files with {named}: {problem}", tried)
