"""Evaluating an endpoint: its recent windows merged, held against the reference, alarms raised and resolved.

Per endpoint, the evaluation task (registry.monitoring.tasks, every minute) takes the windows not evaluated yet
whose time has passed (and GRACE more, so every replica's window of a minute is in), in order, and merges
consecutive windows until they hold `min_rows` rows (at high traffic every minute is evaluated; at low traffic
several minutes together; a period that never reaches `min_rows` is evaluated anyway after MAX_WAIT, and a change
of the served version ends a period). Each period gets a DriftReport:

- for every input column and output, the drift metrics of registry.profiles.drift against the reference, each
  held to a threshold calibrated on the reference itself for a window of that many rows (cached in
  CalibratedThreshold) unless the team set one; a feature drifts when any of its metrics is over;
- the reference of an input column is the profile of its dataset column (through the feature map) in the
  dataset version chosen for the endpoint, else the one its model version was trained on; of an output, and of
  an input with no dataset column, the endpoint's own first period (which is then reported as the reference).

Alarms have hysteresis: an alarm is raised after `alarm_after` periods in a row with a drifted feature and
resolved after `resolve_after` periods in a row without, so it does not flap. Raising and resolving publish
`endpoint.drift_detected` / `endpoint.drift_resolved` (signed webhooks) and are audited; the detected event
carries what a retraining pipeline needs. Performance is checked the same way over the latest labelled
predictions against the metrics the model card declares (`endpoint.performance_degraded` / `_recovered`).

Evaluations of one endpoint are serialised by a row lock on its EndpointMonitor: two task runs at once evaluate
each period once (a DriftReport is unique per endpoint and start).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

import orjson
from django.db import transaction
from django.utils import timezone

from registry.endpoints.models import Endpoint
from registry.kernel.audit.services import audit_record
from registry.kernel.events import DomainEvent, Event, publish
from registry.lineage.models import LineageKind
from registry.monitoring.features import FeatureMap, feature_map_infer, feature_map_parse
from registry.monitoring.models import (
    AlarmKind,
    AlarmStatus,
    CalibratedThreshold,
    DriftReport,
    EndpointMonitor,
    MonitoringAlarm,
    MonitoringWindow,
    ReferenceKind,
)
from registry.monitoring.performance import declared_metrics, degraded, endpoint_performance
from registry.profiles.calibration import calibrate, rows_bucket
from registry.profiles.columns import ProfileError, profile_from_dict, profile_merge
from registry.profiles.drift import drift_scores
from registry.validation.models import DatasetProfile

logger = logging.getLogger(__name__)

GRACE = timedelta(seconds=30)
MAX_WAIT = timedelta(hours=1)
MAX_WINDOWS_PER_RUN = 5000
PERFORMANCE_PERIOD = timedelta(hours=24)


@dataclass
class Reference:
    kind: str  # ReferenceKind of the dataset, or HISTORY when there is none
    version: object | None  # the dataset version
    columns: dict  # dataset column -> profile dict
    feature_map: FeatureMap
    # Parsed column profiles with their calibration keys, made once per evaluation run however many periods.
    _parsed: dict = field(default_factory=dict, repr=False)

    def profile(self, column: str) -> tuple[object, str] | None:
        """The column's profile and its calibration key (profile_key), or None for a corrupt stored profile."""
        if column not in self._parsed:
            parsed = _profile(self.columns[column])
            self._parsed[column] = (parsed, profile_key(parsed)) if parsed is not None else None
        return self._parsed[column]


def _dataset_columns(version) -> dict | None:
    if version is None:
        return None
    profile = DatasetProfile.objects.filter(version=version).first()
    return profile.profiles() if profile is not None else None


def reference_for(endpoint: Endpoint, monitor: EndpointMonitor, version) -> Reference:
    """The dataset version the endpoint's traffic is compared with, its columns' profiles, and the feature map."""
    dataset, kind = monitor.reference_version, ReferenceKind.CHOSEN
    if dataset is None:
        edge = (
            version.lineage_out.filter(kind=LineageKind.TRAINED_ON).select_related("target").order_by("pk").first()
            if version is not None
            else None
        )
        dataset, kind = (edge.target, ReferenceKind.TRAINING) if edge is not None else (None, ReferenceKind.HISTORY)
    columns = _dataset_columns(dataset)
    if dataset is not None and columns is None:
        kind = ReferenceKind.HISTORY
    signature = (version.signature if version is not None else None) or {}
    names = list(columns) if columns is not None else None
    feature_map = version_feature_map(version, signature=signature, dataset_columns=names)
    return Reference(
        kind=kind, version=dataset if columns is not None else None, columns=columns or {}, feature_map=feature_map
    )


