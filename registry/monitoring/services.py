"""Writes of monitoring: windows from the runtime, ground truth from the consuming team, an endpoint's settings."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models.functions import Trunc

from registry.assets.models import AssetKind
from registry.assets.selectors import asset_get
from registry.endpoints.models import LIVE_Q, SHADOW_SUFFIX, Endpoint
from registry.kernel.access import Permission, require
from registry.kernel.audit.services import audit_record
from registry.kernel.errors import InvalidInput, NotFound, PayloadTooLarge
from registry.kernel.events import Event
from registry.kernel.lib.jsonsafe import json_size
from registry.monitoring.models import (
    REQUEST_ID_MAX_LENGTH,
    WINDOW_MAX_BYTES,
    DriftReport,
    EndpointMonitor,
    GroundTruth,
    MonitoringWindow,
    Prediction,
    ShadowPrediction,
    ShadowWindow,
)
from registry.profiles.columns import ProfileError, profile_from_dict, profiles_merged
from registry.profiles.drift import CATEGORICAL_METRICS, NUMERIC_METRICS
from registry.versions.models import AssetVersion
from registry.versions.selectors import version_get

logger = logging.getLogger(__name__)

MAX_WINDOWS_PER_POST = 200
MAX_WINDOW_SECONDS = 3600
MAX_GROUND_TRUTH_PER_POST = 10_000
GROUND_TRUTH_MAX_BYTES = 4096
_COUNTS = ("requests", "rows", "failures")


def monitor_for(endpoint: Endpoint) -> EndpointMonitor:
    """The endpoint's monitoring settings and state, made with the defaults on first use."""
    monitor, _ = EndpointMonitor.objects.get_or_create(endpoint=endpoint)
    return monitor


# ------------------------------------------------------------------------------------------ from the runtime


def _profiles(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise InvalidInput(f"{where} must be an object of tensor name -> list of profiles.")
    for name, profiles in value.items():
        if not isinstance(profiles, list) or len(profiles) > 1024:
            raise InvalidInput(f"{where}.{name} must be a list of at most 1024 profiles.")
        for profile in profiles:
            try:
                profile_from_dict(profile)
            except ProfileError as exc:
                raise InvalidInput(f"{where}.{name} holds a profile that is not valid: {exc}") from None
    return value


def _window_fields(window, source: str) -> dict:
    if not isinstance(window, dict):
        raise InvalidInput("every window is an object.")
    wid, model, version = window.get("id"), window.get("model"), window.get("version", "")
    if not isinstance(wid, str) or not 8 <= len(wid) <= 64:
        raise InvalidInput("window.id must be a string of 8 to 64 characters.")
    if not isinstance(model, str) or not model or not isinstance(version, str):
        raise InvalidInput(f"window {wid}: model and version must be strings.")
    start, seconds = window.get("start"), window.get("seconds")
    if not isinstance(start, int | float) or not math.isfinite(start) or start < 0:
        raise InvalidInput(f"window {wid}: start must be a time in seconds since the epoch.")
    if not isinstance(seconds, int) or not 1 <= seconds <= MAX_WINDOW_SECONDS:
        raise InvalidInput(f"window {wid}: seconds must be an integer from 1 to {MAX_WINDOW_SECONDS}.")
    counts = {}
    for name in _COUNTS:
        value = window.get(name, 0)
        if not isinstance(value, int) or value < 0:
            raise InvalidInput(f"window {wid}: {name} must be a non-negative integer.")
        counts[name] = value
    latency = window.get("latency_ms") or {}
    if latency:
        try:
            profile_from_dict(latency)
        except ProfileError as exc:
            raise InvalidInput(f"window {wid}: latency_ms is not a valid profile: {exc}") from None
    predictions = window.get("predictions") or []
    if not isinstance(predictions, list) or any(
        not isinstance(p, list) or len(p) != 2 or not isinstance(p[0], str) or not isinstance(p[1], dict)
        for p in predictions
    ):
        raise InvalidInput(f"window {wid}: predictions must be a list of [request id, outputs].")
    process = window.get("process") or {}
    if not isinstance(process, dict):
        raise InvalidInput(f"window {wid}: process must be an object.")
    agreement = window.get("agreement") or {}
    if not isinstance(agreement, dict) or any(
        not isinstance(counts, dict)
        or any(
            not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v) or v < 0
            for v in counts.values()
        )
        for counts in agreement.values()
    ):
        raise InvalidInput(f"window {wid}: agreement must map outputs to non-negative counts.")
    shed = window.get("shed", 0)
    if not isinstance(shed, int) or isinstance(shed, bool) or shed < 0:
        raise InvalidInput(f"window {wid}: shed must be a non-negative integer.")
    return {
        "window_id": wid,
        "model": model,
        "version": version,
        "source": source[:100],
        "start": datetime.fromtimestamp(start, tz=UTC),
        "seconds": seconds,
        **counts,
        "latency_ms": latency,
        "inputs": _profiles(window.get("inputs") or {}, f"window {wid}: inputs"),
        "outputs": _profiles(window.get("outputs") or {}, f"window {wid}: outputs"),
        "process": {k: v for k, v in process.items() if isinstance(v, int | float) and math.isfinite(v)},
        "predictions": predictions,
        "agreement": agreement,
        "shed": shed,
    }


