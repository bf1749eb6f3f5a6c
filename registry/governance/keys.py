"""The organisation's signing keyring: which key signs new approvals, and which keys verify what they signed.

Each key is a SigningKey row (its public half and status) plus, for a key that may sign, its private half in the key
store (registry/governance/keystore.py). Statuses move by one table (TRANSITIONS): a key is added `pending`;
activating it retires the key that was active (exactly one is active, a partial unique constraint says so); a
retired key still verifies its signatures and may be activated again; a revoked key's signatures are reported as
revoked, with the reason, and it never comes back. The active key is never retired or revoked directly: activate
its successor first, so there is always a key to sign with.

Upgrading from one organisation key: while the ring is empty, the first use (signing, verifying, listing, any
service here) registers the configured key (`MODELHUB_SIGNING_KEY` / `MODELHUB_SIGNING_KEY_FILE`, generated on an
embedded install) as the active key, so every signature made before the keyring existed still verifies, with no
manual step. Its private half stays where it is configured; the key store is asked first, the configured key next.

The services are transactional, lock the rows they change (in key order), and write their audit events.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from registry.governance.keystore import KeyNotInStore, key_store
from registry.governance.models import SigningKey, SigningKeyStatus
from registry.kernel.audit.services import audit_record
from registry.kernel.errors import Conflict, ErrorCode, InvalidInput, NotFound
from registry.kernel.events import Event
from registry.kernel.lib.model_signatures import ec_private_key_load, private_key_pem, public_key_id, public_key_pem
from registry.kernel.lib.transitions import TransitionTable

KEY_ID_PREFIX_MIN = 8
NAME_MAX_LENGTH = 100
REASON_MAX_LENGTH = 2000

TRANSITIONS = TransitionTable(
    allowed={
        SigningKeyStatus.PENDING: frozenset(
            {SigningKeyStatus.ACTIVE, SigningKeyStatus.RETIRED, SigningKeyStatus.REVOKED}
        ),
        # Retired only by activating another key (signing_key_activate); never revoked while it is the one signing.
        SigningKeyStatus.ACTIVE: frozenset({SigningKeyStatus.RETIRED}),
        SigningKeyStatus.RETIRED: frozenset({SigningKeyStatus.ACTIVE, SigningKeyStatus.REVOKED}),
        SigningKeyStatus.REVOKED: frozenset(),
    },
    actions={
        SigningKeyStatus.PENDING: "add",
        SigningKeyStatus.ACTIVE: "activate",
        SigningKeyStatus.RETIRED: "retire",
        SigningKeyStatus.REVOKED: "revoke",
    },
)


# --- the configured key (before the keyring) -----------------------------------------------------------------------


def _generate_key_file(path: Path) -> None:
    """Create a P-256 key at `path` unless another process did first (O_EXCL)."""
    pem = private_key_pem(ec.generate_private_key(ec.SECP256R1()))
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    scratch.write_bytes(pem)
    scratch.chmod(0o600)
    try:
        os.link(scratch, path)  # atomic, and fails if the key exists: the first writer wins
    except FileExistsError:
        pass
    finally:
        scratch.unlink()


def _configured_private_key(*, bootstrap: bool) -> ec.EllipticCurvePrivateKey | None:
    """The key of `MODELHUB_SIGNING_KEY` / `MODELHUB_SIGNING_KEY_FILE`. To register it (`bootstrap`), a missing
    default file is generated and a missing named file is an error; otherwise a missing file is None."""
    configured = settings.MODELHUB_SIGNING_KEY
    if configured:
        pem = configured.encode()
    else:
        path = Path(settings.MODELHUB_SIGNING_KEY_FILE)
        if not path.exists():
            if not bootstrap:
                return None
            if not settings.MODELHUB_SIGNING_KEY_GENERATE:
                raise ImproperlyConfigured(f"MODELHUB_SIGNING_KEY_FILE={path} does not exist.")
            _generate_key_file(path)
        pem = path.read_bytes()
    try:
        return ec_private_key_load(pem)
    except ValueError as exc:
        raise ImproperlyConfigured(f"The configured signing key is unusable: {exc}") from None


def signing_keyring_bootstrap() -> None:
    """Register the configured key as the active key if the ring is empty. Idempotent and safe to race: the first
    process to insert wins (the key id is unique, and only one key may be active), the others find its row."""
    if SigningKey.objects.exists():
        return
    key = _configured_private_key(bootstrap=True)
    public = key.public_key()
    source = "MODELHUB_SIGNING_KEY" if settings.MODELHUB_SIGNING_KEY else "MODELHUB_SIGNING_KEY_FILE"
    now = timezone.now()
    try:
        with transaction.atomic():
            row, created = SigningKey.objects.get_or_create(
                key_id=public_key_id(public),
                defaults={
                    "name": f"organisation key ({source})",
                    "public_key_pem": public_key_pem(public),
                    "status": SigningKeyStatus.ACTIVE,
                    "activated_at": now,
                },
            )
            if created:
                audit_record(
                    actor=None,
                    action=Event.SIGNING_KEY_ACTIVATED,
                    target=row,
                    after={"status": row.status},
                    data={"key_id": row.key_id, "registered_from": source},
                )
    except IntegrityError:
        pass  # registered by another process in the meantime


# --- reads ---------------------------------------------------------------------------------------------------------


def signing_key_list() -> QuerySet[SigningKey]:
    """Every key of the ring, oldest first (public halves only: there is nothing secret in a row)."""
    signing_keyring_bootstrap()
    return SigningKey.objects.order_by("created_at", "id")


def signing_key_find(key_id: str) -> SigningKey | None:
    """The key of exactly this id, or None (an unknown key)."""
    signing_keyring_bootstrap()
    return SigningKey.objects.filter(key_id=key_id).first()


def signing_key_get(*, key_id: str) -> SigningKey:
    """The key of this id, or of this prefix of at least KEY_ID_PREFIX_MIN hex digits when one key has it."""
    key_id = (key_id or "").strip().lower()
    if len(key_id) < KEY_ID_PREFIX_MIN or any(c not in "0123456789abcdef" for c in key_id):
        raise InvalidInput(
            f"A key id is hex: the full sha256 (64 digits) or a prefix of at least {KEY_ID_PREFIX_MIN}.",
            field="key_id",
        )
    signing_keyring_bootstrap()
    found = list(SigningKey.objects.filter(key_id__startswith=key_id)[:2])
    if not found:
        raise NotFound(f"No signing key with the id {key_id[:64]}.")
    if len(found) > 1:
        raise InvalidInput(f"The prefix {key_id} names more than one signing key; give more of it.", field="key_id")
    return found[0]


def signing_key_active() -> SigningKey:
    """The key that signs new approvals (the configured key, on first use)."""
    signing_keyring_bootstrap()
    active = SigningKey.objects.filter(status=SigningKeyStatus.ACTIVE).first()
    if active is None:  # cannot happen through the services: the active key is never retired or revoked alone
        raise ImproperlyConfigured("The signing keyring has no active key: run `manage.py signingkey activate`.")
    return active


def signing_private_key(key: SigningKey) -> ec.EllipticCurvePrivateKey:
    """The private half of `key`: from the key store, else the configured key when it is that key."""
    try:
        return key_store().private_key(key.key_id)
    except KeyNotInStore:
        pass
    configured = _configured_private_key(bootstrap=False)
    if configured is not None and public_key_id(configured.public_key()) == key.key_id:
        return configured
    raise ImproperlyConfigured(
        f"The private key of signing key {key.key_id[:16]} ({key.name}) is neither in the key store "
        f"({settings.MODELHUB_SIGNING_KEYS_DIR}) nor the configured MODELHUB_SIGNING_KEY(_FILE)."
    )


def _has_private_key(key: SigningKey) -> bool:
    try:
        signing_private_key(key)
    except ImproperlyConfigured:
        return False
    return True


# --- services ------------------------------------------------------------------------------------------------------


def _locked(key_id: str) -> SigningKey:
    found = SigningKey.objects.select_for_update().filter(key_id=key_id).first()
    if found is None:
        raise NotFound(f"No signing key with the id {key_id}.")
    return found


def _require(key: SigningKey, target: str) -> None:
    TRANSITIONS.require(
        key.status,
        target,
        subject=f"Signing key {key.key_id[:16]} ({key.name})",
        label=SigningKeyStatus(key.status).name.lower(),
    )


def signing_key_add(
    *, user=None, name: str = "", private_key: bytes | None = None, generate: bool = False, activate: bool = False
) -> SigningKey:
    """Add a key to the ring: `private_key` (unencrypted PEM, EC on P-256/384/521) or a new P-256 key (`generate`).
    The private half goes to the key store, the public half to a `pending` row; with `activate` the key signs new
    approvals from now on (as signing_key_activate). Transactional; audited. Who may call: operators (manage.py)."""
    if generate == (private_key is not None):
        raise InvalidInput("Give a private key or ask for a generated one, not both or neither.", field="private_key")
    name = (name or "").strip()
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"A key name is at most {NAME_MAX_LENGTH} characters.", field="name")
    pem = private_key_pem(ec.generate_private_key(ec.SECP256R1())) if generate else private_key
    try:
        public = ec_private_key_load(pem).public_key()
    except ValueError as exc:
        raise InvalidInput(f"The private key is unusable: {exc}", field="private_key") from None
    key_id = public_key_id(public)
    signing_keyring_bootstrap()  # the configured key first, so signatures made before the ring keep verifying
    existing = SigningKey.objects.filter(key_id=key_id).first()
    if existing is not None:
        raise Conflict(
            f"This key is in the keyring already: {existing.key_id[:16]} ({existing.name}), {existing.status}."
        )
    key = SigningKey(
        key_id=key_id,
        name=name or f"key {key_id[:12]}",
        public_key_pem=public_key_pem(public),
        status=SigningKeyStatus.PENDING,
    )
    key.full_clean(validate_unique=False)  # uniqueness: the insert below says it, race-free
    try:
        key_store().add(pem)  # before the transaction: a file write; a row that then fails leaves a harmless file
    except OSError as exc:
        raise ImproperlyConfigured(
            f"Cannot write to the key store {settings.MODELHUB_SIGNING_KEYS_DIR}: {exc}"
        ) from None
    try:
        with transaction.atomic():
            key.save(force_insert=True)
            audit_record(
                actor=user,
                action=Event.SIGNING_KEY_ADDED,
                target=key,
                after={"status": key.status},
                data={"key_id": key_id, "name": key.name, "generated": generate},
            )
            if activate:
                key = _activate(user=user, key_id=key_id)
    except IntegrityError:
        raise Conflict("This key was added to the keyring at the same moment by another process.") from None
    return key


def _activate(*, user, key_id: str) -> SigningKey:
    active = list(SigningKey.objects.select_for_update().filter(status=SigningKeyStatus.ACTIVE).order_by("pk"))
    key = _locked(key_id)
    if key.status == SigningKeyStatus.ACTIVE:
        return key
    _require(key, SigningKeyStatus.ACTIVE)
    now = timezone.now()
    for previous in active:  # one at most; retired first, so the partial unique index sees one active key
        previous.status, previous.retired_at = SigningKeyStatus.RETIRED, now
        previous.save(update_fields=["status", "retired_at"])
        audit_record(
            actor=user,
            action=Event.SIGNING_KEY_RETIRED,
            target=previous,
            before={"status": SigningKeyStatus.ACTIVE},
            after={"status": previous.status},
            data={"key_id": previous.key_id, "replaced_by": key.key_id},
        )
    before = key.status
    key.status, key.activated_at, key.retired_at = SigningKeyStatus.ACTIVE, now, None
    key.save(update_fields=["status", "activated_at", "retired_at"])
    audit_record(
        actor=user,
        action=Event.SIGNING_KEY_ACTIVATED,
        target=key,
        before={"status": before},
        after={"status": key.status},
        data={"key_id": key.key_id, "replaces": [previous.key_id for previous in active]},
    )
    return key


def signing_key_activate(*, user=None, key_id: str) -> SigningKey:
    """Make the key the one that signs new approvals; the key active until now is retired (it still verifies what it
    signed). Idempotent for the active key. Refused for a revoked key, and for a key whose private half is in
    neither the key store nor the configuration. Transactional; audited. Who may call: operators (manage.py)."""
    key = signing_key_get(key_id=key_id)
    if key.status != SigningKeyStatus.ACTIVE and not _has_private_key(key):
        raise Conflict(
            f"Signing key {key.key_id[:16]} ({key.name}) cannot sign: its private key is not in the key store "
            f"({settings.MODELHUB_SIGNING_KEYS_DIR}). Add it there first (signingkey add --private-key-file).",
        )
    with transaction.atomic():
        return _activate(user=user, key_id=key.key_id)


def signing_key_retire(*, user=None, key_id: str) -> SigningKey:
    """Retire a key: it signs nothing (new), and what it signed still verifies. The active key is retired by
    activating its successor (signing_key_activate does it), so retiring it directly is refused; a retired key is
    left as it is (idempotent). Transactional; audited. Who may call: operators (manage.py)."""
    key = signing_key_get(key_id=key_id)
    with transaction.atomic():
        key = _locked(key.key_id)
        if key.status == SigningKeyStatus.ACTIVE:
            raise Conflict(
                f"Signing key {key.key_id[:16]} ({key.name}) is the active key: activate another key first "
                "(signingkey add --generate --activate, or signingkey activate KEY_ID), which retires this one.",
                code=ErrorCode.ILLEGAL_TRANSITION,
            )
        if key.status == SigningKeyStatus.RETIRED:
            return key
        _require(key, SigningKeyStatus.RETIRED)
        before = key.status
        key.status, key.retired_at = SigningKeyStatus.RETIRED, timezone.now()
        key.save(update_fields=["status", "retired_at"])
        audit_record(
            actor=user,
            action=Event.SIGNING_KEY_RETIRED,
            target=key,
            before={"status": before},
            after={"status": key.status},
            data={"key_id": key.key_id},
        )
    return key


def signing_key_revoke(*, user=None, key_id: str, reason: str) -> SigningKey:
    """Revoke a key: every signature it made reports as revoked, with `reason` (required), so endpoints refuse to
    deploy those versions. Never undone. The active key must be replaced first (activate another key). Transactional;
    audited. Who may call: operators (manage.py)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("A reason is required to revoke a signing key (consumers see it).", field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidInput(f"The reason is longer than {REASON_MAX_LENGTH} characters.", field="reason")
    key = signing_key_get(key_id=key_id)
    with transaction.atomic():
        key = _locked(key.key_id)
        if key.status == SigningKeyStatus.ACTIVE:
            raise Conflict(
                f"Signing key {key.key_id[:16]} ({key.name}) is the active key: activate another key first "
                "(signingkey add --generate --activate), then revoke this one.",
                code=ErrorCode.ILLEGAL_TRANSITION,
            )
        _require(key, SigningKeyStatus.REVOKED)
        before = key.status
        key.status, key.revoked_at, key.revoked_reason = SigningKeyStatus.REVOKED, timezone.now(), reason
        key.save(update_fields=["status", "revoked_at", "revoked_reason"])
        audit_record(
            actor=user,
            action=Event.SIGNING_KEY_REVOKED,
            target=key,
            before={"status": before},
            after={"status": key.status},
            data={"key_id": key.key_id, "reason": reason[:1000]},
        )
    return key