def version_feature_map(version, *, signature: dict, dataset_columns: list[str] | None) -> FeatureMap:
    """The feature map the version states (its card's front matter, else its upload metadata), or the one
    inferred; a stated map that no longer fits is reported and the inferred one used."""
    card = getattr(version, "card", None) if version is not None else None
    stated = (card.extra.get("feature_map") if card is not None else None) or (
        (version.metadata or {}).get("feature_map") if version is not None else None
    )
    if stated:
        try:
            return feature_map_parse(stated, signature=signature, dataset_columns=dataset_columns)
        except Exception as exc:  # InvalidInput: the stated map does not fit the model or the dataset
            inferred = feature_map_infer(signature=signature, dataset_columns=dataset_columns)
            inferred.note = f"the stated feature_map is not used ({exc}); {inferred.note}"
            return inferred
    return feature_map_infer(signature=signature, dataset_columns=dataset_columns)


# ------------------------------------------------------------------------------------------------- merging


def merge_tensors(windows, attribute: str) -> dict[str, list]:
    """{tensor: [profile per column]} of several windows merged (columns of a changed width start afresh)."""
    merged: dict[str, list] = {}
    for window in windows:
        for name, profiles in (getattr(window, attribute) or {}).items():
            try:
                loaded = [profile_from_dict(p) for p in profiles]
            except ProfileError:
                continue
            current = merged.get(name)
            if current is None or len(current) != len(loaded) or any(a.kind != b.kind for a, b in zip(current, loaded)):
                merged[name] = loaded
            else:
                merged[name] = [profile_merge(a, b) for a, b in zip(current, loaded)]
    return merged


def _as_dicts(tensors: dict[str, list]) -> dict:
    return {name: [p.to_dict() for p in profiles] for name, profiles in tensors.items()}


# --------------------------------------------------------------------------------------------- thresholds


def profile_key(profile) -> str:
    """What calibrations of a reference profile are cached under: the sha256 of its canonical JSON."""
    return hashlib.sha256(orjson.dumps(profile.to_dict(), option=orjson.OPT_SORT_KEYS)).hexdigest()


def thresholds_for(reference_profile, rows: int, key: str | None = None) -> dict[str, float]:
    key = key or profile_key(reference_profile)
    bucket = rows_bucket(rows)
    cached = CalibratedThreshold.objects.filter(reference_key=key, rows=bucket).first()
    if cached is not None:
        return cached.thresholds
    thresholds = calibrate(reference_profile, window_rows=bucket)
    CalibratedThreshold.objects.get_or_create(reference_key=key, rows=bucket, defaults={"thresholds": thresholds})
    return thresholds


def _overrides(monitor: EndpointMonitor, feature: str) -> dict:
    general = {k: v for k, v in (monitor.thresholds or {}).items() if not isinstance(v, dict)}
    return {**general, **((monitor.thresholds or {}).get(feature) or {})}


def _score(feature: str, reference, current, rows: int, monitor: EndpointMonitor, key: str | None = None) -> dict:
    if reference.kind != current.kind:
        return {"error": f"the reference is {reference.kind} and the traffic {current.kind}"}
    scores = drift_scores(reference, current)
    if not scores:
        return {"scores": {}, "thresholds": {}, "drifted": False, "over": []}
    thresholds = {**thresholds_for(reference, rows, key), **_overrides(monitor, feature)}
    over = sorted(m for m, s in scores.items() if m in thresholds and s > thresholds[m])
    return {"scores": scores, "thresholds": {m: thresholds.get(m) for m in scores}, "drifted": bool(over), "over": over}


# --------------------------------------------------------------------------------------------- evaluation


