"""Prometheus metrics of the runtime, served at `GET /metrics`.

One registry per RuntimeMetrics (not the process-wide default), so two runtimes in one process (tests) do
not collide. Label children are looked up once and kept in dicts: `labels()` takes a lock and builds a
tuple on every call, which the hot path can skip.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Requests for names that are not loaded share one label value, so a scan of random names cannot grow
# the series without bound.
UNKNOWN_MODEL = "_unknown"

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


WINDOW_MINUTES = 60


def histogram_quantile(buckets: list[tuple[float, float]], quantile: float) -> float | None:
    """Prometheus's histogram_quantile over cumulative (upper bound, count) buckets: linear within a bucket."""
    buckets = sorted(buckets)
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = quantile * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    return None


class RecentLatency:
    """One model's requests and latency histogram per wall-clock minute, for the last WINDOW_MINUTES: what
    an endpoint's page shows as "the last hour" (Prometheus's counters are cumulative since the start).
    A ring of minute slots, reused as time passes: bounded memory, one list increment per request."""

    __slots__ = ("_minutes", "_counts")

    def __init__(self) -> None:
        self._minutes = [-1] * WINDOW_MINUTES
        self._counts = [[0] * (len(LATENCY_BUCKETS) + 1) for _ in range(WINDOW_MINUTES)]

    def observe(self, seconds: float, now: float) -> None:
        minute = int(now // 60)
        slot = minute % WINDOW_MINUTES
        counts = self._counts[slot]
        if self._minutes[slot] != minute:
            self._minutes[slot] = minute
            counts[:] = [0] * len(counts)
        counts[bisect_left(LATENCY_BUCKETS, seconds)] += 1

    def window(self, now: float) -> dict:
        """{"requests", "latency_p50_ms", "latency_p95_ms", "per_minute": [{"minute", "requests", "latency_p50_ms",
        "latency_p95_ms"}, ...]} over the minutes of the last hour that had requests (minute: Unix seconds)."""
        current = int(now // 60)
        total = [0] * (len(LATENCY_BUCKETS) + 1)
        per_minute = []
        for minute, counts in sorted(zip(self._minutes, self._counts)):
            if minute < 0 or minute <= current - WINDOW_MINUTES or minute > current or not any(counts):
                continue
            total = [a + b for a, b in zip(total, counts)]
            per_minute.append({"minute": minute * 60, "requests": sum(counts), **_percentiles(counts)})
        return {"requests": sum(total), **_percentiles(total), "per_minute": per_minute}


def _percentiles(counts: list[int]) -> dict:
    cumulative, running = [], 0
    for bound, count in zip((*LATENCY_BUCKETS, math.inf), counts):
        running += count
        cumulative.append((bound, running))
    figures = {}
    for key, quantile in (("latency_p50_ms", 0.5), ("latency_p95_ms", 0.95)):
        value = histogram_quantile(cumulative, quantile)
        figures[key] = None if value is None else round(value * 1000, 3)
    return figures


class RuntimeMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._requests = Counter(
            "modelhub_runtime_requests",
            "Inference requests by model and HTTP status.",
            ["model", "code"],
            registry=self.registry,
        )
        self._failures = Counter(
            "modelhub_runtime_request_failures",
            "Inference requests that ended with an HTTP status of 400 or more.",
            ["model", "code"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "modelhub_runtime_request_duration_seconds",
            "Inference request latency in the app: from the request to the response handed to the server.",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._batch = Histogram(
            "modelhub_runtime_batch_size",
            "Requests per batch the host ran.",
            ["model"],
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self._inflight = Gauge(
            "modelhub_runtime_inflight_requests", "Inference requests being served.", registry=self.registry
        )
        self._by_code: dict[tuple[str, int], tuple] = {}
        self._latency_of: dict[str, object] = {}
        self._batch_of: dict[str, object] = {}
        self._recent: dict[str, RecentLatency] = {}

    def request_started(self) -> None:
        self._inflight.inc()

    def request_finished(self, model: str, code: int, seconds: float) -> None:
        self._inflight.dec()
        children = self._by_code.get((model, code))
        if children is None:
            text = str(code)
            children = (self._requests.labels(model, text), self._failures.labels(model, text) if code >= 400 else None)
            self._by_code[(model, code)] = children
        children[0].inc()
        if children[1] is not None:
            children[1].inc()
        latency = self._latency_of.get(model)
        if latency is None:
            latency = self._latency_of[model] = self._latency.labels(model)
            if model != UNKNOWN_MODEL:
                self._recent[model] = RecentLatency()
        latency.observe(seconds)
        recent = self._recent.get(model)
        if recent is not None:
            recent.observe(seconds, time.time())

    def last_hour(self, model: str) -> dict:
        """The model's requests and p50/p95 latency over the last hour, in all and per minute."""
        recent = self._recent.get(model)
        if recent is None:
            return {"requests": 0, "latency_p50_ms": None, "latency_p95_ms": None, "per_minute": []}
        return recent.window(time.time())

    def observe_batch(self, model: str, size: int) -> None:
        """The host's hook: called once per batch it runs, with the number of requests in it."""
        child = self._batch_of.get(model)
        if child is None:
            child = self._batch_of[model] = self._batch.labels(model)
        child.observe(size)

    def forget(self, model: str) -> None:
        """Drop a model's series when it is unloaded."""
        for key in [k for k in self._by_code if k[0] == model]:
            del self._by_code[key]
            for metric in (self._requests, self._failures):
                try:
                    metric.remove(model, str(key[1]))
                except KeyError:
                    pass
        self._recent.pop(model, None)
        for cache, metric in ((self._latency_of, self._latency), (self._batch_of, self._batch)):
            if cache.pop(model, None) is not None:
                metric.remove(model)

    def render(self) -> bytes:
        return generate_latest(self.registry)
