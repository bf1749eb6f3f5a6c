"""Reads of monitoring, for an endpoint the caller already may see (registry.endpoints.selectors.endpoint_get)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from registry.endpoints.models import LIVE_Q, Endpoint
from registry.kernel.errors import InvalidInput, NotFound
from registry.monitoring.evaluation import merge_tensors, reference_for, report_url
from registry.monitoring.models import (
    AlarmKind,
    AlarmStatus,
    DriftReport,
    EndpointMonitor,
    MonitoringAlarm,
    MonitoringWindow,
)
from registry.monitoring.performance import endpoint_performance
from registry.profiles.columns import ProfileError, profile_from_dict, profiles_merged
from registry.profiles.drift import histogram, reference_edges

DEFAULT_SPAN = timedelta(hours=24)
MAX_SPAN = timedelta(days=90)
MAX_POINTS = 1000
WINDOW_CHOICES = (60, 300, 900, 3600, 21600, 86400)
MAX_REPORTS = 500


class Health:
    HEALTHY = "healthy"
    DRIFTING = "drifting"
    DEGRADED = "degraded"
    NO_DATA = "no data"


def _window(since, until, window: int | None) -> int:
    if window is not None:
        if window not in WINDOW_CHOICES:
            raise InvalidInput(f"window is one of {list(WINDOW_CHOICES)} seconds.", field="window")
        if (until - since).total_seconds() / window > MAX_POINTS:
            raise InvalidInput(
                f"at most {MAX_POINTS} points: choose a larger window or a shorter span.", field="window"
            )
        return window
    span = (until - since).total_seconds()
    return next((w for w in WINDOW_CHOICES if span / w <= 300), WINDOW_CHOICES[-1])


def _span(since, until):
    until = until or timezone.now()
    since = since or until - DEFAULT_SPAN
    if since >= until:
        raise InvalidInput("since must be before until.", field="since")
    if until - since > MAX_SPAN:
        raise InvalidInput(f"at most {MAX_SPAN.days} days at a time.", field="since")
    return since, until


def _quantile(profile, q: float):
    try:
        return float(profile.quantiles([q])[0]) if profile is not None and profile.count else None
    except ProfileError:
        return None


def _traffic(endpoint: Endpoint, since, until, window: int) -> list[dict]:
    buckets: dict[int, list] = {}
    for w in MonitoringWindow.objects.filter(endpoint=endpoint, start__gte=since, start__lt=until).only(
        "start", "seconds", "requests", "rows", "failures", "latency_ms", "process"
    ):
        key = int(w.start.timestamp()) // window * window
        buckets.setdefault(key, []).append(w)
    series = []
    for start in sorted(buckets):
        windows = buckets[start]
        latency = profiles_merged(w.latency_ms for w in windows)
        process = max((w.process for w in windows if w.process), key=lambda p: p.get("at", 0), default={})
        series.append(
            {
                "start": start,
                "requests": sum(w.requests for w in windows),
                "rows": sum(w.rows for w in windows),
                "failures": sum(w.failures for w in windows),
                "latency_p50_ms": _quantile(latency, 0.5),
                "latency_p95_ms": _quantile(latency, 0.95),
                "latency_p99_ms": _quantile(latency, 0.99),
                "cpu_seconds": process.get("cpu_seconds"),
                "rss_bytes": process.get("rss_bytes"),
            }
        )
    return series


def _scores(entries: dict) -> dict:
    return {
        name: {
            k: e.get(k) for k in ("scores", "thresholds", "drifted", "reference", "dataset_column", "note") if k in e
        }
        for name, e in entries.items()
    }


def endpoint_health(endpoint: Endpoint) -> str:
    """healthy, drifting (an open drift alarm), degraded (an open performance alarm) or no data."""
    kinds = set(
        MonitoringAlarm.objects.filter(endpoint=endpoint, status=AlarmStatus.OPEN).values_list("kind", flat=True)
    )
    if AlarmKind.PERFORMANCE in kinds:
        return Health.DEGRADED
    if AlarmKind.DRIFT in kinds:
        return Health.DRIFTING
    return Health.HEALTHY if DriftReport.objects.filter(endpoint=endpoint).exists() else Health.NO_DATA


def endpoints_health(endpoint_ids) -> dict[int, str]:
    """endpoint_health of several endpoints in two queries (the asset page's badges)."""
    ids = list(endpoint_ids)
    open_alarms: dict[int, set] = {}
    for endpoint_id, kind in MonitoringAlarm.objects.filter(endpoint_id__in=ids, status=AlarmStatus.OPEN).values_list(
        "endpoint_id", "kind"
    ):
        open_alarms.setdefault(endpoint_id, set()).add(kind)
    evaluated = set(DriftReport.objects.filter(endpoint_id__in=ids).values_list("endpoint_id", flat=True).distinct())
    health = {}
    for endpoint_id in ids:
        kinds = open_alarms.get(endpoint_id, set())
        if AlarmKind.PERFORMANCE in kinds:
            health[endpoint_id] = Health.DEGRADED
        elif AlarmKind.DRIFT in kinds:
            health[endpoint_id] = Health.DRIFTING
        else:
            health[endpoint_id] = Health.HEALTHY if endpoint_id in evaluated else Health.NO_DATA
    return health


def endpoint_monitoring(*, endpoint: Endpoint, since=None, until=None, window: int | None = None) -> dict:
    """The endpoint's monitoring series over [since, until): traffic, errors, latency and process figures per
    `window` seconds; every drift report (per feature and output: scores, thresholds, drifted); measured and
    estimated performance per report (ground truth that arrived late counts); the alarms; the reference."""
    since, until = _span(since, until)
    window = _window(since, until, window)
    monitor, _ = EndpointMonitor.objects.select_related("reference_version__asset").get_or_create(endpoint=endpoint)
    version = endpoint.deployed_version or endpoint.version
    reference = reference_for(endpoint, monitor, version)
    reports = list(
        DriftReport.objects.filter(endpoint=endpoint, start__gte=since, start__lt=until).order_by("start")[:MAX_REPORTS]
    )
    alarms = MonitoringAlarm.objects.filter(endpoint=endpoint, raised_at__lt=until).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=since)
    )
    return {
        "endpoint": endpoint.pk,
        "since": since,
        "until": until,
        "window": window,
        "health": endpoint_health(endpoint),
        "reference": {
            "kind": reference.kind,
            "dataset_version": (
                f"{reference.version.asset.full_slug}@{reference.version.version}" if reference.version else None
            ),
            "feature_map": reference.feature_map.as_dict(),
            "note": (
                "no dataset version with a profile to compare with: each feature is held against the endpoint's "
                "own first window"
                if reference.version is None
                else ""
            ),
        },
        "settings": {
            "thresholds": monitor.thresholds,
            "alarm_after": monitor.alarm_after,
            "resolve_after": monitor.resolve_after,
            "min_rows": monitor.min_rows,
            "performance_tolerance": monitor.performance_tolerance,
        },
        "traffic": _traffic(endpoint, since, until, window),
        "drift": [
            {
                "report_id": r.pk,
                "url": report_url(r),
                "start": r.start,
                "end": r.end,
                "rows": r.rows,
                "reference": r.reference,
                "drifted": r.drifted,
                "features": _scores(r.features),
                "outputs": _scores(r.outputs),
            }
            for r in reports
        ],
        "performance": [
            {
                "report_id": r.pk,
                "start": r.start,
                "end": r.end,
                **endpoint_performance(endpoint=endpoint, feature_map=reference.feature_map, start=r.start, end=r.end),
            }
            for r in reports
        ],
        "alarms": [
            {
                "id": a.pk,
                "kind": a.kind,
                "status": a.status,
                "raised_at": a.raised_at,
                "resolved_at": a.resolved_at,
                "window_start": a.window_start,
                "features": a.features,
            }
            for a in alarms
        ],
    }


