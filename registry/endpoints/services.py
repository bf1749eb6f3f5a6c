"""Inference endpoints: deploy approved model versions to the inference runtime, update, delete, and keys.

Requests (create, update, delete) only write rows and send the provisioning task on commit. The task
claims the endpoint with a conditional update (a work status, and the claim free, its own, or past its
lease), does the slow work with no transaction open (materialize files, verify the approval signature,
load into the runtime, conformance check), then records the outcome with a conditional update only its
own claim satisfies: running the task twice, or two copies at once, records one outcome. A request that
changes the endpoint meanwhile resets the claim, so a stale task's outcome is dropped. The recovery
sweep re-sends work whose task was lost, so no endpoint stays `pending`.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
import secrets
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from registry.artifacts.storage import BlobMissing, blob_materialize
from registry.assets.models import Asset, AssetKind
from registry.assets.selectors import asset_get
from registry.endpoints.backends import DeployRefused, RuntimeUnavailable, backend_for
from registry.endpoints.conformance import ConformanceFailure, conformance_check
from registry.endpoints.models import (
    ENDPOINT_NAME_MAX_LENGTH,
    ENDPOINT_NAME_PATTERN,
    WORK_STATUSES,
    Endpoint,
    EndpointKey,
    EndpointStatus,
)
from registry.governance.models import Alias
from registry.governance.selectors import version_by_alias
from registry.governance.signing import version_signature_verify
from registry.kernel.access import Permission, Visibility, require
from registry.kernel.audit.models import AuditAction
from registry.kernel.audit.services import audit_record
from registry.kernel.errors import Conflict, ErrorCode, InvalidInput, NotFound
from registry.kernel.events import DomainEvent, Event, publish
from registry.kernel.lib.tasks import task_send, task_send_on_commit
from registry.lineage.models import LineageKind
from registry.teams.models import Membership
from registry.tokens.models import APIToken
from registry.versions.models import AssetVersion, VersionStatus
from registry.versions.selectors import version_get

logger = logging.getLogger(__name__)

# Registered under this name by registry.endpoints.tasks; services send it by name, never import it.
PROVISION_TASK = "registry.endpoints.tasks.endpoint_provision_task"
KEY_PREFIX = "mhe_"
MAX_KEYS_PER_ENDPOINT = 20
# How long an enqueued but unclaimed endpoint may wait before the sweep sends its task again.
UNCLAIMED_GRACE = timedelta(minutes=2)

S = EndpointStatus
# The one table of allowed status changes.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.PROVISIONING, S.FAILED, S.DELETING}),
    S.PROVISIONING: frozenset({S.READY, S.FAILED, S.DELETING}),
    S.READY: frozenset({S.UPDATING, S.DELETING}),
    S.FAILED: frozenset({S.UPDATING, S.DELETING}),
    S.UPDATING: frozenset({S.UPDATING, S.READY, S.FAILED, S.DELETING}),
    # Failed when the runtime refuses to unload: delete again once it is fixed.
    S.DELETING: frozenset({S.DELETED, S.FAILED}),
    S.DELETED: frozenset(),
}

# Settings: name -> (default, minimum, maximum).
SETTINGS_RANGES: dict[str, tuple[int, int, int]] = {
    "max_batch_size": (0, 0, 256),
    "max_batch_delay_ms": (2, 0, 100),
    "timeout_ms": (30_000, 10, 600_000),
    "replicas": (1, 1, 8),
    "memory_limit": (2 << 30, 64 << 20, 64 << 30),
}


def can_transition(current: str, target: str) -> bool:
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())


def _require_transition(endpoint: Endpoint, target: str, doing: str) -> None:
    if not can_transition(endpoint.status, target):
        raise Conflict(
            f"Endpoint '{endpoint.name}' is {endpoint.status}: it cannot be {doing} now.",
            code=ErrorCode.ILLEGAL_TRANSITION,
        )


def _lease() -> timedelta:
    return timedelta(seconds=settings.MODELHUB_ENDPOINT_TIME_LIMIT + 60)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def endpoint_settings_clean(raw: dict | None) -> dict:
    """The endpoint settings with defaults filled in; InvalidInput names the first bad one."""
    raw = raw or {}
    if not isinstance(raw, dict):
        raise InvalidInput("settings is a JSON object.", field="settings")
    unknown = sorted(set(raw) - set(SETTINGS_RANGES))
    if unknown:
        raise InvalidInput(
            f"Unknown setting(s) {', '.join(unknown)[:200]}; settings are: {', '.join(SETTINGS_RANGES)}.",
            field="settings",
        )
    cleaned = {}
    for name, (default, low, high) in SETTINGS_RANGES.items():
        value = raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(f"settings.{name} is a whole number from {low} to {high}.", field="settings")
        cleaned[name] = value
    return cleaned


def _check_deployable(version: AssetVersion) -> None:
    """409 unless the version is approved and its signature verifies against the files in storage."""
    if version.status != VersionStatus.APPROVED:
        raise Conflict(
            f"Only approved versions can be deployed; {version.asset.full_slug} {version.version} is "
            f"{VersionStatus(version.status).label.lower()}.",
            code=ErrorCode.NOT_APPROVED,
        )
    check = version_signature_verify(version=version)
    if not check.valid:
        raise Conflict(
            f"{version.asset.full_slug} {version.version} cannot be deployed: {check.detail}",
            code=ErrorCode.SIGNATURE_INVALID,
        )


def _resolve(asset: Asset, *, version: str | None, alias: str | None) -> AssetVersion:
    if bool(version) == bool(alias):
        raise InvalidInput("Give exactly one of version and alias.", field="version")
    return version_by_alias(asset=asset, name=alias) if alias else version_get(asset=asset, version=version)


def _default_name(asset: Asset, version: AssetVersion) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", f"{asset.slug}-{version.version}".lower()).strip("-")
    return name[:ENDPOINT_NAME_MAX_LENGTH].rstrip("-")


def _check_name(name: str) -> None:
    if not re.fullmatch(ENDPOINT_NAME_PATTERN, name or ""):
        raise InvalidInput(
            "An endpoint name is 1-63 lowercase letters, digits and '-', starting and ending with a "
            "letter or digit (for example fraud-scorer).",
            field="name",
        )


def _used_models(solution: AssetVersion) -> list[AssetVersion]:
    return list(
        AssetVersion.objects.filter(
            lineage_in__source=solution, lineage_in__kind=LineageKind.USES, asset__kind=AssetKind.MODEL
        )
        .select_related("asset__team")
        .order_by("asset__slug", "pk")
    )


def _key_new(endpoint: Endpoint, user) -> tuple[EndpointKey, str]:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return EndpointKey.objects.create(endpoint=endpoint, prefix=key[:12], key_hash=_key_hash(key), created_by=user), key


def endpoint_create(
    *,
    user,
    team,
    asset: str | Asset,
    version: str | None = None,
    alias: str | None = None,
    name: str | None = None,
    settings: dict | None = None,
    visibility: str = Visibility.PRIVATE,
) -> list[tuple[Endpoint, str]]:
    """Deploy a version for `team` (its members): one endpoint for a model version, or one per model version a
    solution version `uses`. Each version must be approved and its signature must verify (409 otherwise).

    `asset` (an Asset or "team/slug") must be visible to `user`. Returns each endpoint with its first key (not
    stored; shown once). Transactional and audited; the provisioning task is sent on commit.
    """
    require(user, Permission.ENDPOINT_MANAGE, team, f"Only members of '{team.slug}' can deploy endpoints for it.")
    owner, _, slug = (asset.full_slug if isinstance(asset, Asset) else asset or "").partition("/")
    if not owner or not slug:
        raise InvalidInput("asset is 'team/slug'.", field="asset")
    found = asset_get(user=user, team=owner, slug=slug)
    chosen = _resolve(found, version=version, alias=alias)
    cleaned = endpoint_settings_clean(settings)
    if visibility not in Visibility.values:
        raise InvalidInput(f"visibility is one of {', '.join(Visibility.values)}.", field="visibility")
    if name is not None:
        _check_name(name)
    if found.kind == AssetKind.MODEL:
        targets = [(chosen, name or _default_name(found, chosen), alias or "")]
    elif found.kind == AssetKind.SOLUTION:
        if chosen.status != VersionStatus.APPROVED:
            _check_deployable(chosen)
        models = _used_models(chosen)
        if not models:
            raise InvalidInput(
                f"{found.full_slug} {chosen.version} uses no model version (declare `uses` lineage "
                "edges), so there is nothing to deploy.",
                field="asset",
            )
        base = name or _default_name(found, chosen)
        targets = [
            (model, f"{base[:30].rstrip('-')}-{_default_name(model.asset, model)}"[:63].rstrip("-"), "")
            for model in models
        ]
    else:
        raise InvalidInput("Only models and solutions can be deployed; datasets are not served.", field="asset")
    for target, _, _ in targets:
        _check_deployable(target)
    created = []
    try:
        with transaction.atomic():
            for target, endpoint_name, follow in targets:
                endpoint = Endpoint(
                    team=team,
                    name=endpoint_name,
                    version=target,
                    alias=follow,
                    settings=cleaned,
                    backend=settings_backend(),
                    visibility=visibility,
                    created_by=user,
                )
                endpoint.full_clean(validate_constraints=False)
                endpoint.save()
                _, key = _key_new(endpoint, user)
                audit_record(
                    actor=user,
                    action=AuditAction.ENDPOINT_CREATE,
                    target=endpoint,
                    team=team,
                    data={
                        "name": endpoint.name,
                        "asset": target.asset.full_slug,
                        "version": target.version,
                        "alias": follow,
                        "settings": cleaned,
                        "visibility": visibility,
                    },
                    after={"status": endpoint.status},
                )
                task_send_on_commit(PROVISION_TASK, endpoint.pk)
                created.append((endpoint, key))
            asset_usage_refresh(asset_ids={target.asset_id for target, _, _ in targets})
    except IntegrityError:
        raise Conflict(
            f"An endpoint named '{', '.join(n for _, n, _ in targets)[:200]}' exists already; choose another name.",
            code=ErrorCode.NAME_TAKEN,
            field="name",
        ) from None
    return created


def asset_usage_refresh(*, asset_ids) -> None:
    """Recount `Asset.usage_count` (live endpoints serving any of the asset's versions) of these assets, in the
    caller's transaction: what the catalogue sorts "most used" by. An update of the count only; updated_at stays."""
    live = (
        Endpoint.objects.filter(version__asset_id=OuterRef("pk"))
        .exclude(status=S.DELETED)
        .order_by()
        .values("version__asset_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Asset.objects.filter(pk__in=sorted(asset_ids)).update(usage_count=Coalesce(Subquery(live), Value(0)))


def settings_backend() -> str:
    return settings.MODELHUB_ENDPOINT_BACKEND


def _lock(endpoint: Endpoint) -> Endpoint:
    return (
        Endpoint.objects.select_for_update(of=("self",))
        .select_related("team", "version__asset__team")
        .get(pk=endpoint.pk)
    )


def _retarget(locked: Endpoint, *, status: str, **fields) -> None:
    """Move to a work status and reset the claim, so a task working on the old target drops its outcome."""
    now = timezone.now()
    for field, value in fields.items():
        setattr(locked, field, value)
    locked.status, locked.status_reason, locked.status_changed_at = status, "", now
    locked.task_id, locked.claimed_at, locked.attempts = "", None, 0
    locked.save(
        update_fields=["status", "status_reason", "status_changed_at", "task_id", "claimed_at", "attempts", *fields]
    )


def endpoint_update(*, user, endpoint: Endpoint, version: str | None = None, alias: str | None = None) -> Endpoint:
    """Point the endpoint at another approved version of the same asset (or an alias to follow), members of its
    team. The task loads it under the same name (the runtime swaps atomically), then the endpoint is `ready`."""
    team = endpoint.team
    require(user, Permission.ENDPOINT_MANAGE, team, f"Only members of '{team.slug}' can change its endpoints.")
    asset = asset_get(user=user, team=endpoint.version.asset.team.slug, slug=endpoint.version.asset.slug)
    target = _resolve(asset, version=version, alias=alias)
    _check_deployable(target)
    with transaction.atomic():
        locked = _lock(endpoint)
        _require_transition(locked, S.UPDATING, "updated")
        before = locked.version.version
        _retarget(locked, status=S.UPDATING, version=target, alias=alias or "")
        audit_record(
            actor=user,
            action=AuditAction.ENDPOINT_UPDATE,
            target=locked,
            team=team,
            before={"version": before},
            after={"version": target.version, "alias": alias or ""},
        )
        task_send_on_commit(PROVISION_TASK, locked.pk)
    return locked


def endpoint_delete(*, user, endpoint: Endpoint) -> Endpoint:
    """Start deleting an endpoint (members of its team): its keys stop working now; the task unloads it."""
    team = endpoint.team
    require(user, Permission.ENDPOINT_MANAGE, team, f"Only members of '{team.slug}' can delete its endpoints.")
    with transaction.atomic():
        locked = _lock(endpoint)
        if locked.status == S.DELETING:
            return locked
        _require_transition(locked, S.DELETING, "deleted")
        before = locked.status
        _retarget(locked, status=S.DELETING)
        EndpointKey.objects.filter(endpoint=locked, revoked_at=None).update(revoked_at=timezone.now())
        audit_record(
            actor=user,
            action=AuditAction.ENDPOINT_DELETE,
            target=locked,
            team=team,
            before={"status": before},
            after={"status": S.DELETING},
        )
        task_send_on_commit(PROVISION_TASK, locked.pk)
    return locked


def endpoints_follow_alias(*, asset_id: int, alias: str) -> list[int]:
    """Redeploy the endpoints that follow `alias` of the asset to the version it points at now. Called once an
    alias move commits (registry.endpoints.subscribers); idempotent (endpoints already there are left)."""
    target = Alias.objects.filter(asset_id=asset_id, name=alias).values_list("version_id", flat=True).first()
    if target is None:
        return []
    moved = []
    candidates = (
        Endpoint.objects.filter(version__asset_id=asset_id, alias=alias)
        .exclude(version_id=target)
        .exclude(status__in=[S.DELETING, S.DELETED])
        .order_by("pk")
    )
    for endpoint in candidates:
        with transaction.atomic():
            locked = _lock(endpoint)
            if locked.alias != alias or locked.version_id == target or not can_transition(locked.status, S.UPDATING):
                continue
            before = locked.version.version
            new_version = AssetVersion.objects.get(pk=target)
            _retarget(locked, status=S.UPDATING, version=new_version)
            audit_record(
                actor=None,
                action=AuditAction.ENDPOINT_UPDATE,
                target=locked,
                team=locked.team,
                before={"version": before},
                after={"version": new_version.version, "alias": alias},
                data={"reason": f"alias '{alias}' moved"},
            )
            task_send_on_commit(PROVISION_TASK, locked.pk)
            moved.append(locked.pk)
    return moved


# --- keys ----------------------------------------------------------------------------------------------


def endpoint_key_create(*, user, endpoint: Endpoint) -> tuple[EndpointKey, str]:
    """A new key for the endpoint (members of its team); the key is returned once and not stored."""
    team = endpoint.team
    require(user, Permission.ENDPOINT_MANAGE, team, f"Only members of '{team.slug}' can manage its endpoint keys.")
    with transaction.atomic():
        locked = _lock(endpoint)
        if locked.status in (S.DELETING, S.DELETED):
            raise Conflict(f"Endpoint '{locked.name}' is being deleted.", code=ErrorCode.DELETED)
        if EndpointKey.objects.filter(endpoint=locked, revoked_at=None).count() >= MAX_KEYS_PER_ENDPOINT:
            raise InvalidInput(f"An endpoint has at most {MAX_KEYS_PER_ENDPOINT} active keys; revoke one first.")
        key, raw = _key_new(locked, user)
        audit_record(
            actor=user,
            action=AuditAction.ENDPOINT_KEY_CREATE,
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
            action=AuditAction.ENDPOINT_KEY_REVOKE,
            target=endpoint,
            team=team,
            data={"key_id": key.pk, "prefix": key.prefix},
        )
    return key


# --- the runtime's credential check ----------------------------------------------------------------------


def runtime_authorize(*, model: str, credential_sha256: str) -> int:
    """Whether a credential may call endpoint `model`, as an HTTP status for the runtime: 200 (an active key of
    the endpoint, or the active API token of a member of its team), 401 (no such key or token), 403 (a token of
    a non-member on an internal endpoint), 404 (no such live endpoint, or private and not a member)."""
    endpoint = (
        Endpoint.objects.filter(name=model)
        .exclude(status__in=[S.DELETING, S.DELETED])
        .values("pk", "team_id", "visibility")
        .first()
    )
    if endpoint is None:
        return 404
    if EndpointKey.objects.filter(key_hash=credential_sha256, endpoint_id=endpoint["pk"], revoked_at=None).exists():
        return 200
    token = (
        APIToken.objects.filter(key_hash=credential_sha256, revoked_at=None, user__is_active=True)
        .values("user_id", "user__is_superuser")
        .first()
    )
    if token is None:
        return 401
    if (
        token["user__is_superuser"]
        or Membership.objects.filter(team_id=endpoint["team_id"], user_id=token["user_id"]).exists()
    ):
        return 200
    return 403 if endpoint["visibility"] == Visibility.INTERNAL else 404


# --- provisioning (the task's work) ------------------------------------------------------------------------


def endpoint_claim(*, endpoint_id: int, task_id: str) -> Endpoint | None:
    """Claim an endpoint's pending work for `task_id`; None when there is nothing to do.

    A redelivered message (same task id) takes its claim back; another task only a claim past its lease.
    A pending endpoint becomes `provisioning`. Past MODELHUB_ENDPOINT_MAX_ATTEMPTS (a crash loop) it fails.
    """
    now = timezone.now()
    claimed = (
        Endpoint.objects.filter(pk=endpoint_id, status__in=WORK_STATUSES)
        .filter(Q(task_id="") | Q(task_id=task_id) | Q(claimed_at__lt=now - _lease()))
        .update(
            task_id=task_id,
            claimed_at=now,
            attempts=F("attempts") + 1,
            status=Case(When(status=S.PENDING, then=Value(str(S.PROVISIONING))), default=F("status")),
        )
    )
    if not claimed:
        return None
    endpoint = (
        Endpoint.objects.select_related(
            "team", "version__asset__team", "version__validation", "deployed_version__asset"
        )
        .prefetch_related("version__files__blob", "deployed_version__files__blob")
        .get(pk=endpoint_id)
    )
    if endpoint.attempts > settings.MODELHUB_ENDPOINT_MAX_ATTEMPTS:
        endpoint_finish(
            endpoint_id=endpoint_id,
            task_id=task_id,
            ok=False,
            reason=f"Provisioning was interrupted {endpoint.attempts - 1} times (the worker was lost or "
            "killed at the time limit); delete the endpoint or deploy again.",
        )
        return None
    return endpoint


def endpoint_release(*, endpoint_id: int, task_id: str) -> None:
    """Give a claim back before a retry; a transient fault is not counted as an attempt."""
    Endpoint.objects.filter(pk=endpoint_id, task_id=task_id).update(
        task_id="", claimed_at=None, attempts=Case(When(attempts__gt=0, then=F("attempts") - 1), default=0)
    )


def endpoint_finish(
    *,
    endpoint_id: int,
    task_id: str,
    ok: bool,
    reason: str,
    url: str = "",
    error: str = "",
    version_id: int | None = None,
) -> bool:
    """Record the outcome if `task_id` still holds the claim (and, for a deploy, the endpoint still wants the
    version that was deployed). Audits and publishes endpoint.ready / .updated / .failed / .deleted."""
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Endpoint.objects.select_for_update(of=("self",))
            .select_related("team", "version__asset__team")
            .filter(pk=endpoint_id, task_id=task_id, status__in=WORK_STATUSES)
            .first()
        )
        if locked is None or (version_id is not None and locked.version_id != version_id):
            return False
        was = locked.status
        if not ok:
            target, action, event = S.FAILED, AuditAction.ENDPOINT_FAILED, Event.ENDPOINT_FAILED
        elif was == S.DELETING:
            target, action, event = S.DELETED, AuditAction.ENDPOINT_DELETE, Event.ENDPOINT_DELETED
        else:
            target, action = S.READY, AuditAction.ENDPOINT_READY
            event = Event.ENDPOINT_UPDATED if was == S.UPDATING else Event.ENDPOINT_READY
        if not can_transition(was, target):
            return False
        locked.status, locked.status_reason, locked.status_changed_at = target, reason[:2000], now
        locked.error, locked.task_id, locked.claimed_at = error[:4000], "", None
        fields = ["status", "status_reason", "status_changed_at", "error", "task_id", "claimed_at"]
        if target == S.READY:
            locked.url, locked.ready_at, locked.deployed_version_id = url, now, locked.version_id
            fields += ["url", "ready_at", "deployed_version"]
        if target == S.DELETED:
            locked.url = ""
            fields.append("url")
        locked.save(update_fields=fields)
        if target == S.DELETED:
            asset_usage_refresh(asset_ids={locked.version.asset_id})
        audit_record(
            actor=None,
            action=action,
            target=locked,
            team=locked.team,
            before={"status": was},
            after={"status": target},
            data={"reason": reason[:500], "version": locked.version.version},
        )
        publish(DomainEvent(name=event, subject=locked, data={"previous_status": was}))
    return True


def endpoint_files_dir(endpoint: Endpoint, version: AssetVersion) -> Path:
    return Path(settings.MODELHUB_RUNTIME_MODELS_DIR) / endpoint.name / version.sha256


def _materialize(endpoint: Endpoint, version: AssetVersion) -> Path:
    """The version's files under the runtime's models folder, each checked against its sha256; a folder that
    is complete already is reused (it is published by rename, so it is never half-written)."""
    final = endpoint_files_dir(endpoint, version)
    if final.is_dir():
        return final
    scratch = final.with_name(f".incoming-{secrets.token_hex(6)}")
    try:
        for f in version.files.all():
            blob_materialize(f.blob, scratch / f.path)
        try:
            scratch.rename(final)
        except OSError:  # a concurrent copy published it first
            if not final.is_dir():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return final


def _expected_outputs(version: AssetVersion) -> list[dict]:
    validation = getattr(version, "validation", None)
    smoke = ((validation.details if validation else None) or {}).get("smoke_inference") or {}
    return smoke.get("outputs") or (version.signature or {}).get("outputs") or []


def _remove_files(endpoint: Endpoint, keep: AssetVersion | None = None) -> None:
    folder = Path(settings.MODELHUB_RUNTIME_MODELS_DIR) / endpoint.name
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if keep is None or child.name != keep.sha256:
            shutil.rmtree(child, ignore_errors=True)
    if keep is None:
        shutil.rmtree(folder, ignore_errors=True)


def _conformance_key(endpoint: Endpoint) -> tuple[EndpointKey, str]:
    key = "mhe_check_" + secrets.token_urlsafe(32)
    return EndpointKey.objects.create(endpoint=endpoint, prefix=key[:12], key_hash=_key_hash(key), internal=True), key


def _roll_back(endpoint: Endpoint, backend) -> str:
    """After a failed update, load the version the endpoint served before again (its files are still there), so
    callers keep a working model; after a failed first deploy, unload it. Returns a sentence for the reason."""
    previous = endpoint.deployed_version
    if previous is None:  # a first deploy: serve nothing rather than a model that failed the check
        try:
            backend.remove(endpoint)
        except (DeployRefused, RuntimeUnavailable) as exc:
            return f" Unloading it failed too: {exc}"
        return ""
    if previous.pk == endpoint.version_id:
        return ""
    folder = endpoint_files_dir(endpoint, previous)
    if not folder.is_dir():
        return f" Version {previous.version} could not be restored: its files are gone."
    restored = copy.copy(endpoint)
    restored.version = previous
    try:
        backend.deploy(restored, folder)
    except (DeployRefused, RuntimeUnavailable) as exc:
        return f" Restoring version {previous.version} failed too: {exc}"
    return f" The endpoint still serves version {previous.version}."


def endpoint_provision(*, endpoint_id: int, task_id: str) -> bool:
    """Do the endpoint's pending work (deploy, update or delete) end to end. Idempotent; returns whether this call
    recorded an outcome. Raises RuntimeUnavailable or TransientStorageError for faults worth retrying (the task
    releases its claim first). Never called inside a transaction: it does network and file I/O.
    """
    endpoint = endpoint_claim(endpoint_id=endpoint_id, task_id=task_id)
    if endpoint is None:
        logger.info("endpoint %s: nothing to do (done, or claimed by another task)", endpoint_id)
        return False
    backend = backend_for(endpoint)
    if endpoint.status == S.DELETING:
        try:
            backend.remove(endpoint)
        except DeployRefused as exc:
            return endpoint_finish(endpoint_id=endpoint_id, task_id=task_id, ok=False, reason=str(exc))
        _remove_files(endpoint)
        return endpoint_finish(endpoint_id=endpoint_id, task_id=task_id, ok=True, reason="Unloaded and deleted.")

    version = endpoint.version
    finish = {"endpoint_id": endpoint_id, "task_id": task_id, "version_id": version.pk}
    try:
        files_dir = _materialize(endpoint, version)
    except BlobMissing as exc:
        return endpoint_finish(
            **finish,
            ok=False,
            reason=f"The files of {version.asset.full_slug} {version.version} "
            f"cannot be deployed: {exc}. Ask its owners to upload it again.",
        )
    check = version_signature_verify(version=version, local_files=files_dir)
    if not check.valid:
        shutil.rmtree(files_dir, ignore_errors=True)
        return endpoint_finish(
            **finish,
            ok=False,
            reason=f"The approval signature of {version.asset.full_slug} "
            f"{version.version} does not verify, so it was not deployed: "
            f"{check.detail}",
        )
    try:
        url = backend.deploy(endpoint, files_dir)
    except DeployRefused as exc:
        return endpoint_finish(**finish, ok=False, reason=str(exc) + _roll_back(endpoint, backend))
    key, raw = _conformance_key(endpoint)
    try:
        summary = conformance_check(
            base_url=backend.internal_url(endpoint),
            name=endpoint.name,
            signature=version.signature or {},
            expected_outputs=_expected_outputs(version),
            headers={"Authorization": f"Bearer {raw}"},
        )
    except ConformanceFailure as exc:
        return endpoint_finish(
            **finish,
            ok=False,
            reason=f"The runtime serves {version.asset.full_slug} {version.version}, but not as it "
            f"was validated: {exc}. Check the version's signature and the runtime's log."
            + _roll_back(endpoint, backend),
        )
    finally:
        EndpointKey.objects.filter(pk=key.pk).delete()
    _remove_files(endpoint, keep=version)
    return endpoint_finish(
        **finish,
        ok=True,
        url=url,
        reason=f"Serving {version.asset.full_slug} {version.version}; conformance check passed "
        f"(inputs {', '.join(summary['inputs'])}; outputs {', '.join(summary['outputs'])}).",
    )


def endpoints_recover_stalled(*, now=None) -> list[int]:
    """Re-send the provisioning task for endpoints whose task was lost (never claimed, or claim past its lease).
    Safe to run concurrently: each re-send first resets the claim with a conditional update."""
    now = now or timezone.now()
    stalled = (
        Endpoint.objects.filter(status__in=WORK_STATUSES)
        .filter(
            Q(claimed_at__isnull=True, status_changed_at__lt=now - UNCLAIMED_GRACE) | Q(claimed_at__lt=now - _lease())
        )
        .values_list("pk", "claimed_at")
    )
    resent = []
    for pk, claimed_at in stalled:
        if Endpoint.objects.filter(pk=pk, claimed_at=claimed_at).update(
            task_id="", claimed_at=None, status_changed_at=now
        ):
            task_send(PROVISION_TASK, pk)
            resent.append(pk)
    if resent:
        logger.warning("re-sent stalled endpoint provisioning for %s", resent)
    # Conformance-check keys a killed task never deleted: nobody knows them, but they must not stay valid.
    EndpointKey.objects.filter(internal=True, created_at__lt=now - _lease()).delete()
    return resent
