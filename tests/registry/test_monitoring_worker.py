"""The monitoring loop for real: the demo's iris model deployed by a Celery worker on the runtime process, traffic
from its training data, then one feature shifted, then labels, and the retraining webhook on a loopback receiver.

The runtime closes windows every 2 s and ships them every 0.3 s (MODELHUB_MONITORING_WINDOW_SECONDS and
MODELHUB_MONITORING_SHIP_INTERVAL) to the live portal; the evaluation is the beat task's own function, run here
with a clock 2 minutes ahead so every window counts as due.
"""

import csv
import io
import time
from datetime import timedelta

import numpy as np
import pytest
import tritonclient.http as triton
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from registry.artifacts.storage import blob_open
from registry.endpoints.models import Endpoint
from registry.monitoring.evaluation import endpoint_evaluate
from registry.monitoring.models import MonitoringAlarm, MonitoringWindow, ShadowWindow
from registry.notifications.services import webhook_create
from registry.teams.models import Team
from registry.validation.models import DatasetProfile
from registry.versions.models import AssetVersion
from tests.conftest import report_figure
from tests.registry.runtime_process import live_runtime, live_runtime_worker_env  # noqa: F401 (fixtures)
from tests.registry.test_notifications import Receiver, receiver  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]
FEATURES = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]


@pytest.fixture
def live_runtime_env():
    return {"MODELHUB_MONITORING_WINDOW_SECONDS": "2", "MODELHUB_MONITORING_SHIP_INTERVAL": "0.3"}


@pytest.fixture
def celery_worker_env(live_runtime_worker_env):
    return {**live_runtime_worker_env, "MODELHUB_WEBHOOK_ALLOW_PRIVATE": "1"}


def _wait(predicate, what: str, timeout: float, logs=()):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what}: " + "\n".join(log.read_text()[-3000:] for log in logs)
        time.sleep(0.2)


def _iris_rows() -> tuple[np.ndarray, np.ndarray]:
    version = AssetVersion.objects.get(asset__slug="iris", version="1.0.0")
    with blob_open(version.files.get(is_primary=True).blob) as fh:
        table = list(csv.DictReader(io.TextIOWrapper(fh, "utf-8")))
    return np.array([[float(r[c]) for c in FEATURES] for r in table]), np.array([int(r["target"]) for r in table])