def drift_report_get(*, endpoint: Endpoint, report_id: int) -> dict:
    """One report in full: per feature and output the reference and current profiles, their histograms on the
    reference's bins (numeric) or categories, the scores and thresholds."""
    report = DriftReport.objects.filter(endpoint=endpoint, pk=report_id).first()
    if report is None:
        raise NotFound(f"Endpoint {endpoint.pk} has no monitoring report {report_id}.")
    return {
        "report_id": report.pk,
        "start": report.start,
        "end": report.end,
        "rows": report.rows,
        "requests": report.requests,
        "reference": report.reference,
        "reference_version": report.reference_version_id,
        "feature_map": report.feature_map,
        "drifted": report.drifted,
        "features": {name: _with_histograms(e) for name, e in report.features.items()},
        "outputs": {name: _with_histograms(e) for name, e in report.outputs.items()},
        "performance": report.performance,
    }


def _with_histograms(entry: dict) -> dict:
    out = dict(entry)
    try:
        current = profile_from_dict(entry["current"]) if entry.get("current") else None
        reference = profile_from_dict(entry["reference_profile"]) if entry.get("reference_profile") else None
    except ProfileError:
        return out
    if current is None:
        return out
    if current.kind == "numeric":
        base = reference if reference is not None and reference.count else current
        if base.count:
            edges = reference_edges(base)
            out["histogram"] = {
                "edges": [float(e) for e in edges],
                "current": histogram(current, edges),
                "reference": histogram(reference, edges) if reference is not None else None,
            }
    else:
        out["histogram"] = {
            "current": histogram(current, None),
            "reference": histogram(reference, None) if reference is not None else None,
        }
    return out