def windows_ingest(*, source, windows) -> dict:
    """Store the windows a runtime sends (POST /api/v1/internal/runtime/monitoring).

    Idempotent: a window id stored already is skipped, so the runtime may send a window again after a lost
    answer. Windows of a model name that is no live endpoint are dropped (an endpoint deleted meanwhile); those
    of `<endpoint>.shadow` are its shadow's (ShadowWindow, ShadowPrediction), kept apart from the live traffic.
    The whole post is checked before anything is written: a malformed window refuses the post (400) and
    writes nothing. Returns {"accepted", "duplicates", "dropped"}.
    """
    if not isinstance(source, str) or not source:
        raise InvalidInput("source names the runtime that sends the windows.")
    if not isinstance(windows, list) or len(windows) > MAX_WINDOWS_PER_POST:
        raise InvalidInput(f"windows must be a list of at most {MAX_WINDOWS_PER_POST} windows.")
    parsed = []
    for window in windows:
        if json_size(window) > WINDOW_MAX_BYTES:
            raise PayloadTooLarge(f"a window may hold at most {WINDOW_MAX_BYTES >> 20} MiB of JSON.")
        parsed.append(_window_fields(window, source))
    for fields in parsed:
        live, _, role = fields["model"].partition(".")
        fields["endpoint_name"], fields["shadow"] = live, "." + role == SHADOW_SUFFIX
        if role and not fields["shadow"]:
            fields["endpoint_name"] = None  # no endpoint has a dot in its name
    endpoints = {
        e.name: e
        for e in Endpoint.objects.filter(LIVE_Q, name__in={w["endpoint_name"] for w in parsed if w["endpoint_name"]})
    }
    versions = {
        (v.asset_id, v.version): v
        for v in AssetVersion.objects.filter(asset_id__in={e.version.asset_id for e in endpoints.values()})
        if (v.version in {w["version"] for w in parsed})
    }
    ids = [w["window_id"] for w in parsed]
    existing = set(MonitoringWindow.objects.filter(window_id__in=ids).values_list("window_id", flat=True)) | set(
        ShadowWindow.objects.filter(window_id__in=ids).values_list("window_id", flat=True)
    )
    accepted = duplicates = dropped = 0
    with transaction.atomic():
        for fields in parsed:
            endpoint = endpoints.get(fields["endpoint_name"])
            version = versions.get((endpoint.version.asset_id, fields["version"])) if endpoint is not None else None
            if endpoint is None or (fields["shadow"] and version is None):
                dropped += 1
                continue
            if fields["window_id"] in existing:
                duplicates += 1
                continue
            store = _shadow_window_store if fields["shadow"] else _window_store
            try:
                with transaction.atomic():
                    store(endpoint, version, fields)
            except IntegrityError:  # the same window sent twice at once
                duplicates += 1
                continue
            accepted += 1
    return {"accepted": accepted, "duplicates": duplicates, "dropped": dropped}


