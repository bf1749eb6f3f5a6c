import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from registry.kernel.audit.services import audit_record
from registry.kernel.errors import ErrorCode, InvalidInput, NotFound, PermissionDenied
from registry.kernel.events import Event
from registry.tokens.models import ALL_SCOPES, APIToken

KEY_PREFIX = "mh_"
LAST_USED_EVERY_S = 60


def token_hash(key: str) -> str:
    # Keys carry 256 random bits, so a fast unsalted hash is enough: nobody can brute-force them.
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class TokenUse:
    """The token a request came with (the API's `request.auth`): what it may do and until when. `id` is the
    APIToken's, or `oidc-<user id>` for the identity provider's access token (throttled per identity)."""

    id: int | str
    scopes: frozenset[str]
    expires_at: datetime | None


def token_create(
    *,
    user,
    name: str,
    scopes: list[str] | None = None,
    expires_in_days: int | None = None,
    within: TokenUse | None = None,
    actor=None,
) -> tuple[APIToken, str]:
    """Create a token for `user` and return it with its key; the key is not stored and not shown again.

    `scopes` default to all of them; the token expires after `expires_in_days` (MODELHUB_TOKEN_DEFAULT_DAYS by
    default, at most MODELHUB_TOKEN_MAX_DAYS). Made with another token (`within`), it can have none of the scopes
    that one lacks and cannot outlive it, so a token never makes a stronger one. `actor` is who made it, when not
    `user` (a maintainer, for a service account)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("name: give the token a name of 1 to 100 characters.", field="name")
    chosen = list(dict.fromkeys(ALL_SCOPES if scopes is None else scopes))
    unknown = [scope for scope in chosen if scope not in ALL_SCOPES]
    if unknown or not chosen:
        raise InvalidInput(
            f"scopes: {'unknown scope ' + repr(unknown[0]) if unknown else 'give at least one'}; "
            f"the scopes are {', '.join(ALL_SCOPES)}.",
            field="scopes",
        )
    longest = settings.MODELHUB_TOKEN_MAX_DAYS
    days = settings.MODELHUB_TOKEN_DEFAULT_DAYS if expires_in_days is None else expires_in_days
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= longest:
        raise InvalidInput(f"expires_in_days: a whole number of days from 1 to {longest}.", field="expires_in_days")
    expires_at = timezone.now() + timedelta(days=days)
    if within is not None:
        missing = [scope for scope in chosen if scope not in within.scopes]
        if missing:
            raise PermissionDenied(
                f"The token you are using lacks the scope '{missing[0]}', so it cannot make a token with it.",
                code=ErrorCode.INSUFFICIENT_SCOPE,
            )
        if within.expires_at is not None:
            expires_at = min(expires_at, within.expires_at)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = APIToken.objects.create(
            user=user, name=name, prefix=key[:11], key_hash=token_hash(key), scopes=chosen, expires_at=expires_at
        )
        audit_record(
            actor=actor or user,
            action=Event.TOKEN_CREATED,
            target=token,
            data={"name": name, "scopes": chosen, "expires_at": expires_at.isoformat()},
        )
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


def token_authenticate(key: str, *, address: str | None = None):
    """The user of the active token `key`, or None, with the token as `token` (a TokenUse) and, when it has
    expired, `token_expired` True (the caller refuses it, saying so). Records the use and the caller's `address`
    at most once a minute to spare writes. One statement written out: it runs before every API call, and the
    ORM's query building for the join cost twice what running it does."""
    users = get_user_model()
    now = timezone.now()
    stale_before = connection.ops.adapt_datetimefield_value(now - timedelta(seconds=LAST_USED_EVERY_S))
    found = users.objects.raw(
        f"SELECT u.*, t.id AS token_id, t.scopes AS token_scopes, t.expires_at AS token_expires_at, "
        f"(t.last_used_at IS NULL OR t.last_used_at < %s) AS token_stale "
        f"FROM {users._meta.db_table} u JOIN {APIToken._meta.db_table} t ON t.user_id = u.id "
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active",
        [stale_before, token_hash(key)],
    )
    user = next(iter(found), None)
    if user is None:
        return None
    scopes = json.loads(user.token_scopes) if isinstance(user.token_scopes, str) else user.token_scopes
    expires_at = user.token_expires_at
    if isinstance(expires_at, str):  # SQLite hands raw() a string
        expires_at = parse_datetime(expires_at)
    user.token = TokenUse(id=user.token_id, scopes=frozenset(scopes or ()), expires_at=expires_at)
    user.token_expired = expires_at is not None and expires_at <= now
    if user.token_stale and not user.token_expired:
        APIToken.objects.filter(pk=user.token_id).update(last_used_at=now, last_used_ip=address)
    return user


def token_by_hash(key_sha256: str) -> dict | None:
    """The active, unexpired token with this key hash as {"user_id", "user__is_superuser", "scopes"}, or None: for
    credentials checked by hash (the runtime's callers)."""
    return (
        APIToken.objects.filter(key_hash=key_sha256, revoked_at=None, user__is_active=True)
        .exclude(expires_at__lte=timezone.now())
        .values("user_id", "user__is_superuser", "scopes")
        .first()
    )
