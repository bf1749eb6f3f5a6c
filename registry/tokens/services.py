import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from registry.kernel.audit.services import audit_record
from registry.kernel.errors import InvalidInput, NotFound
from registry.kernel.events import Event
from registry.tokens.models import APIToken

KEY_PREFIX = "mh_"
LAST_USED_EVERY_S = 60


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
        audit_record(actor=user, action=Event.TOKEN_CREATED, target=token, data={"name": name})
    return token, key


def token_revoke(*, user, token_id: int) -> APIToken:
    """Revoke one of the caller's own tokens. Idempotent: revoking twice keeps the first time."""
    with transaction.atomic():
        token = APIToken.objects.select_for_update().filter(pk=token_id, user=user, revoked_at=None).first()
        if token is None:
            raise NotFound(f"You have no active token with id {token_id}.")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=user, action=Event.TOKEN_REVOKED, target=token, data={"name": token.name})
    return token


def token_authenticate(key: str):
    """The user of the active token `key` (with the token's id as `token_id`), or None. Records use at most
    once a minute to spare writes. One statement written out: it runs before every API call, and the ORM's
    query building for the join cost twice what running it does."""
    users = get_user_model()
    stale_before = connection.ops.adapt_datetimefield_value(timezone.now() - timedelta(seconds=LAST_USED_EVERY_S))
    found = users.objects.raw(
        f"SELECT u.*, t.id AS token_id, (t.last_used_at IS NULL OR t.last_used_at < %s) AS token_stale "
        f"FROM {users._meta.db_table} u JOIN {APIToken._meta.db_table} t ON t.user_id = u.id "
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active",
        [stale_before, token_hash(key)],
    )
    user = next(iter(found), None)
    if user is not None and user.token_stale:
        APIToken.objects.filter(pk=user.token_id).update(last_used_at=timezone.now())
    return user