_NOT_COLUMNS = ("model", "version", "predictions", "endpoint_name", "shadow", "agreement", "shed")


def _window_store(endpoint: Endpoint, version: AssetVersion | None, fields: dict) -> None:
    MonitoringWindow.objects.create(
        endpoint=endpoint, version=version, **{k: v for k, v in fields.items() if k not in _NOT_COLUMNS}
    )
    _predictions_store(Prediction, endpoint, version, fields)


def _shadow_window_store(endpoint: Endpoint, version: AssetVersion, fields: dict) -> None:
    columns = {k: v for k, v in fields.items() if k not in (*_NOT_COLUMNS, "inputs", "process")}
    ShadowWindow.objects.create(
        endpoint=endpoint, version=version, agreement=fields["agreement"], shed=fields["shed"], **columns
    )
    _predictions_store(ShadowPrediction, endpoint, version, fields)


def _predictions_store(model, endpoint: Endpoint, version: AssetVersion | None, fields: dict) -> None:
    model.objects.bulk_create(
        [
            model(
                endpoint=endpoint,
                version=version,
                request_id=request_id[:REQUEST_ID_MAX_LENGTH],
                predicted_at=fields["start"],
                outputs=outputs,
            )
            for request_id, outputs in fields["predictions"]
        ],
        ignore_conflicts=True,
    )


# ------------------------------------------------------------------------------------- from the consuming team


def _truth_value(value, request_id: str):
    def scalar(v):
        return v is None or isinstance(v, str | bool | int) or (isinstance(v, float) and math.isfinite(v))

    if scalar(value) and value is not None:
        return value
    if isinstance(value, list) and value and all(scalar(v) for v in value):
        return value
    raise InvalidInput(
        f"the ground truth of request '{request_id}' must be a label or number, or a list of them (one per row).",
        field="items",
    )


def ground_truth_record(*, user, endpoint: Endpoint, items) -> dict:
    """Record the true labels or values of requests by id (POST /api/v1/endpoints/{id}/feedback).

    Bulk and idempotent: sending the same id again replaces its value; an id whose prediction has not arrived
    yet is kept and joined when it does (ground truth may come before the runtime's window, or days later).
    Checked whole before anything is written. Returns {"created", "updated"}."""
    require(user, Permission.ENDPOINT_MANAGE, endpoint.team, f"Only members of '{endpoint.team.slug}' can send it.")
    if not isinstance(items, list) or not items:
        raise InvalidInput("items is a non-empty list of {request_id, value}.", field="items")
    if len(items) > MAX_GROUND_TRUTH_PER_POST:
        raise InvalidInput(f"send at most {MAX_GROUND_TRUTH_PER_POST} items at a time.", field="items")
    values: dict[str, object] = {}
    for item in items:
        if not isinstance(item, dict) or set(item) - {"request_id", "id", "value", "label"}:
            raise InvalidInput("each item is {request_id, value} (or label).", field="items")
        request_id = item.get("request_id", item.get("id"))
        if not isinstance(request_id, str) or not 1 <= len(request_id) <= REQUEST_ID_MAX_LENGTH:
            raise InvalidInput(
                f"each item needs a request_id of 1 to {REQUEST_ID_MAX_LENGTH} characters.", field="items"
            )
        value = _truth_value(item.get("value", item.get("label")), request_id)
        if json_size(value) > GROUND_TRUTH_MAX_BYTES:
            raise InvalidInput(f"the ground truth of request '{request_id}' is over 4 KiB.", field="items")
        values[request_id] = value  # the last of repeated ids wins, as a later post would
    with transaction.atomic():
        known = dict(
            GroundTruth.objects.select_for_update()
            .filter(endpoint=endpoint, request_id__in=list(values))
            .values_list("request_id", "pk")
        )
        GroundTruth.objects.bulk_create(
            [
                GroundTruth(endpoint=endpoint, request_id=rid, value=value, created_by=user)
                for rid, value in values.items()
                if rid not in known
            ],
            ignore_conflicts=True,  # a concurrent post of the same new id: one of them stands
        )
        for rid, pk in known.items():
            GroundTruth.objects.filter(pk=pk).update(value=values[rid])
    return {"created": len(values) - len(known), "updated": len(known)}


