"""The endpoint page's Monitoring tab: charts drawn here as SVG coordinates, so the page needs no chart library.

Per feature and output: the reference and current distributions of the latest evaluation (bars on the reference's
bins, or its categories) and the drift score over time as a fraction of its threshold (1 is the line an alarm
needs crossed twice in a row); performance over time (measured from ground truth, and estimated); the alarms.
"""

from __future__ import annotations

from registry.monitoring.selectors import drift_report_get, endpoint_monitoring

WIDTH, HEIGHT = 300, 100
# The metric drawn over time: the one a team reads most easily for each kind.
PRIMARY = {"numeric": "wasserstein", "categorical": "jensen_shannon"}
HEALTH_BADGE = {"healthy": "good", "drifting": "warn", "degraded": "bad", "no data": "info"}


def _bars(histogram: dict | None) -> list[dict]:
    """[{x, width, ref_y, ref_h, cur_y, cur_h, label}] for paired bars of reference and current proportions."""
    if not histogram:
        return []
    current = histogram.get("current")
    reference = histogram.get("reference")
    if isinstance(current, dict):  # categories: {value: proportion}
        labels = list(dict.fromkeys([*(reference or {}), *current]))[:12]
        current_values = [current.get(label, 0.0) for label in labels]
        reference_values = [(reference or {}).get(label, 0.0) for label in labels]
    else:
        edges = histogram.get("edges") or []
        current_values = list(current or [])
        reference_values = list(reference or [0.0] * len(current_values))
        labels = [f"≤ {e:.3g}" for e in edges] + [f"> {edges[-1]:.3g}" if edges else "all"]
    top = max([*current_values, *reference_values, 1e-9])
    slot = WIDTH / max(len(current_values), 1)
    bars = []
    for i, (label, ref, cur) in enumerate(zip(labels, reference_values, current_values)):
        ref_h, cur_h = HEIGHT * ref / top, HEIGHT * cur / top
        bars.append(
            {
                "x": round(i * slot + slot * 0.1, 2),
                "width": round(slot * 0.4, 2),
                "cur_x": round(i * slot + slot * 0.5, 2),
                "ref_y": round(HEIGHT - ref_h, 2),
                "ref_h": round(ref_h, 2),
                "cur_y": round(HEIGHT - cur_h, 2),
                "cur_h": round(cur_h, 2),
                "label": f"{label}: reference {ref:.1%}, current {cur:.1%}",
            }
        )
    return bars


def _line(values: list[float | None], top: float) -> str:
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if not points:
        return ""
    step = WIDTH / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{HEIGHT - HEIGHT * min(v, top) / top:.1f}" for i, v in points)


def _feature_charts(series: dict, latest: dict | None, part: str) -> list[dict]:
    names = list(dict.fromkeys(name for report in series["drift"] for name in report[part]))
    charts = []
    for name in names:
        entries = [report[part].get(name) or {} for report in series["drift"]]
        detail = ((latest or {}).get(part) or {}).get(name) or {}
        kind = (detail.get("current") or {}).get("kind", "numeric")
        metric = PRIMARY.get(kind, "wasserstein")
        ratios = []
        for entry in entries:
            score, threshold = (entry.get("scores") or {}).get(metric), (entry.get("thresholds") or {}).get(metric)
            ratios.append(score / threshold if score is not None and threshold else None)
        top = max([2.0, *(r for r in ratios if r is not None)])
        charts.append(
            {
                "name": name,
                "metric": metric,
                "drifted_now": bool(entries and entries[-1].get("drifted")),
                "reference": (entries[-1] if entries else {}).get("reference"),
                "note": (entries[-1] if entries else {}).get("note", ""),
                "bars": _bars(detail.get("histogram")),
                "score_line": _line(ratios, top),
                "threshold_y": round(HEIGHT - HEIGHT / top, 2),
                "latest_ratio": next((r for r in reversed(ratios) if r is not None), None),
            }
        )
    return charts


def monitoring_context(endpoint) -> dict:
    """What the Monitoring tab shows of the last 24 hours."""
    series = endpoint_monitoring(endpoint=endpoint)
    latest = (
        drift_report_get(endpoint=endpoint, report_id=series["drift"][-1]["report_id"]) if series["drift"] else None
    )
    measured = [(p["measured"]["metrics"] or {}).get("accuracy") for p in series["performance"]]
    estimated = [(p.get("estimated") or {}).get("accuracy") for p in series["performance"]]
    return {
        "series": series,
        "health_badge": HEALTH_BADGE.get(series["health"], "info"),
        "features": _feature_charts(series, latest, "features"),
        "outputs": _feature_charts(series, latest, "outputs"),
        "performance": {
            "measured_line": _line(measured, 1.0),
            "estimated_line": _line(estimated, 1.0),
            "latest_measured": next((v for v in reversed(measured) if v is not None), None),
            "latest_estimated": next((v for v in reversed(estimated) if v is not None), None),
            "labels": sum(p["measured"]["labels"] for p in series["performance"]),
        },
        "alarms": series["alarms"],
        "chart": {"width": WIDTH, "height": HEIGHT},
    }
