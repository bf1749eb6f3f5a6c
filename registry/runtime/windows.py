"""Windows of what each model is asked and answers: mergeable profiles per minute, kept until the portal has them.

Per model and per window (`window_seconds`, 60 by default, aligned to the clock so that replicas' windows line
up and merge), a window holds:
- a profile (registry.profiles) of every column of every input: numeric inputs of rank 1 (one column) or 2
  (rows are examples, columns features), at most MAX_COLUMNS columns; BYTES inputs as categories;
- a profile of every output: labels (integer or BYTES outputs) as categories, float outputs of rank 1 or 2
  (values, probabilities) per column, at most MAX_COLUMNS;
- the count of requests, rows and failures, a profile of the latency in milliseconds;
- a uniform sample (reservoir) of at most `predictions` predictions, each its request id and its outputs' first
  PREDICTION_ROWS rows, so that ground truth sent later by request id can be joined to what the model said.

Windows close when their time has passed (checked on each request and by the shipper's tick) and are then
handed to the shipper (registry/runtime/shipper.py), which writes them to the state folder before sending them
to the portal, so neither a restart of the runtime nor an unload of the model loses them.

The cost on the hot path is an append to a list; the arrays are folded into the profiles with numpy and the
sketches' vectorised updates a few dozen requests at a time (registry/runtime/monitoring.py decides when).
"""

from __future__ import annotations

import math
import os
import random
import resource
import secrets
import time

import numpy as np

from registry.profiles.columns import CategoricalProfile, NumericProfile

WINDOW_SECONDS = 60
MAX_COLUMNS = 256  # columns of one tensor that are profiled (the dataset profile lists as many)
PREDICTIONS_PER_WINDOW = 1000
PREDICTION_ROWS = 16  # rows of one request's outputs kept with its id
_LABEL_KINDS = "biuOSU"
_NUMERIC_KINDS = "biuf"
_TEXT_KINDS = "OSU"


def window_start(now: float, seconds: int) -> int:
    return int(now // seconds) * seconds


class Reservoir:
    """A uniform sample of at most `size` of the items offered (Li's algorithm L): `offer()` says which slot the
    item goes to, or None. Once full, it draws random numbers only for the items it takes (about
    size * ln(seen / size) of them), so an item passed over costs one comparison."""

    __slots__ = ("size", "items", "seen", "_next", "_w", "_rng")

    def __init__(self, size: int, rng: random.Random):
        self.size = size
        self.items: list = []
        self.seen = 0
        self._next = 0
        self._w = 0.0
        self._rng = rng

    def offer(self) -> int | None:
        self.seen += 1
        seen = self.seen
        if seen <= self.size:
            self.items.append(None)
            if seen == self.size:
                self._w = math.exp(math.log(1.0 - self._rng.random()) / self.size)
                self._skip()
            return seen - 1
        if seen != self._next:
            return None
        self._w *= math.exp(math.log(1.0 - self._rng.random()) / self.size)
        self._skip()
        return self._rng.randrange(self.size)

    def _skip(self) -> None:
        if self._w >= 1.0:  # (1 - u) ** (1 / size) rounds to 1 only for huge sizes: take the next item
            self._next = self.seen + 1
            return
        self._next = self.seen + int(math.log(1.0 - self._rng.random()) / math.log(1.0 - self._w)) + 1


class Window:
    """One model's profiles over [start, start + seconds)."""

    def __init__(self, model: str, version: str, start: int, seconds: int, *, predictions: int, rng: random.Random):
        self.id = secrets.token_hex(12)
        self.model = model
        self.version = version
        self.start = start
        self.seconds = seconds
        self.requests = 0
        self.rows = 0
        self.failures = 0
        self.latency_ms = NumericProfile()
        self.inputs: dict[str, list] = {}
        self.outputs: dict[str, list] = {}
        self._predictions = Reservoir(predictions, rng)
        # A shadow model's: how its outputs compared with the live model's ({output: counts}, see
        # registry.runtime.app.agreement), and the mirrored requests it was not sent.
        self.agreement: dict[str, dict[str, float]] = {}
        self.shed = 0

    @property
    def end(self) -> int:
        return self.start + self.seconds

    def add_agreement(self, agreement: dict) -> None:
        for output, counts in agreement.items():
            total = self.agreement.setdefault(output, {})
            for key, value in counts.items():
                total[key] = total.get(key, 0) + value

    @property
    def predictions(self) -> list[list]:
        return self._predictions.items

    @property
    def predictions_seen(self) -> int:
        return self._predictions.seen

    def fold(self, pending: list[tuple], input_rows: dict | None = None) -> None:
        """Fold requests [(request_id, inputs, outputs, latency_seconds)] into the profiles; `input_rows` are the
        inputs' rows when the caller has them already ({name: rows or None}, from `tensor_rows`)."""
        if not pending:
            return
        self.requests += len(pending)
        self.latency_ms.update(np.fromiter((p[3] for p in pending), dtype=np.float64, count=len(pending)) * 1000.0)
        for name in pending[0][1]:
            rows = input_rows[name] if input_rows is not None else tensor_rows([p[1].get(name) for p in pending])
            if rows is not None:
                _profile_columns(self.inputs, name, rows)
                if name == next(iter(pending[0][1])):
                    self.rows += rows.shape[0]
        for name, first in pending[0][2].items():
            arrays = [p[2].get(name) for p in pending]
            if first.dtype.kind in _LABEL_KINDS and first.dtype.kind != "f":
                profiles = self.outputs.get(name)
                if profiles is None:
                    profiles = self.outputs[name] = [CategoricalProfile()]
                values = np.concatenate([a.reshape(-1) for a in arrays if a is not None])
                uniques, counts = np.unique(values, return_counts=True)
                profiles[0].update_counts(dict(zip(_labels(uniques), counts.tolist())))
            else:
                rows = tensor_rows(arrays)
                if rows is not None:
                    _profile_columns(self.outputs, name, rows)
        reservoir = self._predictions
        for request_id, _, outputs, _ in pending:
            slot = reservoir.offer()
            if slot is not None:
                reservoir.items[slot] = [request_id, _head(outputs)]

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "model": self.model,
            "version": self.version,
            "start": self.start,
            "seconds": self.seconds,
            "requests": self.requests,
            "rows": self.rows,
            "failures": self.failures,
            "latency_ms": self.latency_ms.to_dict(),
            "inputs": {name: [p.to_dict() for p in profiles] for name, profiles in self.inputs.items()},
            "outputs": {name: [p.to_dict() for p in profiles] for name, profiles in self.outputs.items()},
            "predictions": self.predictions,
            "predictions_seen": self.predictions_seen,
            "process": process_usage(),
            **({"agreement": self.agreement} if self.agreement else {}),
            **({"shed": self.shed} if self.shed else {}),
        }