# ------------------------------------------------------------------------------------------------ settings

_SETTING_LIMITS = {"alarm_after": (1, 100), "resolve_after": (1, 100), "min_rows": (10, 10_000_000)}


def _thresholds(value) -> dict:
    metrics = set(NUMERIC_METRICS) | set(CATEGORICAL_METRICS)

    def check(mapping, where):
        for metric, threshold in mapping.items():
            if metric not in metrics:
                raise InvalidInput(
                    f"{where}: unknown metric '{metric}'; metrics: {sorted(metrics)}.", field="thresholds"
                )
            if not isinstance(threshold, int | float) or isinstance(threshold, bool) or threshold <= 0:
                raise InvalidInput(f"{where}: the threshold of {metric} must be a positive number.", field="thresholds")

    if not isinstance(value, dict):
        raise InvalidInput("thresholds maps metrics (or features to metrics) to numbers.", field="thresholds")
    for key, item in value.items():
        if isinstance(item, dict):
            check(item, f"thresholds.{key}")
        else:
            check({key: item}, "thresholds")
    return value


def monitor_update(*, user, endpoint: Endpoint, changes: dict) -> EndpointMonitor:
    """Change an endpoint's monitoring settings: the reference dataset version, threshold overrides,
    hysteresis and the rows an evaluation needs. Audited."""
    require(user, Permission.ENDPOINT_MANAGE, endpoint.team, f"Only members of '{endpoint.team.slug}' can change it.")
    allowed = {"reference_version", "thresholds", "performance_tolerance", *_SETTING_LIMITS}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise InvalidInput(f"unknown monitoring setting(s) {unknown}; settings: {sorted(allowed)}.")
    monitor = monitor_for(endpoint)
    for name, (low, high) in _SETTING_LIMITS.items():
        if name in changes:
            value = changes[name]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise InvalidInput(f"{name} must be an integer from {low} to {high}.", field=name)
            setattr(monitor, name, value)
    if "performance_tolerance" in changes:
        value = changes["performance_tolerance"]
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
            raise InvalidInput("performance_tolerance must be a number from 0 to 1.", field="performance_tolerance")
        monitor.performance_tolerance = float(value)
    if "thresholds" in changes:
        monitor.thresholds = _thresholds(changes["thresholds"] or {})
    if "reference_version" in changes:
        monitor.reference_version = _reference_version(user, endpoint, changes["reference_version"])
    with transaction.atomic():
        monitor.save()
        audit_record(
            actor=user,
            action=Event.ENDPOINT_MONITORING_CHANGED,
            target=endpoint,
            team=endpoint.team,
            data={k: (str(v) if k == "reference_version" else v) for k, v in changes.items()},
        )
    return monitor


