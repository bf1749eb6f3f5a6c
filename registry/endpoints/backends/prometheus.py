"""The serving figures of one model in Prometheus text whose metric names are not fixed (a runtime other than
Modelhub's, without its stats route)."""

from __future__ import annotations

import math
import re

from registry.runtime.metrics import histogram_quantile

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


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
