"""What people ask of endpoints: deploy (create), update, delete, and following a moved alias.

Each writes rows only, in one transaction with its audit event, and sends the provisioning task on commit
(registry.endpoints.services.provisioning does the slow work). Which status changes are allowed is
registry.endpoints.lifecycle.
"""

from __future__ import annotations

import re

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from registry.assets.models import Asset, AssetKind
from registry.assets.selectors import asset_get
from registry.endpoints.lifecycle import GONE_STATUSES, can_transition, require_deployable_status, require_transition
from registry.endpoints.models import (
    ENDPOINT_NAME_MAX_LENGTH,
    ENDPOINT_NAME_PATTERN,
    Endpoint,
    EndpointKey,
    EndpointStatus,
)
from registry.endpoints.selectors import endpoint_get, endpoint_list
from registry.endpoints.services.keys import key_new
from registry.endpoints.services.provisioning import PROVISION_TASK
from registry.endpoints.services.shadows import shadow_active, shadow_stop_locked
from registry.endpoints.services.usage import asset_usage_refresh
from registry.governance.models import Alias
from registry.governance.selectors import version_by_alias
from registry.governance.signing import version_signature_verify
from registry.kernel.access import Permission, Visibility, require
from registry.kernel.audit.services import audit_record
from registry.kernel.errors import Conflict, ErrorCode, InvalidInput, TeamLimitReached
from registry.kernel.events import Event
from registry.kernel.lib.model_formats import model_format
from registry.kernel.lib.tasks import task_send_on_commit
from registry.lineage.models import LineageKind
from registry.teams.models import Team
from registry.versions.models import AssetVersion
from registry.versions.selectors import version_get

# Settings: name -> (default, minimum, maximum).
SETTINGS_RANGES: dict[str, tuple[int, int, int]] = {
    "max_batch_size": (0, 0, 256),
    "max_batch_delay_ms": (2, 0, 100),
    "timeout_ms": (30_000, 10, 600_000),
    "replicas": (1, 1, 8),
    "memory_limit": (2 << 30, 64 << 20, 64 << 30),
}


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


def settings_backend() -> str:
    return django_settings.MODELHUB_ENDPOINT_BACKEND


def _check_deployable(version: AssetVersion) -> None:
    """409 unless the version is an ONNX model, approved, and its signature verifies against the files in storage."""
    primary = next((f.path for f in version.files.all() if f.is_primary), version.filename)
    if model_format(primary) != "onnx":
        raise Conflict(
            f"{version.asset.full_slug} {version.version} is a {model_format(primary) or 'non-ONNX'} model: Modelhub "
            "catalogues it but serves only ONNX. Export it to ONNX and upload that as a version to deploy it.",
            code=ErrorCode.NOT_DEPLOYABLE,
        )
    require_deployable_status(version)
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


