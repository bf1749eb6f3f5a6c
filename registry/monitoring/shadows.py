"""Evidence from live traffic for a candidate version that shadowed endpoints (registry.endpoints: EndpointShadow):
its latency beside the live version's over the same minutes, its failures and the requests it was not sent, how
often its answers differ from the live ones, and its performance where ground truth arrived, beside the live
version's on the same labels."""

from __future__ import annotations

from datetime import timedelta

from registry.endpoints.models import Endpoint
from registry.monitoring.evaluation import version_feature_map
from registry.monitoring.models import GroundTruth, MonitoringWindow, Prediction, ShadowPrediction, ShadowWindow
from registry.monitoring.performance import labelled_rows, measure
from registry.profiles.columns import profiles_merged

_QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}


def _latency(dicts) -> dict:
    merged = profiles_merged(dicts)
    if merged is None or not merged.count:
        return dict.fromkeys(_QUANTILES)
    values = merged.quantiles(list(_QUANTILES.values()))
    return {name: float(value) for name, value in zip(_QUANTILES, values)}


def _agreement(windows) -> dict:
    """Per output: rows compared, and the share whose label differs (labels) or the mean absolute difference
    (values); `mismatched` counts rows whose shapes differed."""
    totals: dict[str, dict[str, float]] = {}
    for window in windows:
        for output, counts in (window.agreement or {}).items():
            total = totals.setdefault(output, {})
            for key, value in counts.items():
                total[key] = total.get(key, 0) + value
    compared = {}
    for output, total in sorted(totals.items()):
        rows = int(total.get("rows", 0))
        entry = {"rows": rows, "mismatched": int(total.get("mismatched", 0))}
        if "differ" in total:
            entry["disagreement_rate"] = total["differ"] / rows if rows else None
        if "values" in total:
            entry["mean_abs_diff"] = total.get("abs_diff", 0.0) / total["values"] if total["values"] else None
        compared[output] = entry
    return compared


def _performance(version, endpoints: list[Endpoint], start, end) -> dict:
    """The candidate's and the live version's measured performance on the sampled predictions with labels."""
    candidate = list(
        ShadowPrediction.objects.filter(version=version, endpoint__in=endpoints).values_list(
            "endpoint_id", "request_id", "outputs"
        )
    )
    live = list(
        Prediction.objects.filter(endpoint__in=endpoints, predicted_at__gte=start, predicted_at__lt=end).values_list(
            "endpoint_id", "request_id", "outputs", "version_id"
        )
    )
    truths = {
        (endpoint_id, request_id): value
        for endpoint_id, request_id, value in GroundTruth.objects.filter(
            endpoint__in=endpoints, request_id__in={p[1] for p in candidate}
        ).values_list("endpoint_id", "request_id", "value")
    }

    def keyed(predictions):
        return [((p[0], p[1]), p[2]) for p in predictions]

    candidate_map = version_feature_map(version, signature=version.signature or {}, dataset_columns=None)
    shadowed = measure(labelled_rows(keyed(candidate), truths, candidate_map))
    served = {e.pk: e for e in endpoints}
    live_rows = {"y_true": [], "y_pred": [], "y_prob": [], "task": shadowed["task"]}
    for endpoint_id in {p[0] for p in live}:
        live_version = served[endpoint_id].version
        live_map = version_feature_map(live_version, signature=live_version.signature or {}, dataset_columns=None)
        rows = labelled_rows(keyed(p for p in live if p[0] == endpoint_id), truths, live_map)
        for field in ("y_true", "y_pred", "y_prob"):
            live_rows[field] += rows[field]
    return {"candidate": shadowed, "live": measure(live_rows) if live_rows["y_true"] else None}


def shadow_evidence(*, version, endpoints: list[Endpoint]) -> dict:
    """What the candidate `version` did as the shadow of `endpoints`, over every window it recorded there:
    requests, rows, failures and shed copies; latency p50/p95/p99 beside the live version's over the same
    minutes; agreement per output; performance (candidate and live, on the labels that arrived)."""
    windows = list(
        ShadowWindow.objects.filter(version=version, endpoint__in=endpoints).only(
            "start", "seconds", "requests", "rows", "failures", "shed", "latency_ms", "agreement"
        )
    )
    requests = sum(w.requests for w in windows)
    failures = sum(w.failures for w in windows)
    evidence = {
        "windows": len(windows),
        "since": min((w.start for w in windows), default=None),
        "until": max((w.start + timedelta(seconds=w.seconds) for w in windows), default=None),
        "requests": requests,
        "rows": sum(w.rows for w in windows),
        "failures": failures,
        "failure_rate": failures / (requests + failures) if requests + failures else None,
        "shed": sum(w.shed for w in windows),
        "latency_ms": _latency(w.latency_ms for w in windows),
        "live_latency_ms": dict.fromkeys(_QUANTILES),
        "agreement": _agreement(windows),
        "performance": None,
    }
    if windows:
        live = MonitoringWindow.objects.filter(
            endpoint__in=endpoints, start__gte=evidence["since"], start__lt=evidence["until"]
        ).values_list("latency_ms", flat=True)
        evidence["live_latency_ms"] = _latency(live)
        evidence["performance"] = _performance(version, endpoints, evidence["since"], evidence["until"])
    return evidence
