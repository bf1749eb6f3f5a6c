"""The keys that call an endpoint (only their SHA-256 is stored), and the runtime's credential check."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from registry.endpoints.lifecycle import GONE_STATUSES
from registry.endpoints.models import SHADOW_SUFFIX, Endpoint, EndpointKey
from registry.kernel.access import Permission, Visibility, require
from registry.kernel.audit.services import audit_record
from registry.kernel.errors import Conflict, ErrorCode, InvalidInput, NotFound
from registry.kernel.events import Event
from registry.teams.models import Membership
from registry.tokens.models import Scope
from registry.tokens.services import token_by_hash

KEY_PREFIX = "mhe_"
CONFORMANCE_KEY_PREFIX = "mhe_check_"
MAX_KEYS_PER_ENDPOINT = 20


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_new(endpoint: Endpoint, user) -> tuple[EndpointKey, str]:
    """A new key of the endpoint, in the caller's transaction: the row, and the key (returned once)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return EndpointKey.objects.create(endpoint=endpoint, prefix=key[:12], key_hash=key_hash(key), created_by=user), key


def conformance_key_new(endpoint: Endpoint) -> tuple[EndpointKey, str]:
    """The short-lived internal key the provisioning task calls the model with; never listed. The task deletes it,
    and the recovery sweep deletes one a killed task left behind."""
    key = CONFORMANCE_KEY_PREFIX + secrets.token_urlsafe(32)
    return EndpointKey.objects.create(endpoint=endpoint, prefix=key[:12], key_hash=key_hash(key), internal=True), key


def endpoint_key_create(*, user, endpoint: Endpoint) -> tuple[EndpointKey, str]:
    """A new key for the endpoint (members of its team); the key is returned once and not stored."""
    team = endpoint.team
    require(user, Permission.ENDPOINT_MANAGE, team, f"Only members of '{team.slug}' can manage its endpoint keys.")
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        if locked.status in GONE_STATUSES:
            raise Conflict(f"Endpoint '{locked.name}' is being deleted.", code=ErrorCode.DELETED)
        if EndpointKey.objects.filter(endpoint=locked, revoked_at=None).count() >= MAX_KEYS_PER_ENDPOINT:
            raise InvalidInput(f"An endpoint has at most {MAX_KEYS_PER_ENDPOINT} active keys; revoke one first.")
        key, raw = key_new(locked, user)
        audit_record(
            actor=user,
            action=Event.ENDPOINT_KEY_CREATED,
            target=locked,
            team=team,
            data={"key_id": key.pk, "prefix": key.prefix},
        )
    return key, raw


def endpoint_key_revoke(*, user, endpoint: Endpoint, key_id: int) -> EndpointKey:
    """Revoke one key of the endpoint (members of its team); the runtime refuses it within seconds."""
    team = endpoint.team
    require(user, Permission.ENDPOINT_MANAGE, team, f"Only members of '{team.slug}' can manage its endpoint keys.")
    with transaction.atomic():
        key = EndpointKey.objects.select_for_update().filter(endpoint=endpoint, pk=key_id, revoked_at=None).first()
        if key is None:
            raise NotFound(f"Endpoint '{endpoint.name}' has no active key {key_id}.")
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(
            actor=user,
            action=Event.ENDPOINT_KEY_REVOKED,
            target=endpoint,
            team=team,
            data={"key_id": key.pk, "prefix": key.prefix},
        )
    return key


def runtime_authorize(*, model: str, credential_sha256: str) -> int:
    """Whether a credential may call endpoint `model`, as an HTTP status for the runtime: 200 (an active key of
    the endpoint, or the active, unexpired API token with the endpoints:call scope of a member of its team), 401
    (no such key or token, or expired), 403 (a token without that scope, or of a non-member on an internal
    endpoint), 404 (no such live endpoint, or private and not a member).

    An endpoint's shadow (`<name>.shadow`) answers only the internal key of the shadow task's conformance check:
    callers get the live version's answers, never the candidate's."""
    live, dot, role = model.partition(".")
    if dot:
        shadow_of = Endpoint.objects.filter(name=live).exclude(status__in=GONE_STATUSES).values("pk").first()
        internal = EndpointKey.objects.filter(key_hash=credential_sha256, revoked_at=None, internal=True)
        ok = role == SHADOW_SUFFIX[1:] and shadow_of and internal.filter(endpoint_id=shadow_of["pk"]).exists()
        return 200 if ok else 404
    endpoint = (
        Endpoint.objects.filter(name=model)
        .exclude(status__in=GONE_STATUSES)
        .values("pk", "team_id", "visibility")
        .first()
    )
    if endpoint is None:
        return 404
    if EndpointKey.objects.filter(key_hash=credential_sha256, endpoint_id=endpoint["pk"], revoked_at=None).exists():
        return 200
    token = token_by_hash(credential_sha256)
    if token is None:
        return 401
    if Scope.ENDPOINTS_CALL not in (token["scopes"] or ()):
        return 403
    if (
        token["user__is_superuser"]
        or Membership.objects.filter(team_id=endpoint["team_id"], user_id=token["user_id"]).exists()
    ):
        return 200
    return 403 if endpoint["visibility"] == Visibility.INTERNAL else 404