def _periods(windows, min_rows: int, now) -> list[list]:
    """Consecutive windows grouped until `min_rows` rows (or a version change); the last, short group only once
    it is older than MAX_WAIT."""
    periods, current, rows = [], [], 0
    for window in windows:
        if current and window.version_id != current[0].version_id:
            periods.append(current)
            current, rows = [], 0
        current.append(window)
        rows += window.rows
        if rows >= min_rows:
            # Windows of the same start (replicas) belong together.
            periods.append(current)
            current, rows = [], 0
    if current and current[0].start < now - MAX_WAIT:
        periods.append(current)
    # A period must not split windows of one start between two periods.
    fixed: list[list] = []
    for period in periods:
        if fixed and fixed[-1][-1].start == period[0].start:
            fixed[-1].extend(period)
        else:
            fixed.append(period)
    return fixed


def endpoint_evaluate(*, endpoint_id: int, now=None) -> list[DriftReport]:
    """Evaluate the endpoint's windows that are due. Idempotent and safe to run concurrently (see above)."""
    now = now or timezone.now()
    endpoint = Endpoint.objects.select_related("team", "version__asset__team").filter(pk=endpoint_id).first()
    if endpoint is None:
        return []
    EndpointMonitor.objects.get_or_create(endpoint=endpoint)
    reports = []
    with transaction.atomic():
        monitor = (
            EndpointMonitor.objects.select_for_update(of=("self",))
            .select_related("reference_version")
            .get(endpoint=endpoint)
        )
        windows = MonitoringWindow.objects.filter(endpoint=endpoint, start__lt=now - GRACE).select_related(
            "version__asset", "version__card"
        )
        if monitor.evaluated_until is not None:
            windows = windows.filter(start__gte=monitor.evaluated_until)
        due = [
            w
            for w in windows.order_by("start", "id")[:MAX_WINDOWS_PER_RUN]
            if w.start + timedelta(seconds=w.seconds) <= now - GRACE
        ]
        references: dict = {}  # per served version: read and parsed once for every period of this run

        def reference(version) -> Reference:
            pk = version.pk if version is not None else None
            if pk not in references:
                references[pk] = reference_for(endpoint, monitor, version)
            return references[pk]

        for period in _periods(due, monitor.min_rows, now):
            report = _evaluate_period(endpoint, monitor, period, reference(period[0].version))
            if report is not None:
                reports.append(report)
                _drift_alarm(endpoint, monitor, report)
            monitor.evaluated_until = max(w.start + timedelta(seconds=w.seconds) for w in period)
        if reports:
            version = reports[-1].version or endpoint.version
            _performance_alarm(endpoint, monitor, reports[-1], now, version, reference(version).feature_map)
        monitor.save()
    return reports


def _evaluate_period(
    endpoint: Endpoint, monitor: EndpointMonitor, period: list, reference: Reference
) -> DriftReport | None:
    version = period[0].version
    start = period[0].start
    end = max(w.start + timedelta(seconds=w.seconds) for w in period)
    if DriftReport.objects.filter(endpoint=endpoint, start=start).exists():
        return None
    rows = sum(w.rows for w in period)
    inputs, outputs = merge_tensors(period, "inputs"), merge_tensors(period, "outputs")
    history = monitor.history_reference
    if not history or history.get("version") != (version.pk if version is not None else None):
        # The first period of this version is the reference of whatever has no dataset column.
        history = monitor.history_reference = {
            "version": version.pk if version is not None else None,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "rows": rows,
            "inputs": _as_dicts(inputs),
            "outputs": _as_dicts(outputs),
        }
        history_is_this = True
    else:
        history_is_this = False
    features: dict[str, dict] = {}
    for tensor, profiles in inputs.items():
        for column, current in enumerate(profiles):
            name = reference.feature_map.feature_name(tensor, column, len(profiles))
            dataset_column = reference.feature_map.inputs.get((tensor, column))
            entry = {"tensor": tensor, "column": column, "dataset_column": dataset_column, "current": current.to_dict()}
            ref = key = None
            if dataset_column and dataset_column in reference.columns:
                entry["reference"] = reference.kind
                ref, key = reference.profile(dataset_column) or (None, None)
            elif not history_is_this:
                entry["reference"] = ReferenceKind.HISTORY
                ref = _history_profile(history, "inputs", tensor, column)
            else:
                entry["reference"] = ReferenceKind.HISTORY
                entry["note"] = "this period is the reference"
            if ref is not None:
                entry.update(_score(name, ref, current, rows, monitor, key))
                entry["reference_profile"] = ref.to_dict()
            features[name] = entry
    output_entries: dict[str, dict] = {}
    for tensor, profiles in outputs.items():
        for column, current in enumerate(profiles):
            name = tensor if len(profiles) == 1 else f"{tensor}[:, {column}]"
            entry = {
                "tensor": tensor,
                "column": column,
                "role": reference.feature_map.outputs.get(tensor),
                "current": current.to_dict(),
            }
            entry["reference"] = ReferenceKind.HISTORY
            ref = None if history_is_this else _history_profile(history, "outputs", tensor, column)
            if ref is None:
                entry["note"] = "this period is the reference"
            else:
                entry.update(_score(name, ref, current, rows, monitor))
                entry["reference_profile"] = ref.to_dict()
            output_entries[name] = entry
    drifted = sorted(n for n, e in features.items() if e.get("drifted")) + sorted(
        n for n, e in output_entries.items() if e.get("drifted")
    )
    kind = (
        reference.kind
        if any(e.get("reference") != ReferenceKind.HISTORY for e in features.values())
        else ReferenceKind.HISTORY
    )
    return DriftReport.objects.create(
        endpoint=endpoint,
        version=version,
        start=start,
        end=end,
        rows=rows,
        requests=sum(w.requests for w in period),
        reference=kind,
        reference_version=reference.version,
        feature_map=reference.feature_map.as_dict(),
        features=features,
        outputs=output_entries,
        drifted=drifted,
    )


