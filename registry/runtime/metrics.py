"""Prometheus metrics of the runtime, served at `GET /metrics`.

One registry per RuntimeMetrics (not the process-wide default), so two runtimes in one process (tests) do
not collide. Label children are looked up once and kept in dicts: `labels()` takes a lock and builds a
tuple on every call, which the hot path can skip.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Requests for names that are not loaded share one label value, so a scan of random names cannot grow
# the series without bound.
UNKNOWN_MODEL = "_unknown"

LATENCY_BUCKETS = (.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class RuntimeMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._requests = Counter("modelhub_runtime_requests", "Inference requests by model and HTTP status.",
                                 ["model", "code"], registry=self.registry)
        self._failures = Counter("modelhub_runtime_request_failures",
                                 "Inference requests that ended with an HTTP status of 400 or more.",
                                 ["model", "code"], registry=self.registry)
        self._latency = Histogram("modelhub_runtime_request_duration_seconds",
                                  "Inference request latency in the app: from the request to the response handed to the server.",
                                  ["model"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self._batch = Histogram("modelhub_runtime_batch_size", "Requests per batch the host ran.", ["model"],
                                buckets=BATCH_BUCKETS, registry=self.registry)
        self._inflight = Gauge("modelhub_runtime_inflight_requests", "Inference requests being served.",
                               registry=self.registry)
        self._by_code: dict[tuple[str, int], tuple] = {}
        self._latency_of: dict[str, object] = {}
        self._batch_of: dict[str, object] = {}

    def request_started(self) -> None:
        self._inflight.inc()

    def request_finished(self, model: str, code: int, seconds: float) -> None:
        self._inflight.dec()
        children = self._by_code.get((model, code))
        if children is None:
            text = str(code)
            children = (self._requests.labels(model, text),
                        self._failures.labels(model, text) if code >= 400 else None)
            self._by_code[(model, code)] = children
        children[0].inc()
        if children[1] is not None:
            children[1].inc()
        latency = self._latency_of.get(model)
        if latency is None:
            latency = self._latency_of[model] = self._latency.labels(model)
        latency.observe(seconds)

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
        for cache, metric in ((self._latency_of, self._latency), (self._batch_of, self._batch)):
            if cache.pop(model, None) is not None:
                metric.remove(model)

    def render(self) -> bytes:
        return generate_latest(self.registry)
