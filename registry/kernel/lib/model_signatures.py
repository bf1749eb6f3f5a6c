"""Elliptic-curve keys and OpenSSF model-signing bundles (PyPI `model-signing`), for every area that signs or checks.

A key is named by its id, the sha256 of its public key's DER encoding (hex): what Modelhub records with a signature
and serves keys under. A bundle names the key it was made with by a hint, the sha256 of the public key's PEM text
(model_signing's own convention), so `public_key_hint` finds the key a bundle names among several.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

# The curves model_signing signs and verifies with.
SUPPORTED_CURVES = ("secp256r1", "secp384r1", "secp521r1")


def _check_curve(curve: ec.EllipticCurve) -> None:
    if curve.name not in SUPPORTED_CURVES:
        raise ValueError(f"the curve {curve.name} is not supported (use one of {', '.join(SUPPORTED_CURVES)}).")


def ec_private_key_load(pem: bytes | str) -> ec.EllipticCurvePrivateKey:
    """An unencrypted PEM private key on a supported curve; ValueError saying what is wrong otherwise."""
    try:
        key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the key must be an elliptic-curve (e.g. P-256) private key.")
    _check_curve(key.curve)
    return key


def ec_public_key_load(pem: bytes | str) -> ec.EllipticCurvePublicKey:
    """A PEM public key (SubjectPublicKeyInfo) on a supported curve; ValueError saying what is wrong otherwise."""
    try:
        key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a PEM public key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("the key must be an elliptic-curve (e.g. P-256) public key.")
    _check_curve(key.curve)
    return key


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_pem(key: ec.EllipticCurvePublicKey) -> str:
    """The canonical PEM text (SubjectPublicKeyInfo): what `model_signing verify key --public_key` reads."""
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_key_id(key: ec.EllipticCurvePublicKey) -> str:
    """sha256 of the public key's DER encoding, as hex."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def public_key_hint(key: ec.EllipticCurvePublicKey) -> str:
    """The hint model_signing writes into a bundle for this key: sha256 of its PEM text, as hex."""
    return hashlib.sha256(public_key_pem(key).encode()).hexdigest()


def bundle_key_hint(bundle: str) -> str | None:
    """The key hint a bundle carries (None for a bundle without one, or one that is not a bundle)."""
    try:
        material = json.loads(bundle).get("verificationMaterial") or {}
        hint = (material.get("publicKey") or {}).get("hint")
    except (ValueError, AttributeError):
        return None
    return hint if isinstance(hint, str) and hint else None


def directory_verify(directory: Path, bundle: str, public_pem: str) -> str | None:
    """None when `bundle` verifies the files of `directory` with the key `public_pem`; else why not (one line).

    Only reads and hashes the files: nothing in them is loaded or run."""
    import model_signing

    with tempfile.TemporaryDirectory(prefix="modelhub-verify-") as scratch:
        public = Path(scratch) / "key.pub"
        public.write_text(public_pem)
        bundle_path = Path(scratch) / "bundle.sig"
        bundle_path.write_text(bundle)
        try:
            model_signing.verifying.Config().use_elliptic_key_verifier(public_key=public).verify(directory, bundle_path)
        except SoftTimeLimitExceeded:  # the task ran out of time: not a verdict on the signature
            raise
        except Exception as exc:  # the library raises ValueError and others for a mismatch
            return " ".join(str(exc).split())[:1000] or type(exc).__name__
    return None