def _reference_version(user, endpoint: Endpoint, value) -> AssetVersion | None:
    """`team/asset@version` of a dataset version the caller may see, or None for the trained_on default."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or "/" not in value or "@" not in value:
        raise InvalidInput("reference_version is 'team/dataset@version'.", field="reference_version")
    slug, _, number = value.partition("@")
    team, _, asset_slug = slug.partition("/")
    try:
        asset = asset_get(user=user, team=team, slug=asset_slug)
        version = version_get(asset=asset, version=number)
    except NotFound:
        raise InvalidInput(
            f"there is no dataset version {value} that you can see.", field="reference_version"
        ) from None
    if asset.kind != AssetKind.DATASET:
        raise InvalidInput(f"{value} is not a dataset.", field="reference_version")
    return version


# ------------------------------------------------------------------------------------------------- roll-up

HOUR = 3600
ROLLUP_SOURCE = "rollup"


def windows_roll_up(*, older_than, limit: int = 500) -> int:
    """Merge minute windows that started before `older_than` into one window per endpoint, version and hour.

    The profiles merge exactly as replicas' windows do (registry.profiles), so the series and the drift of an
    hour read the same before and after; each hour is rolled up in a transaction of its own, and a minute
    window that arrives late for a rolled-up hour is merged into it on the next run. Returns the hours written.
    """
    groups = (
        MonitoringWindow.objects.filter(start__lt=older_than, seconds__lt=HOUR)
        .annotate(hour=Trunc("start", "hour"))
        .values_list("endpoint_id", "version_id", "hour")
        .distinct()[:limit]
    )
    written = 0
    for endpoint_id, version_id, hour in groups:
        with transaction.atomic():
            minutes = list(
                MonitoringWindow.objects.select_for_update()
                .filter(
                    endpoint_id=endpoint_id,
                    version_id=version_id,
                    seconds__lt=HOUR,
                    start__gte=hour,
                    start__lt=hour + timedelta(hours=1),
                )
                .order_by("start", "id")
            )
            if not minutes:
                continue
            window_id = f"h-{endpoint_id}-{version_id or 0}-{int(hour.timestamp())}"
            existing = MonitoringWindow.objects.select_for_update().filter(window_id=window_id).first()
            parts = ([existing] if existing is not None else []) + minutes
            merged = {
                "inputs": _merged_tensors(parts, "inputs"),
                "outputs": _merged_tensors(parts, "outputs"),
                "latency_ms": _merged_profile([w.latency_ms for w in parts if w.latency_ms]),
                "requests": sum(w.requests for w in parts),
                "rows": sum(w.rows for w in parts),
                "failures": sum(w.failures for w in parts),
                "process": parts[-1].process,
            }
            if existing is None:
                MonitoringWindow.objects.create(
                    endpoint_id=endpoint_id,
                    version_id=version_id,
                    window_id=window_id,
                    source=ROLLUP_SOURCE,
                    start=hour,
                    seconds=HOUR,
                    **merged,
                )
            else:
                MonitoringWindow.objects.filter(pk=existing.pk).update(**merged)
            MonitoringWindow.objects.filter(pk__in=[w.pk for w in minutes]).delete()
            written += 1
    return written


def _merged_profile(dicts: list[dict]) -> dict:
    merged = profiles_merged(dicts)
    return merged.to_dict() if merged is not None else {}


def _merged_tensors(windows, attribute: str) -> dict:
    tensors: dict[str, list[list[dict]]] = {}
    for window in windows:
        for name, profiles in (getattr(window, attribute) or {}).items():
            columns = tensors.setdefault(name, [[] for _ in profiles])
            if len(columns) != len(profiles):
                continue  # a changed width: the hour keeps the first width it saw
            for column, profile in enumerate(profiles):
                columns[column].append(profile)
    return {name: [_merged_profile(column) for column in columns] for name, columns in tensors.items()}


def monitoring_prune(*, older_than) -> int:
    """Delete what is older than `older_than` (MODELHUB_MONITORING_RETENTION_DAYS): windows (live and shadow),
    drift reports, sampled predictions (live and shadow) and ground truth. Returns the rows deleted."""
    deleted = 0
    for queryset in (
        MonitoringWindow.objects.filter(start__lt=older_than),
        ShadowWindow.objects.filter(start__lt=older_than),
        DriftReport.objects.filter(end__lt=older_than),
        Prediction.objects.filter(predicted_at__lt=older_than),
        ShadowPrediction.objects.filter(predicted_at__lt=older_than),
        GroundTruth.objects.filter(updated_at__lt=older_than),
    ):
        deleted += queryset.delete()[0]
    return deleted