def window_profiles(*, endpoint: Endpoint, start, end) -> dict:
    """The merged profiles of the windows in [start, end) (for a report's link: the current window's profile)."""
    windows = MonitoringWindow.objects.filter(endpoint=endpoint, start__gte=start, start__lt=end)
    return {
        "inputs": {n: [p.to_dict() for p in ps] for n, ps in merge_tensors(windows, "inputs").items()},
        "outputs": {n: [p.to_dict() for p in ps] for n, ps in merge_tensors(windows, "outputs").items()},
    }


def latest_scores() -> list[dict]:
    """Per live endpoint with a drift report: its latest report's scores and thresholds per column and metric, and
    its open alarms by kind (the Prometheus gauges of the portal's `/metrics`)."""
    latest = DriftReport.objects.filter(endpoint=OuterRef("pk")).order_by("-start").values("pk")[:1]
    ids = [
        pk
        for pk in Endpoint.objects.filter(LIVE_Q).annotate(report=Subquery(latest)).values_list("report", flat=True)
        if pk is not None
    ]
    open_alarms: dict[int, dict[str, int]] = {}
    for endpoint_id, kind, count in (
        MonitoringAlarm.objects.filter(status=AlarmStatus.OPEN)
        .values_list("endpoint_id", "kind")
        .annotate(count=Count("id"))
    ):
        open_alarms.setdefault(endpoint_id, {})[kind] = count
    rows = []
    for report in DriftReport.objects.filter(pk__in=ids).select_related("endpoint__team").order_by("endpoint_id"):
        columns = [
            (kind, name, entry)
            for kind, entries in (("input", report.features), ("output", report.outputs))
            for name, entry in entries.items()
        ]
        rows.append(
            {
                "endpoint": report.endpoint.name,
                "team": report.endpoint.team.slug,
                "end": report.end,
                "drifted": bool(report.drifted),
                "alarms": {kind: open_alarms.get(report.endpoint_id, {}).get(kind, 0) for kind in AlarmKind.values},
                "scores": [
                    (kind, name, metric, score, (entry.get("thresholds") or {}).get(metric))
                    for kind, name, entry in columns
                    for metric, score in (entry.get("scores") or {}).items()
                ],
            }
        )
    return rows