def test_deploy_monitor_alarm_label_and_retrain_webhook(
    celery_worker, live_runtime, receiver, reviewers, client_for, settings
):
    url, port, runtime_log = live_runtime
    logs = (celery_worker.log_path, runtime_log)
    call_command("seed_demo", stdout=io.StringIO())
    demo = client_for(Team.objects.get(slug="demo-lab").memberships.get(user__username="demo").user)
    _wait(
        lambda: DatasetProfile.objects.filter(version__asset__slug="iris").exists(),
        "the worker profiles the iris dataset",
        120,
        logs,
    )
    team = Team.objects.get(slug="demo-lab")
    webhook, secret = webhook_create(user=team.memberships.first().user, team=team, url=receiver.url, events=[])
    receiver.secret = secret
    created = demo.post(
        "/api/v1/endpoints/",
        {"team": "demo-lab", "asset": "demo-lab/iris-logreg", "alias": "production"},
        format="json",
    )
    assert created.status_code == 202, created.json()
    endpoint_id, key = created.json()["id"], created.json()["key"]
    detail = f"/api/v1/endpoints/{endpoint_id}/"
    _wait(lambda: demo.get(detail).json()["status"] == "ready", "the endpoint gets ready", 90, logs)
    name = demo.get(detail).json()["name"]
    # Evaluations of 200 rows: the test stays quick; alarms still need two of them in a row.
    assert (
        demo.patch(f"/api/v1/endpoints/{endpoint_id}/monitoring/settings", {"min_rows": 200}, format="json").status_code
        == 200
    )

    client = triton.InferenceServerClient(f"127.0.0.1:{port}")
    rows, target = _iris_rows()
    rng = np.random.default_rng(0)
    ids, truths = [], []

    def send(count: int, shift: np.ndarray | None = None) -> None:
        picks = rng.integers(0, len(rows), count)
        for start in range(0, count, 4):  # 4 rows per request
            chosen = picks[start : start + 4]
            batch = rows[chosen] + (shift if shift is not None else 0)
            tensor = triton.InferInput("input", list(batch.shape), "FP32")
            tensor.set_data_from_numpy(batch.astype(np.float32))
            result = client.infer(name, [tensor], headers={"Authorization": f"Bearer {key}"})
            ids.append(result.get_response()["id"])
            truths.append(target[chosen].tolist())

    def delivered(rows_sent: int) -> None:
        total = lambda: sum(MonitoringWindow.objects.filter(endpoint_id=endpoint_id).values_list("rows", flat=True))  # noqa: E731
        _wait(lambda: total() >= rows_sent, f"the runtime ships {rows_sent} rows", 30, logs)

    send(800)
    delivered(800)
    assert len(set(ids)) == len(ids) == 200  # every response carries an id of its own
    later = timezone.now() + timedelta(minutes=2)
    calm = endpoint_evaluate(endpoint_id=endpoint_id, now=later)
    assert calm and not MonitoringAlarm.objects.filter(endpoint_id=endpoint_id).exists(), [r.drifted for r in calm]

    shift = np.zeros(4)
    shift[1] = 2 * rows[:, 1].std()  # sepal width, two standard deviations
    for _ in range(2):  # two windows of their own: an alarm needs two evaluations over the threshold in a row
        time.sleep(2.1)
        send(600, shift)
    delivered(2000)
    drifted = endpoint_evaluate(endpoint_id=endpoint_id, now=timezone.now() + timedelta(minutes=2))
    alarm = MonitoringAlarm.objects.get(endpoint_id=endpoint_id)
    # The shifted feature, and the predictions it moves (prediction drift); no other feature.
    assert alarm.kind == "drift" and [f for f in alarm.features if f in FEATURES] == ["sepal_width_cm"], alarm.features
    assert all(f in FEATURES or f.startswith("probabilities") for f in alarm.features)
    flags = [bool(r.drifted) for r in drifted]
    raised_at = next(i for i in range(1, len(flags)) if flags[i] and flags[i - 1])  # alarm_after = 2
    rows_to_alarm = sum(r.rows for r in drifted[: raised_at + 1])
    report_figure(f"monitoring: a 2 sd shift of one feature raised its alarm after {rows_to_alarm} shifted rows")
    assert rows_to_alarm <= 1200, rows_to_alarm

    labels = [{"request_id": i, "value": t} for i, t in zip(ids, truths)]
    assert (
        demo.post(f"/api/v1/endpoints/{endpoint_id}/feedback", {"items": labels}, format="json").json()["created"]
        == 500
    )
    series = demo.get(f"/api/v1/endpoints/{endpoint_id}/monitoring").json()
    assert series["health"] == "drifting" and series["reference"]["kind"] == "training"
    assert "inferred" in series["reference"]["feature_map"]["note"]
    measured = [p["measured"] for p in series["performance"] if p["measured"]["labels"]]
    assert measured and measured[0]["metrics"]["accuracy"] > 0.8, measured

    receiver.wait_for(1, timeout=30)
    (delivery,) = [r for r in receiver.requests if r["json"]["event"] == "endpoint.drift_detected"]
    assert delivery["signature_valid"]
    payload = delivery["json"]["data"]
    assert payload["trained_on"] == {"asset": "demo-lab/iris", "version": "1.0.0"}
    assert [d["feature"] for d in payload["drifted"]] == alarm.features
    report = demo.get(payload["profile_url"] + "?profiles=1").json()
    assert report["features"]["sepal_width_cm"]["histogram"]["reference"] and report["window_profiles"]["inputs"]