def _require_endpoint_room(team, adding: int) -> None:
    """Inside the creating transaction: lock the team row (so two concurrent creations count one after the other)
    and refuse endpoints past MODELHUB_TEAM_MAX_ENDPOINTS."""
    Team.objects.select_for_update().filter(pk=team.pk).first()
    limit = django_settings.MODELHUB_TEAM_MAX_ENDPOINTS
    live = Endpoint.objects.filter(team=team).exclude(status__in=GONE_STATUSES).count()
    if live + adding > limit:
        raise TeamLimitReached(
            f"'{team.slug}' has {live} endpoint(s) and may have at most {limit} "
            f"(MODELHUB_TEAM_MAX_ENDPOINTS); this would add {adding}. Delete endpoints it no longer uses first.",
        )


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

    `asset` (an Asset or "team/slug") must be visible to `user`. Returns each endpoint, loaded as
    registry.endpoints.selectors.endpoint_list loads it (ready to serialise), with its first key (not stored;
    shown once). Transactional and audited; the provisioning task is sent on commit.
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
        require_deployable_status(chosen)  # the models it uses are served (and their signatures checked), not it
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
            _require_endpoint_room(team, len(targets))
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
                _, key = key_new(endpoint, user)
                audit_record(
                    actor=user,
                    action=Event.ENDPOINT_CREATED,
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
    loaded = {e.pk: e for e in endpoint_list(user=user).filter(pk__in=[e.pk for e, _ in created])}
    return [(loaded[endpoint.pk], key) for endpoint, key in created]


def _lock(endpoint: Endpoint) -> Endpoint:
    return (
        Endpoint.objects.select_for_update(of=("self",))
        .select_related("team", "version__asset__team")
        .get(pk=endpoint.pk)
    )


def _retarget(locked: Endpoint, *, status: str, reason: str = "", **fields) -> None:
    """Move to a work status and reset the claim, so a task working on the old target drops its outcome."""
    now = timezone.now()
    for field, value in fields.items():
        setattr(locked, field, value)
    locked.status, locked.status_reason, locked.status_changed_at = status, reason, now
    locked.task_id, locked.claimed_at, locked.attempts = "", None, 0
    locked.save(
        update_fields=["status", "status_reason", "status_changed_at", "task_id", "claimed_at", "attempts", *fields]
    )


def endpoint_update(*, user, endpoint: Endpoint, version: str | None = None, alias: str | None = None) -> Endpoint:
    """Point the endpoint at another approved version of the same asset (or an alias to follow), members of its
    team. The task loads it under the same name (the runtime swaps atomically), then the endpoint is `ready`.
    Returns the endpoint as registry.endpoints.selectors.endpoint_get loads it (ready to serialise)."""
    team = endpoint.team
    require(user, Permission.ENDPOINT_MANAGE, team, f"Only members of '{team.slug}' can change its endpoints.")
    asset = asset_get(user=user, team=endpoint.version.asset.team.slug, slug=endpoint.version.asset.slug)
    target = _resolve(asset, version=version, alias=alias)
    _check_deployable(target)
    with transaction.atomic():
        locked = _lock(endpoint)
        require_transition(locked, EndpointStatus.UPDATING)
        before = locked.version.version
        _retarget(locked, status=EndpointStatus.UPDATING, version=target, alias=alias or "")
        audit_record(
            actor=user,
            action=Event.ENDPOINT_UPDATE_REQUESTED,
            target=locked,
            team=team,
            before={"version": before},
            after={"version": target.version, "alias": alias or ""},
        )
        task_send_on_commit(PROVISION_TASK, locked.pk)
    return endpoint_get(user=user, endpoint_id=locked.pk)


def endpoint_reload(*, endpoint: Endpoint, reason: str) -> bool:
    """Load a ready endpoint again, as it is (same version), for the recovery sweep: back to `updating`, audited,
    and the provisioning task does the rest. False when it is not ready any more (changed meanwhile)."""
    with transaction.atomic():
        locked = _lock(endpoint)
        if locked.status != EndpointStatus.READY or locked.status_changed_at != endpoint.status_changed_at:
            return False
        _retarget(locked, status=EndpointStatus.UPDATING, reason=reason)
        audit_record(
            actor=None,
            action=Event.ENDPOINT_UPDATE_REQUESTED,
            target=locked,
            team=locked.team,
            before={"version": locked.version.version},
            after={"version": locked.version.version},
            data={"reason": reason},
        )
        task_send_on_commit(PROVISION_TASK, locked.pk)
    return True


def endpoint_delete(*, user, endpoint: Endpoint) -> Endpoint:
    """Start deleting an endpoint (members of its team): its keys stop working now; the task unloads it.
    Idempotent while it is deleting. Returns the endpoint as registry.endpoints.selectors.endpoint_get loads it."""
    team = endpoint.team
    require(user, Permission.ENDPOINT_MANAGE, team, f"Only members of '{team.slug}' can delete its endpoints.")
    with transaction.atomic():
        locked = _lock(endpoint)
        if locked.status != EndpointStatus.DELETING:
            require_transition(locked, EndpointStatus.DELETING)
            before = locked.status
            _retarget(locked, status=EndpointStatus.DELETING)
            EndpointKey.objects.filter(endpoint=locked, revoked_at=None).update(revoked_at=timezone.now())
            shadow = shadow_active(locked)
            if shadow is not None:
                shadow_stop_locked(user, locked, shadow, "The endpoint is being deleted.")
            audit_record(
                actor=user,
                action=Event.ENDPOINT_DELETE_REQUESTED,
                target=locked,
                team=team,
                before={"status": before},
                after={"status": EndpointStatus.DELETING},
            )
            task_send_on_commit(PROVISION_TASK, locked.pk)
    return endpoint_get(user=user, endpoint_id=locked.pk)


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
        .exclude(status__in=GONE_STATUSES)
        .order_by("pk")
    )
    for endpoint in candidates:
        with transaction.atomic():
            locked = _lock(endpoint)
            if (
                locked.alias != alias
                or locked.version_id == target
                or not can_transition(locked.status, EndpointStatus.UPDATING)
            ):
                continue
            before = locked.version.version
            new_version = AssetVersion.objects.get(pk=target)
            _retarget(locked, status=EndpointStatus.UPDATING, version=new_version)
            audit_record(
                actor=None,
                action=Event.ENDPOINT_UPDATE_REQUESTED,
                target=locked,
                team=locked.team,
                before={"version": before},
                after={"version": new_version.version, "alias": alias},
                data={"reason": f"alias '{alias}' moved"},
            )
            task_send_on_commit(PROVISION_TASK, locked.pk)
            moved.append(locked.pk)
    return moved
