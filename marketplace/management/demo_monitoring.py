"""The demo's monitored endpoint: the iris model deployed, with six hours of history and one drifting feature.

`seed_demo` deploys `demo-lab/iris-logreg@production` as the endpoint `iris-production` (the worker and the
runtime provision it as they would any endpoint) and gives it the history a real one would have: windows of
ten minutes recorded by the runtime's own code (registry.runtime.windows) from rows drawn from the iris data,
answered by the model as trained, with ground truth for the first hours. In the last two hours the sepal width
reads about two standard deviations high (a recalibrated sensor, say), so the first start shows a reference,
history, one drifting feature and an open alarm to look at.
"""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
from django.utils import timezone

from registry.endpoints.models import Endpoint
from registry.endpoints.services.commands import endpoint_create
from registry.monitoring.evaluation import endpoint_evaluate
from registry.monitoring.services import ground_truth_record, windows_ingest
from registry.runtime.windows import Window

ENDPOINT_NAME = "iris-production"
WINDOW_SECONDS = 600
WINDOWS = 36  # six hours
DRIFTING_WINDOWS = 12  # the last two
REQUESTS_PER_WINDOW = 120
LABELLED_WINDOWS = 18  # ground truth arrived for the first three hours
DRIFTING_FEATURE = 1  # sepal_width_cm
SHIFT_SDS = 2.0


def seed_monitored_endpoint(*, user, team, asset: str, estimator, data: np.ndarray, target: np.ndarray) -> str | None:
    """Deploy `asset`@production for `team` with its history; None when the endpoint exists already, else its key
    (shown once)."""
    if Endpoint.objects.filter(name=ENDPOINT_NAME).exists():
        return None
    ((endpoint, key),) = endpoint_create(user=user, team=team, asset=asset, alias="production", name=ENDPOINT_NAME)
    rng = np.random.default_rng(0)
    now = timezone.now()
    first = int(now.timestamp()) // WINDOW_SECONDS * WINDOW_SECONDS - WINDOWS * WINDOW_SECONDS
    shift = np.zeros(data.shape[1])
    shift[DRIFTING_FEATURE] = SHIFT_SDS * data[:, DRIFTING_FEATURE].std()
    windows, truth = [], []
    for n in range(WINDOWS):
        start = first + n * WINDOW_SECONDS
        window = Window(
            endpoint.name, endpoint.version.version, start, WINDOW_SECONDS, predictions=1000, rng=random.Random(n)
        )
        picks = rng.integers(0, len(data), REQUESTS_PER_WINDOW)
        rows = data[picks] + (shift if n >= WINDOWS - DRIFTING_WINDOWS else 0.0)
        probabilities = estimator.predict_proba(rows).astype(np.float32)
        pending = []
        for i, row in enumerate(rows):
            request_id = f"demo-{start}-{i}"
            outputs = {"label": probabilities[i : i + 1].argmax(axis=1), "probabilities": probabilities[i : i + 1]}
            pending.append((request_id, {"input": row[None, :].astype(np.float32)}, outputs, rng.gamma(4, 0.0004)))
            if n < LABELLED_WINDOWS:
                truth.append({"request_id": request_id, "value": int(target[picks[i]])})
        window.fold(pending)
        windows.append(window.to_dict())
    windows_ingest(source="seed-demo", windows=windows)
    ground_truth_record(user=user, endpoint=endpoint, items=truth)
    endpoint_evaluate(endpoint_id=endpoint.pk, now=now + timedelta(minutes=1))
    return key
