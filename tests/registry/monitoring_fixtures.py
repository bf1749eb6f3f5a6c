"""An iris-like endpoint with a training dataset profile, and windows made by the runtime's own code."""

import random

import numpy as np
import pytest

from registry.endpoints.models import Endpoint, EndpointStatus
from registry.lineage.models import LineageEdge, LineageKind
from registry.monitoring.services import windows_ingest
from registry.profiles.columns import CategoricalProfile, NumericProfile
from registry.runtime.windows import Window
from registry.validation.models import DatasetProfile
from tests.factories import bare_versions, make_asset

FEATURES = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]
MEANS = np.array([5.8, 3.0, 3.8, 1.2])
SCALES = np.array([0.8, 0.4, 1.8, 0.8])
SIGNATURE = {
    "inputs": [{"name": "input", "dtype": "float32", "shape": ["batch", 4]}],
    "outputs": [
        {"name": "label", "dtype": "int64", "shape": ["batch"]},
        {"name": "probabilities", "dtype": "float32", "shape": ["batch", 3]},
    ],
}
MINUTE = 60


def training_rows(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(MEANS, SCALES, size=(n, 4))


def predict(rows: np.ndarray) -> dict:
    """A stand-in classifier: the class is the petal length's third, with confident probabilities."""
    label = np.clip(((rows[:, 2] - 1.0) / 2.0).astype(np.int64), 0, 2)
    probabilities = np.full((len(rows), 3), 0.05, np.float32)
    probabilities[np.arange(len(rows)), label] = 0.9
    return {"label": label, "probabilities": probabilities}


def dataset_profile(rows: np.ndarray) -> dict:
    columns = {}
    for j, name in enumerate(FEATURES):
        profile = NumericProfile()
        profile.update(rows[:, j])
        columns[name] = profile.to_dict()
    species = CategoricalProfile()
    species.update(predict(rows)["label"].tolist())
    columns["species"] = species.to_dict()
    return columns


@pytest.fixture
def iris_endpoint(alice, bob, team):
    """A ready endpoint serving a model version trained on a dataset version with a profile of 20,000 rows."""
    model = make_asset(alice, team, slug="iris-clf", license="MIT")
    data = make_asset(alice, team, kind="dataset", slug="iris-data", license="MIT")
    (version,) = bare_versions(model, 1, status="approved")
    version.signature = SIGNATURE
    version.save(update_fields=["signature"])
    (dataset,) = bare_versions(data, 1, status="validated")
    DatasetProfile.objects.create(version=dataset, columns=list(dataset_profile(training_rows(20_000)).items()))
    LineageEdge.objects.create(source=version, target=dataset, kind=LineageKind.TRAINED_ON)
    return Endpoint.objects.create(
        team=team, name="iris", version=version, deployed_version=version, status=EndpointStatus.READY, created_by=bob
    )


def make_window(endpoint, rows: np.ndarray, *, start: int, ids: list[str] | None = None, per_request: int = 1) -> dict:
    """The window the runtime would ship for these rows, `per_request` rows per request."""
    window = Window(endpoint.name, endpoint.version.version, start, MINUTE, predictions=1000, rng=random.Random(0))
    pending = []
    for n, i in enumerate(range(0, len(rows), per_request)):
        x = rows[i : i + per_request].astype(np.float32)
        request_id = ids[n] if ids else f"{start}-{n}"
        pending.append((request_id, {"input": x}, predict(x.astype(np.float64)), 0.001))
    for i in range(0, len(pending), 64):
        window.fold(pending[i : i + 64])
    return window.to_dict()


def ship(endpoint, windows: list[dict], source: str = "runtime-a") -> dict:
    return windows_ingest(source=source, windows=windows)


def make_shadow_window(endpoint, version: str, rows: np.ndarray, *, start: int, ids: list[str] | None = None) -> dict:
    """The window the runtime would ship for the endpoint's shadow `version` answering these rows (one per
    request) with the petal length read 0.5 cm longer than the live stand-in does, agreement included."""
    from registry.runtime.app import agreement

    window = Window(f"{endpoint.name}.shadow", version, start, MINUTE, predictions=1000, rng=random.Random(1))
    pending = []
    for n in range(len(rows)):
        x = rows[n : n + 1].astype(np.float32)
        request_id = ids[n] if ids else f"{start}-{n}"
        live, moved = predict(x.astype(np.float64)), x.astype(np.float64)
        moved[:, 2] += 0.5
        answer = predict(moved)
        window.add_agreement(agreement(live, answer))
        pending.append((request_id, {"input": x}, answer, 0.004))
    for i in range(0, len(pending), 64):
        window.fold(pending[i : i + 64])
    return window.to_dict()
