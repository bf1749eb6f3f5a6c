"""What each model is being asked and answers, for drift monitoring: `GET /v2/models/{name}/stats`.

Per model:
- a reservoir sample (Vitter's algorithm R) of at most `sample_size` requests, each kept as a small
  JSON-able summary (shapes, datatypes and the first few values of every tensor, strings cut short), so
  the memory it holds is bounded whatever the traffic;
- running statistics per column of every numeric input of rank 1 or 2 (rank 2: rows are examples,
  columns features): count, mean, variance (Welford, merged a batch at a time with Chan's formula), min,
  max; rows with a NaN or infinity are counted apart;
- value counts of BYTES and integer outputs (class labels), at most `max_values` distinct values each,
  the rest counted as "other".

and, for drift monitoring over time, the current window (registry/runtime/windows.py): per-minute profiles of
every input column and output, closed when their minute has passed and handed to `on_close` (the shipper).

Cheap on the hot path: a request's arrays are appended to a pending list and folded into the statistics and
the window with numpy a batch of requests at a time (or when the stats are read or the window closes); a
request is summarised only when the reservoir draws it.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable

import numpy as np

from registry.runtime.windows import (
    PREDICTIONS_PER_WINDOW,
    WINDOW_SECONDS,
    Reservoir,
    Window,
    tensor_rows,
    window_start,
)

_PENDING_REQUESTS = 64  # fold after this many requests
_MAX_PENDING_BYTES = 1 << 20  # or when the arrays waiting take this much
_SAMPLE_VALUES = 16  # values kept per tensor in a sample
_SAMPLE_TEXT = 64  # characters kept per string value


class ColumnStats:
    """Running count/mean/M2/min/max of the columns of a 2-D float64 array."""

    __slots__ = ("count", "mean", "m2", "min", "max", "non_finite_rows")

    def __init__(self, columns: int):
        self.count = 0
        self.mean = np.zeros(columns)
        self.m2 = np.zeros(columns)
        self.min = np.full(columns, np.inf)
        self.max = np.full(columns, -np.inf)
        self.non_finite_rows = 0

    def update(self, rows: np.ndarray) -> None:
        finite = np.isfinite(rows).all(axis=1)
        if not finite.all():
            self.non_finite_rows += int((~finite).sum())
            rows = rows[finite]
        added = rows.shape[0]
        if added == 0:
            return
        mean = rows.mean(axis=0)
        m2 = ((rows - mean) ** 2).sum(axis=0)
        total = self.count + added
        delta = mean - self.mean
        self.mean = self.mean + delta * (added / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.count * added / total)
        self.count = total
        np.minimum(self.min, rows.min(axis=0), out=self.min)
        np.maximum(self.max, rows.max(axis=0), out=self.max)

    def as_dict(self) -> dict:
        empty = self.count == 0
        variance = self.m2 / (self.count - 1) if self.count > 1 else np.zeros_like(self.m2)
        return {
            "count": self.count,
            "non_finite_rows": self.non_finite_rows,
            "mean": None if empty else self.mean.tolist(),
            "variance": None if empty else variance.tolist(),
            "min": None if empty else self.min.tolist(),
            "max": None if empty else self.max.tolist(),
        }


class ValueCounts:
    __slots__ = ("counts", "other", "max_values")

    def __init__(self, max_values: int):
        self.counts: Counter = Counter()
        self.other = 0
        self.max_values = max_values

    def update(self, values: np.ndarray) -> None:
        uniques, counts = np.unique(values.reshape(-1), return_counts=True)
        for value, count in zip(uniques.tolist(), counts.tolist()):
            key = _text(value) if isinstance(value, (bytes, str)) else value
            if key in self.counts or len(self.counts) < self.max_values:
                self.counts[key] += count
            else:
                self.other += count

    def as_dict(self) -> dict:
        return {"values": {str(k): v for k, v in self.counts.most_common()}, "other": self.other}


class ModelMonitor:
    def __init__(
        self,
        *,
        name: str = "",
        sample_size: int = 256,
        max_values: int = 100,
        rng: random.Random | None = None,
        window_seconds: int = WINDOW_SECONDS,
        predictions: int = PREDICTIONS_PER_WINDOW,
        on_close: Callable[[dict], None] | None = None,
    ):
        self.name = name
        self.sample_size = sample_size
        self.max_values = max_values
        self.requests = 0
        self.window: Window | None = None
        self.window_seconds = window_seconds
        self._predictions = predictions
        self._on_close = on_close
        self._rng = rng or random.Random()
        self._samples = Reservoir(sample_size, self._rng)
        self._pending: list[tuple] = []
        self._pending_bytes = 0
        self._inputs: dict[str, ColumnStats] = {}
        self._outputs: dict[str, ValueCounts] = {}

    def observe(
        self,
        inputs: dict[str, np.ndarray],
        outputs: dict[str, np.ndarray],
        *,
        request_id: str = "",
        latency: float = 0.0,
        version: str = "",
        now: float | None = None,
        agreement: dict | None = None,
    ) -> None:
        window = self.window
        now = time.time() if now is None else now
        if window is None or now >= window.start + window.seconds or window.version != version:
            window = self._roll(now, version)
        self.requests += 1
        slot = self._samples.offer()
        if slot is not None:
            self._samples.items[slot] = _summary(inputs, outputs)
        if agreement:
            window.add_agreement(agreement)
        pending = self._pending
        pending.append((request_id, inputs, outputs, latency))
        for array in inputs.values():
            self._pending_bytes += array.nbytes
        if len(pending) >= _PENDING_REQUESTS or self._pending_bytes >= _MAX_PENDING_BYTES:
            self.fold()

    def shed(self, *, now: float | None = None) -> None:
        """Count a mirrored request a shadow model did not get (too many in flight)."""
        now = time.time() if now is None else now
        window = self.window
        if window is None or now >= window.start + window.seconds:
            window = self._roll(now, window.version if window is not None else "")
        window.shed += 1

    def failure(self, *, version: str = "", now: float | None = None) -> None:
        """Count a request the model refused or failed (a 4xx/5xx of a loaded model) in the current window."""
        now = time.time() if now is None else now
        window = self.window
        if window is None or now >= window.start + window.seconds or window.version != version:
            window = self._roll(now, version)
        window.failures += 1

    def fold(self) -> None:
        """Fold the pending requests into the running statistics and the current window."""
        pending, self._pending, self._pending_bytes = self._pending, [], 0
        if not pending:
            return
        rows = {name: tensor_rows([p[1].get(name) for p in pending]) for name in pending[0][1]}
        if self.window is not None:
            self.window.fold(pending, rows)
        for name, columns in rows.items():
            if columns is None or columns.dtype.kind != "f":
                continue
            stats = self._inputs.get(name)
            if stats is None or stats.mean.shape[0] != columns.shape[1]:
                stats = self._inputs[name] = ColumnStats(columns.shape[1])
            stats.update(columns.astype(np.float64, copy=False))
        for name, first in pending[0][2].items():
            if first.dtype.kind not in "iuOSU":
                continue
            arrays = [p[2][name] for p in pending if name in p[2]]
            counts = self._outputs.get(name)
            if counts is None:
                counts = self._outputs[name] = ValueCounts(self.max_values)
            counts.update(np.concatenate([a.reshape(-1) for a in arrays]))

    def close_due(self, now: float | None = None) -> None:
        """Close the current window if its time has passed (the shipper's tick: a model may fall silent)."""
        now = time.time() if now is None else now
        if self.window is not None and now >= self.window.start + self.window.seconds:
            self.close()

    def close(self) -> None:
        """Fold what is pending and hand the current window, if it saw anything, to `on_close`."""
        self.fold()
        window, self.window = self.window, None
        if window is not None and (window.requests or window.failures or window.shed) and self._on_close is not None:
            self._on_close(window.to_dict())

    def _roll(self, now: float, version: str) -> Window:
        self.close()
        self.window = Window(
            self.name,
            version,
            window_start(now, self.window_seconds),
            self.window_seconds,
            predictions=self._predictions,
            rng=self._rng,
        )
        return self.window

    def as_dict(self) -> dict:
        self.fold()
        return {
            "requests": self.requests,
            "inputs": {name: s.as_dict() for name, s in self._inputs.items()},
            "outputs": {name: c.as_dict() for name, c in self._outputs.items()},
            "samples": list(self._samples.items),
        }


class Monitoring:
    """A ModelMonitor per model, made on first use. Closed windows go to `on_close` (a dict each)."""

    def __init__(
        self,
        *,
        sample_size: int = 256,
        max_values: int = 100,
        window_seconds: int = WINDOW_SECONDS,
        predictions: int = PREDICTIONS_PER_WINDOW,
        on_close: Callable[[dict], None] | None = None,
    ):
        self.sample_size = sample_size
        self.max_values = max_values
        self.window_seconds = window_seconds
        self.predictions = predictions
        self.on_close = on_close
        self._models: dict[str, ModelMonitor] = {}

    def _monitor(self, model: str) -> ModelMonitor:
        monitor = self._models.get(model)
        if monitor is None:
            monitor = self._models[model] = ModelMonitor(
                name=model,
                sample_size=self.sample_size,
                max_values=self.max_values,
                window_seconds=self.window_seconds,
                predictions=self.predictions,
                on_close=self._closed,
            )
        return monitor

    def _closed(self, window: dict) -> None:
        if self.on_close is not None:
            self.on_close(window)

    def observe(
        self,
        model: str,
        inputs: dict[str, np.ndarray],
        outputs: dict[str, np.ndarray],
        *,
        request_id: str = "",
        latency: float = 0.0,
        version: str = "",
        agreement: dict | None = None,
    ) -> None:
        self._monitor(model).observe(
            inputs, outputs, request_id=request_id, latency=latency, version=version, agreement=agreement
        )

    def shed(self, model: str) -> None:
        self._monitor(model).shed()

    def failure(self, model: str, *, version: str = "") -> None:
        self._monitor(model).failure(version=version)

    def stats(self, model: str) -> dict:
        monitor = self._models.get(model)
        if monitor is None:
            return {"model": model, "requests": 0, "inputs": {}, "outputs": {}, "samples": []}
        return {"model": model, **monitor.as_dict()}

    def close_due(self, now: float | None = None) -> None:
        for monitor in list(self._models.values()):
            monitor.close_due(now)

    def close_all(self) -> None:
        for monitor in list(self._models.values()):
            monitor.close()

    def forget(self, model: str) -> None:
        """Unload: the model's open window is closed (and shipped), its cumulative statistics forgotten."""
        monitor = self._models.pop(model, None)
        if monitor is not None:
            monitor.close()


def _summary(inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> dict:
    return {
        "inputs": {n: _tensor_summary(a) for n, a in inputs.items()},
        "outputs": {n: _tensor_summary(a) for n, a in outputs.items()},
    }


def _tensor_summary(array: np.ndarray) -> dict:
    flat = array.reshape(-1)
    head = flat[:_SAMPLE_VALUES].tolist()
    if array.dtype.kind in "OSU":
        head = [_text(v) for v in head]
    elif array.dtype.kind == "f":
        head = [v if math.isfinite(v) else None for v in head]
    return {
        "shape": list(array.shape),
        "dtype": str(array.dtype),
        "values": head,
        "truncated": flat.shape[0] > _SAMPLE_VALUES,
    }


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value[:_SAMPLE_TEXT]