def test_a_candidate_shadows_the_demo_endpoint_and_its_reviewers_get_the_evidence(
    celery_worker, live_runtime, reviewers, client_for
):
    """Shadow evaluation for real: a retrained iris model uploaded and validated by the worker, mirrored the demo
    endpoint's traffic by the runtime, its answers compared and joined with labels sent later."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    url, port, runtime_log = live_runtime
    logs = (celery_worker.log_path, runtime_log)
    call_command("seed_demo", stdout=io.StringIO())
    demo = client_for(Team.objects.get(slug="demo-lab").memberships.get(user__username="demo").user)
    endpoint = Endpoint.objects.get(name="iris-production")
    detail = f"/api/v1/endpoints/{endpoint.pk}/"
    _wait(lambda: demo.get(detail).json()["status"] == "ready", "the demo endpoint gets ready", 120, logs)

    iris = load_iris()
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(iris.data, iris.target)
    candidate = to_onnx(
        tree, initial_types=[("input", FloatTensorType([None, 4]))], options={"zipmap": False}, target_opset=17
    ).SerializeToString()
    uploaded = demo.post(
        "/api/v1/assets/demo-lab/iris-logreg/versions/",
        {"version": "1.1.0", "file": SimpleUploadedFile("model.onnx", candidate)},
        format="multipart",
    )
    assert uploaded.status_code == 202, uploaded.json()
    version_url = "/api/v1/assets/demo-lab/iris-logreg/versions/1.1.0/"
    _wait(lambda: demo.get(version_url).json()["status"] != "validating", "the worker validates 1.1.0", 120, logs)
    assert demo.get(version_url).json()["status"] == "validated"

    shadow_url = f"/api/v1/endpoints/{endpoint.pk}/shadow"
    started = demo.put(shadow_url, {"version": "1.1.0"}, format="json")
    assert started.status_code == 202 and started.json()["status"] == "loading", started.json()
    _wait(lambda: demo.get(shadow_url).json()["status"] != "loading", "the worker loads the shadow", 60, logs)
    assert demo.get(shadow_url).json()["status"] == "ready", demo.get(shadow_url).json()

    key = demo.post(f"/api/v1/endpoints/{endpoint.pk}/keys/").json()["key"]
    client = triton.InferenceServerClient(f"127.0.0.1:{port}")
    rng = np.random.default_rng(1)
    sent, ids, truth = [], [], {}
    for _ in range(100):  # 4 rows per request
        picks = rng.integers(0, len(iris.data), 4)
        batch = iris.data[picks].astype(np.float32)
        tensor = triton.InferInput("input", list(batch.shape), "FP32")
        tensor.set_data_from_numpy(batch)
        answer = client.infer("iris-production", [tensor], headers={"Authorization": f"Bearer {key}"})
        sent.append((batch, answer.as_numpy("label")))
        ids.append(answer.get_response()["id"])
        truth[ids[-1]] = iris.target[picks].tolist()
    rows = lambda: sum(ShadowWindow.objects.filter(endpoint=endpoint).values_list("rows", flat=True))  # noqa: E731
    _wait(lambda: rows() >= 400, "the runtime ships the shadow's windows", 30, logs)

    x = np.concatenate([b for b, _ in sent])
    live_labels = np.concatenate([label for _, label in sent])
    tree_labels = tree.predict(x.astype(np.float64))
    assert (
        demo.post(
            f"/api/v1/endpoints/{endpoint.pk}/feedback",
            {"items": [{"request_id": k, "value": v} for k, v in truth.items()]},
            format="json",
        ).json()["created"]
        == 100
    )
    evidence = demo.get(shadow_url).json()["evidence"]
    assert (evidence["requests"], evidence["rows"], evidence["failures"], evidence["shed"]) == (100, 400, 0, 0)
    assert evidence["agreement"]["label"]["disagreement_rate"] == pytest.approx((tree_labels != live_labels).mean())
    assert evidence["latency_ms"]["p50"] > 0 and evidence["live_latency_ms"]["p50"] > 0
    labels = np.concatenate([truth[rid] for rid in ids])
    performance = evidence["performance"]
    assert performance["candidate"]["labels"] == 400 == performance["live"]["labels"]
    assert performance["candidate"]["metrics"]["accuracy"] == pytest.approx((tree_labels == labels).mean())
    assert performance["live"]["metrics"]["accuracy"] == pytest.approx((live_labels == labels).mean())
    print(
        f"\nshadow: disagreement {evidence['agreement']['label']['disagreement_rate']:.3f}, candidate accuracy "
        f"{performance['candidate']['metrics']['accuracy']:.3f} vs live {performance['live']['metrics']['accuracy']:.3f}"
    )

    # Stopped: the runtime unloads it and callers are not affected.
    assert demo.delete(shadow_url).status_code == 202
    _wait(lambda: demo.get(shadow_url).json()["status"] == "stopped", "the worker unloads the shadow", 60, logs)
    index = client.get_model_repository_index(
        headers={"Authorization": f"Bearer {django_settings.MODELHUB_RUNTIME_SECRET}"}
    )
    assert [m["name"] for m in index] == ["iris-production"]