def _profile(data):
    try:
        return profile_from_dict(data)
    except ProfileError:
        return None


def _history_profile(history: dict, part: str, tensor: str, column: int):
    profiles = (history.get(part) or {}).get(tensor) or []
    return _profile(profiles[column]) if column < len(profiles) else None


# ------------------------------------------------------------------------------------------------- alarms


def _open_alarm(endpoint: Endpoint, kind: str) -> MonitoringAlarm | None:
    return MonitoringAlarm.objects.filter(endpoint=endpoint, kind=kind, status=AlarmStatus.OPEN).first()


def report_url(report: DriftReport) -> str:
    return f"/api/v1/endpoints/{report.endpoint_id}/monitoring/reports/{report.pk}"


def _retraining_payload(endpoint: Endpoint, report: DriftReport, alarm: MonitoringAlarm) -> dict:
    version = report.version or endpoint.version
    edge = version.lineage_out.filter(kind=LineageKind.TRAINED_ON).select_related("target__asset").first()
    drifted = []
    for name in report.drifted:
        entry = report.features.get(name) or report.outputs.get(name) or {}
        drifted.append(
            {
                "feature": name,
                "kind": "input" if name in report.features else "output",
                "dataset_column": entry.get("dataset_column"),
                "metrics": entry.get("over", []),
                "scores": entry.get("scores", {}),
                "thresholds": entry.get("thresholds", {}),
            }
        )
    return {
        "alarm_id": alarm.pk,
        "model_version": {"asset": version.asset.full_slug, "version": version.version},
        "trained_on": (
            {"asset": edge.target.asset.full_slug, "version": edge.target.version} if edge is not None else None
        ),
        "reference": report.reference,
        "window": {"start": report.start.isoformat(), "end": report.end.isoformat(), "rows": report.rows},
        "drifted": drifted,
        "profile_url": report_url(report),
        "monitoring_url": f"/api/v1/endpoints/{endpoint.pk}/monitoring",
    }


def _announce(endpoint: Endpoint, event: Event, data: dict) -> None:
    audit_record(actor=None, action=event, target=endpoint, team=endpoint.team, data=data)
    publish(DomainEvent(name=event, subject=endpoint, data=data))


