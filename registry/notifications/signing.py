"""Webhook secrets: generated, kept encrypted at rest, and used to sign each delivery.

Each delivery is signed twice: in the Standard Webhooks format (`webhook-id`, `webhook-timestamp`,
`webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the base64 secret after its
`whsec_` prefix), so stock verifiers (the `standardwebhooks` libraries, Svix) accept it, and in Modelhub's earlier
`X-Modelhub-Signature` form, kept for receivers written against it.

The secret must be available in plain form to compute the HMAC, so it is encrypted (Fernet: AES-128-CBC
plus HMAC-SHA256) with a key derived by HKDF from MODELHUB_WEBHOOK_KEY, or from Django's SECRET_KEY when
that is unset. Changing the key material makes stored secrets unreadable: their deliveries fail with a
reason saying to recreate the webhook.
"""

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "X-Modelhub-Signature"
TIMESTAMP_HEADER = "X-Modelhub-Timestamp"
STANDARD_ID_HEADER = "webhook-id"
STANDARD_TIMESTAMP_HEADER = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER = "webhook-signature"


class SecretUnreadable(Exception):
    """The stored secret was encrypted under other key material."""


def _fernet() -> Fernet:
    material = (settings.MODELHUB_WEBHOOK_KEY or settings.SECRET_KEY).encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"modelhub webhook secrets v1").derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def secret_generate() -> str:
    """`whsec_` and 32 random bytes in standard base64: the Standard Webhooks secret format."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "The webhook secret cannot be decrypted (the key material changed); delete the webhook and create it again."
        ) from None


def payload_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The X-Modelhub-Signature value: `sha256=` and the hex HMAC-SHA256 of `{timestamp}.{body}`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def standard_signature(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks `webhook-signature` value. The key is read from the secret exactly as the stock
    verifiers read it (base64 after the prefix, padded), so a secret made before this format (URL-safe base64)
    signs the same way for them too, where its characters allow."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "==")
    except ValueError:  # an early secret whose URL-safe characters leave no valid base64: sign with its text
        key = encoded.encode()
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return f"v1,{base64.b64encode(digest).decode()}"