def _profile_columns(target: dict[str, list], name: str, rows: np.ndarray) -> None:
    width = min(rows.shape[1], MAX_COLUMNS)
    profiles = target.get(name)
    if profiles is None or len(profiles) != width:
        kind = CategoricalProfile if rows.dtype.kind in _TEXT_KINDS else NumericProfile
        profiles = target[name] = [kind() for _ in range(width)]
    for column, profile in enumerate(profiles):
        profile.update(rows[:, column])


def tensor_rows(arrays: list) -> np.ndarray | None:
    """The rows of a tensor of rank 1 (one column) or 2 over several requests (integers as float64); None for
    other ranks."""
    first = arrays[0]
    if first is None or first.ndim not in (1, 2) or first.dtype.kind not in _NUMERIC_KINDS + _TEXT_KINDS:
        return None
    width = 1 if first.ndim == 1 else first.shape[1]
    parts = [
        a.reshape(-1, width)
        for a in arrays
        if a is not None and a.ndim == first.ndim and (a.ndim == 1 or a.shape[1] == width)
    ]
    rows = np.concatenate(parts)
    if rows.dtype.kind in "biu":
        rows = rows.astype(np.float64)
    return rows


def _labels(values: np.ndarray) -> list[str]:
    out = []
    for value in values.tolist():
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        out.append(value if isinstance(value, str) else str(value))
    return out


def _head(outputs: dict) -> dict:
    """The first PREDICTION_ROWS rows of every output, JSON-able (NaN and infinities as None)."""
    head = {}
    for name, array in outputs.items():
        rows = array[:PREDICTION_ROWS] if array.ndim else array.reshape(1)
        if rows.ndim > 2:
            continue
        values = rows.tolist()
        if rows.dtype.kind in _TEXT_KINDS:
            values = _labels(rows.reshape(-1)) if rows.ndim == 1 else [_labels(r) for r in rows]
        elif rows.dtype.kind == "f" and not np.isfinite(rows).all():
            values = _finite(values)
        head[name] = values
    return head


def _finite(values):
    if isinstance(values, list):
        return [_finite(v) for v in values]
    return values if math.isfinite(values) else None


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def process_usage() -> dict:
    """CPU seconds used so far and resident memory of this process (Linux /proc; the RSS peak elsewhere)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    try:
        with open("/proc/self/statm") as statm:
            rss = int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        rss = usage.ru_maxrss * 1024
    return {"cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3), "rss_bytes": rss, "at": time.time()}