def _drift_alarm(endpoint: Endpoint, monitor: EndpointMonitor, report: DriftReport) -> None:
    if report.drifted:
        monitor.drift_over, monitor.drift_under = monitor.drift_over + 1, 0
    elif any("scores" in e for e in [*report.features.values(), *report.outputs.values()]):
        monitor.drift_over, monitor.drift_under = 0, monitor.drift_under + 1
    else:
        return  # a reference period says nothing either way
    alarm = _open_alarm(endpoint, AlarmKind.DRIFT)
    if alarm is None and monitor.drift_over >= monitor.alarm_after:
        first = (
            DriftReport.objects.filter(endpoint=endpoint, start__lte=report.start)
            .order_by("-start")
            .values_list("start", flat=True)[monitor.drift_over - 1 : monitor.drift_over]
        )
        alarm = MonitoringAlarm.objects.create(
            endpoint=endpoint,
            kind=AlarmKind.DRIFT,
            raised_at=timezone.now(),
            window_start=first[0] if first else report.start,
            features=report.drifted,
            scores={n: (report.features.get(n) or report.outputs.get(n) or {}).get("scores") for n in report.drifted},
        )
        _announce(endpoint, Event.ENDPOINT_DRIFT_DETECTED, _retraining_payload(endpoint, report, alarm))
    elif alarm is not None and report.drifted:
        alarm.features = sorted(set(alarm.features) | set(report.drifted))
        alarm.save(update_fields=["features"])
    elif alarm is not None and monitor.drift_under >= monitor.resolve_after:
        alarm.status, alarm.resolved_at = AlarmStatus.RESOLVED, timezone.now()
        alarm.save(update_fields=["status", "resolved_at"])
        _announce(
            endpoint,
            Event.ENDPOINT_DRIFT_RESOLVED,
            {
                "alarm_id": alarm.pk,
                "features": alarm.features,
                "monitoring_url": f"/api/v1/endpoints/{endpoint.pk}/monitoring",
            },
        )


def _performance_alarm(
    endpoint: Endpoint, monitor: EndpointMonitor, report: DriftReport, now, version, feature_map: FeatureMap
) -> None:
    performance = endpoint_performance(
        endpoint=endpoint, feature_map=feature_map, start=now - PERFORMANCE_PERIOD, end=now
    )
    declared = declared_metrics(version)
    verdict = degraded(performance["measured"], declared, monitor.performance_tolerance)
    performance["declared"] = declared
    performance["compared"] = verdict[1] if verdict else {}
    report.performance = performance
    report.save(update_fields=["performance"])
    if verdict is None:
        return
    if verdict[0]:
        monitor.performance_over, monitor.performance_under = monitor.performance_over + 1, 0
    else:
        monitor.performance_over, monitor.performance_under = 0, monitor.performance_under + 1
    alarm = _open_alarm(endpoint, AlarmKind.PERFORMANCE)
    data = {
        "compared": verdict[1],
        "labels": performance["measured"]["labels"],
        "monitoring_url": f"/api/v1/endpoints/{endpoint.pk}/monitoring",
    }
    if alarm is None and monitor.performance_over >= monitor.alarm_after:
        alarm = MonitoringAlarm.objects.create(
            endpoint=endpoint,
            kind=AlarmKind.PERFORMANCE,
            raised_at=timezone.now(),
            window_start=report.start,
            features=sorted(n for n, c in verdict[1].items() if c["degraded"]),
            scores=verdict[1],
        )
        _announce(endpoint, Event.ENDPOINT_PERFORMANCE_DEGRADED, {"alarm_id": alarm.pk, **data})
    elif alarm is not None and monitor.performance_under >= monitor.resolve_after:
        alarm.status, alarm.resolved_at = AlarmStatus.RESOLVED, timezone.now()
        alarm.save(update_fields=["status", "resolved_at"])
        _announce(endpoint, Event.ENDPOINT_PERFORMANCE_RECOVERED, {"alarm_id": alarm.pk, **data})


def endpoints_evaluate(*, now=None) -> int:
    """Evaluate every endpoint with windows not evaluated yet (the beat task). Returns the reports made."""
    now = now or timezone.now()
    # Windows of the last two hours: anything older was evaluated when it was due (MAX_WAIT at the latest).
    candidates = (
        MonitoringWindow.objects.filter(start__gte=now - 2 * MAX_WAIT, start__lt=now - GRACE)
        .values_list("endpoint_id", flat=True)
        .distinct()
    )
    made = 0
    for endpoint_id in candidates:
        try:
            made += len(endpoint_evaluate(endpoint_id=endpoint_id, now=now))
        except Exception:
            logger.exception("evaluating the monitoring of endpoint %s failed", endpoint_id)
    return made
