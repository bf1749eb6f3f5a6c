"""Reads of inference endpoints, scoped to the caller's teams, and the runtime's figures for one."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Prefetch, QuerySet

from registry.endpoints.backends import METRICS_UNAVAILABLE, backend_for
from registry.endpoints.models import Endpoint, EndpointKey, EndpointStatus
from registry.governance.models import VersionSignature
from registry.kernel.access import Permission, restrict
from registry.kernel.errors import NotFound
from registry.teams.models import Team
from registry.teams.selectors import team_get_for

METRICS_CACHE_SECONDS = 5


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


def endpoint_metrics(*, endpoint: Endpoint) -> dict:
    """Best effort, cached a few seconds: the figures the endpoint's backend reports for it when it is ready
    (registry.endpoints.backends: `metrics`), nulls for what it does not know or when it is not ready."""
    if endpoint.status != EndpointStatus.READY:
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
