"""Where the private halves of the keyring live: never in the database.

`KeyStore` is the whole interface the keyring needs (find a key by its id, add one), so a KMS or PKCS#11 store can
replace the directory later. `DirectoryKeyStore` keeps one `<key_id>.pem` per key (PKCS#8, mode 0600) in
`MODELHUB_SIGNING_KEYS_DIR` (default: `signing-keys/` under the data directory).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from registry.kernel.lib.model_signatures import ec_private_key_load, private_key_pem, public_key_id

_KEY_ID = re.compile(r"[0-9a-f]{64}")


class KeyNotInStore(LookupError):
    """The store holds no private key of that id."""


class KeyStore(Protocol):
    def private_key(self, key_id: str) -> ec.EllipticCurvePrivateKey:
        """The private key whose public key has id `key_id`; KeyNotInStore if the store has none."""

    def add(self, pem: bytes) -> str:
        """Keep an (unencrypted PEM) EC private key; returns its key id. Idempotent: adding a key twice is fine.
        ValueError for a key that is not one the keyring can sign with."""


class DirectoryKeyStore:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def _path(self, key_id: str) -> Path:
        if not _KEY_ID.fullmatch(key_id):
            raise KeyNotInStore(key_id)
        return self.directory / f"{key_id}.pem"

    def private_key(self, key_id: str) -> ec.EllipticCurvePrivateKey:
        path = self._path(key_id)
        try:
            key = ec_private_key_load(path.read_bytes())
        except FileNotFoundError:
            raise KeyNotInStore(key_id) from None
        if public_key_id(key.public_key()) != key_id:  # a file renamed or swapped by hand: never sign with it
            raise KeyNotInStore(key_id)
        return key

    def add(self, pem: bytes) -> str:
        key = ec_private_key_load(pem)
        key_id = public_key_id(key.public_key())
        path = self._path(key_id)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(private_key_pem(key))
        try:
            os.link(scratch, path)  # atomic, and never replaces a key file: the first writer wins
        except FileExistsError:
            pass  # the same key (the name is its id)
        finally:
            scratch.unlink()
        return key_id


def key_store() -> KeyStore:
    """The installation's key store."""
    return DirectoryKeyStore(settings.MODELHUB_SIGNING_KEYS_DIR)
