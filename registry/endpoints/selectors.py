"""Reads of inference endpoints, scoped to the caller's teams, and the runtime's figures for one."""

from __future__ import annotations

import math
import re

from django.core.cache import cache
from django.db.models import Prefetch, QuerySet

from registry.endpoints.models import Endpoint, EndpointKey, EndpointStatus
from registry.governance.models import VersionSignature
from registry.kernel.access import Permission, restrict
from registry.kernel.errors import NotFound
from registry.runtime.metrics import histogram_quantile
from registry.teams.models import Team
from registry.teams.selectors import team_get_for

METRICS_CACHE_SECONDS = 5
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


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


def _labels(text: str | None) -> dict:
    return dict(_LABEL.findall(text or ""))


def metrics_parse(text: str, *, model: str) -> dict:
    """Request count and p50/p95 latency (ms) of `model` from Prometheus text whose metric names are not fixed:
    a sample counts when one of its labels equals the model name; requests are the counters named *request*
    (`_total`/`_count`), latency the histogram whose name says latency/duration/seconds. Absent -> None."""
    counted, histograms = {}, {}
    for line in text.splitlines():
        match = _SAMPLE.match(line.strip())
        if not match or line.startswith("#"):
            continue
        name, labels, raw = match.group(1), _labels(match.group(2)), match.group(3)
        if model not in labels.values():
            continue
        try:
            value = float(raw)
        except ValueError:
            continue
        lowered = name.lower()
        if name.endswith("_bucket") and "le" in labels:
            if any(word in lowered for word in ("latency", "duration", "seconds", "_ms", "time")):
                le = math.inf if labels["le"] in ("+Inf", "Inf") else float(labels["le"])
                base = name[: -len("_bucket")]
                by_le = histograms.setdefault(base, {})
                by_le[le] = by_le.get(le, 0.0) + value
        elif "request" in lowered and not any(word in lowered for word in ("fail", "error")):
            suffix = "_total" if name.endswith("_total") else "_count" if name.endswith("_count") else None
            if suffix:
                counted[suffix] = counted.get(suffix, 0.0) + value
    # Counters (`_total`) first; a histogram's `_count` only when there is no counter.
    requests_total = counted.get("_total", counted.get("_count"))
    p50 = p95 = None
    if histograms:
        base, by_le = sorted(histograms.items())[0]
        buckets = list(by_le.items())
        scale = 1000.0 if "second" in base else 1.0
        q50, q95 = histogram_quantile(buckets, 0.5), histogram_quantile(buckets, 0.95)
        p50 = None if q50 is None else round(q50 * scale, 3)
        p95 = None if q95 is None else round(q95 * scale, 3)
        if requests_total is None:
            requests_total = max(by_le.values())
    return {
        "request_count": None if requests_total is None else int(requests_total),
        "latency_p50_ms": p50,
        "latency_p95_ms": p95,
    }


def endpoint_metrics(*, endpoint: Endpoint) -> dict:
    """Best effort, cached a few seconds: the runtime's figures for a ready endpoint, or nulls.

    From Modelhub's runtime: requests since the model was loaded, and requests and p50/p95 latency over the
    last hour, in all and per minute (its stats route). From a runtime without that route: the cumulative
    figures of its Prometheus /metrics, and no per-minute traffic."""
    empty = {
        "request_count": None,
        "requests_last_hour": None,
        "latency_p50_ms": None,
        "latency_p95_ms": None,
        "traffic": [],
    }
    if endpoint.status != EndpointStatus.READY or endpoint.backend != "local":
        return empty
    from registry.endpoints.backends.local import LocalRuntimeBackend

    key = f"endpoint-stats-{endpoint.name}"
    stats = cache.get(key)
    if stats is None:
        stats = LocalRuntimeBackend().model_stats(endpoint.name) or {}
        cache.set(key, stats, METRICS_CACHE_SECONDS)
    hour = stats.get("last_hour")
    if isinstance(hour, dict):
        return {
            "request_count": stats.get("requests"),
            "requests_last_hour": hour.get("requests"),
            "latency_p50_ms": hour.get("latency_p50_ms"),
            "latency_p95_ms": hour.get("latency_p95_ms"),
            "traffic": hour.get("per_minute") or [],
        }
    text = cache.get("endpoint-metrics-text")
    if text is None:
        text = LocalRuntimeBackend().metrics_text() or ""
        cache.set("endpoint-metrics-text", text, METRICS_CACHE_SECONDS)
    return {**empty, **metrics_parse(text, model=endpoint.name)} if text else empty


def asset_endpoints(*, user, asset) -> QuerySet[Endpoint]:
    """The caller's teams' live endpoints that serve a version of `asset` (which the caller can already see),
    for a list of names and statuses: without their versions' signature records."""
    return endpoint_list(user=user).filter(version__asset=asset).prefetch_related(None)
