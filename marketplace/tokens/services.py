import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from marketplace.audit.models import AuditAction
from marketplace.audit.services import audit_record
from marketplace.errors import InvalidInput, NotFound
from marketplace.tokens.models import APIToken

KEY_PREFIX = "mh_"


def token_hash(key: str) -> str:
    # Keys carry 256 random bits, so a fast unsalted hash is enough: nobody can brute-force them.
    return hashlib.sha256(key.encode()).hexdigest()


def token_create(*, user, name: str) -> tuple[APIToken, str]:
    """Create a token for `user` and return it with its key; the key is not stored and not shown again."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("name: give the token a name of 1 to 100 characters.", field="name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = APIToken.objects.create(user=user, name=name, prefix=key[:11], key_hash=token_hash(key))
        audit_record(actor=user, action=AuditAction.TOKEN_CREATE, target=token, data={"name": name})
    return token, key


def token_revoke(*, user, token_id: int) -> APIToken:
    """Revoke one of the caller's own tokens. Idempotent: revoking twice keeps the first time."""
    with transaction.atomic():
        token = APIToken.objects.select_for_update().filter(pk=token_id, user=user, revoked_at=None).first()
        if token is None:
            raise NotFound(f"You have no active token with id {token_id}.")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=user, action=AuditAction.TOKEN_REVOKE, target=token, data={"name": token.name})
    return token


def token_authenticate(key: str):
    """The active token for `key`, or None. Records use at most once a minute to spare writes."""
    token = (APIToken.objects.select_related("user")
             .filter(key_hash=token_hash(key), revoked_at=None, user__is_active=True).first())
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        APIToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
