"""Reads of inference endpoints, scoped to the caller's teams, and the runtime's figures for one."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Case, Prefetch, QuerySet, Value, When

from registry.endpoints.backends import METRICS_UNAVAILABLE, backend_for
from registry.endpoints.lifecycle import SHADOWABLE_VERSION_STATUSES
from registry.endpoints.models import SHADOW_ACTIVE_STATUSES, Endpoint, EndpointKey, EndpointShadow, EndpointStatus
from registry.governance.models import VersionSignature
from registry.kernel.access import Permission, restrict
from registry.kernel.errors import NotFound
from registry.teams.models import Team
from registry.teams.selectors import team_get_for
from registry.versions.models import AssetVersion

METRICS_CACHE_SECONDS = 5
SERVING_CACHE_SECONDS = 3


def endpoint_list(*, user) -> QuerySet[Endpoint]:
    """Live endpoints of the caller's teams, newest first, with what the API shows, in a fixed number of queries."""
    return (
        restrict(Endpoint.objects.all(), user, Permission.ENDPOINT_VIEW)
        .exclude(status=EndpointStatus.DELETED)
        .select_related("team", "version__asset__team", "created_by")
        .prefetch_related(
            Prefetch("version__signature_record", queryset=VersionSignature.objects.only("id", "version_id", "key_id"))
        )
        .order_by("-created_at", "-pk")
    )


def endpoint_get(*, user, endpoint_id: int) -> Endpoint:
    """The endpoint if the caller is a member of its team; NotFound otherwise (never a hint that it exists)."""
    found = endpoint_list(user=user).filter(pk=endpoint_id).first()
    if found is None:
        raise NotFound(f"You have no endpoint with id {endpoint_id}.")
    return found


def endpoint_team_get(*, user, slug: str) -> Team:
    return team_get_for(user=user, slug=slug, permission=Permission.ENDPOINT_VIEW)


def endpoint_key_list(*, endpoint: Endpoint) -> QuerySet[EndpointKey]:
    """The endpoint's active keys that people made (never their hashes)."""
    return (
        EndpointKey.objects.filter(endpoint=endpoint, revoked_at=None, internal=False)
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )


def endpoints_serving(endpoints) -> None:
    """Mark each endpoint with `serving` and `serving_reason`: for a ready one, whether its backend serves its model
    right now (True) or not (False, with the reason: the runtime is down, restarting, lost the model); None and ""
    for one that is not ready. Cached a few seconds per endpoint; what is not cached costs one call per backend
    (registry.endpoints.backends: `states`), never raises, and waits at most a couple of seconds for a runtime that
    does not answer."""
    endpoints = list(endpoints)
    ready = [e for e in endpoints if e.status == EndpointStatus.READY]
    keys = {e.pk: f"endpoint-serving-{e.pk}" for e in ready}
    known = cache.get_many(list(keys.values()))
    by_backend: dict[str, list[Endpoint]] = {}
    for endpoint in ready:
        if keys[endpoint.pk] not in known:
            by_backend.setdefault(endpoint.backend, []).append(endpoint)
    for group in by_backend.values():
        fresh = {keys[pk]: state for pk, state in backend_for(group[0]).states(group).items()}
        cache.set_many(fresh, SERVING_CACHE_SECONDS)
        known.update(fresh)
    for endpoint in endpoints:
        state = known.get(keys.get(endpoint.pk, ""))
        endpoint.serving = None if state is None else state["state"] == "READY"
        endpoint.serving_reason = "" if state is None or endpoint.serving else state.get("reason") or ""


def endpoint_metrics(*, endpoint: Endpoint) -> dict:
    """Best effort, cached a few seconds: the figures the endpoint's backend reports for it when it is ready
    (registry.endpoints.backends: `metrics`), nulls for what it does not know, when it is not ready, or when
    `endpoints_serving` found its backend not serving it."""
    if endpoint.status != EndpointStatus.READY or getattr(endpoint, "serving", None) is False:
        return {**METRICS_UNAVAILABLE, "traffic": []}
    key = f"endpoint-metrics-{endpoint.pk}"
    figures = cache.get(key)
    if figures is None:
        figures = {**METRICS_UNAVAILABLE, "traffic": [], **(backend_for(endpoint).metrics(endpoint) or {})}
        cache.set(key, figures, METRICS_CACHE_SECONDS)
    return figures


def asset_endpoints(*, user, asset) -> QuerySet[Endpoint]:
    """The caller's teams' live endpoints that serve a version of `asset` (which the caller can already see),
    for a list of names and statuses: without their versions' signature records."""
    return endpoint_list(user=user).filter(version__asset=asset).prefetch_related(None)


def endpoint_shadow_latest(*, endpoint: Endpoint) -> EndpointShadow:
    """The endpoint's active shadow, else its last one; NotFound when it never had one."""
    found = (
        EndpointShadow.objects.filter(endpoint=endpoint)
        .select_related("version__asset", "version__card", "created_by")
        .order_by(Case(When(status__in=SHADOW_ACTIVE_STATUSES, then=Value(0)), default=Value(1)), "-started_at", "-pk")
        .first()
    )
    if found is None:
        raise NotFound(f"Endpoint '{endpoint.name}' has no shadow; PUT a candidate version to start one.")
    found.endpoint = endpoint
    return found


def version_shadows(*, version) -> QuerySet[EndpointShadow]:
    """Every shadow run of candidate `version` (on any team's endpoint), newest first."""
    return (
        EndpointShadow.objects.filter(version=version)
        .select_related("endpoint__team", "endpoint__version", "created_by")
        .order_by("-started_at", "-pk")
    )


def shadow_candidates(*, endpoint: Endpoint, limit: int = 20) -> list:
    """Versions of the endpoint's asset that could shadow it (by status; shadow_start checks the rest), newest
    first."""
    return list(
        AssetVersion.objects.filter(asset_id=endpoint.version.asset_id, status__in=SHADOWABLE_VERSION_STATUSES)
        .exclude(pk=endpoint.version_id)
        .order_by("-created_at", "-pk")[:limit]
    )
