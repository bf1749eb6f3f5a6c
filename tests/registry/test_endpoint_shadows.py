"""Shadow evaluation: a candidate version beside an endpoint's live one, loaded by the shadow task on a (fake) V2
runtime on loopback; the windows the runtime sends of it; and the evidence the review page and the API show."""

import random
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from registry.cards.services import card_update
from registry.endpoints.models import EndpointKey, EndpointShadow
from registry.endpoints.services import (
    endpoint_create,
    endpoint_delete,
    endpoint_provision,
    endpoint_shadow_sync,
    endpoint_update,
    runtime_authorize,
    shadow_start,
    shadow_stop,
    shadows_recover_stalled,
)
from registry.endpoints.services.keys import conformance_key_new, key_hash
from registry.governance.services import review_submit, version_submit
from registry.kernel.audit.models import AuditEvent
from registry.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.monitoring.models import GroundTruth, MonitoringWindow, Prediction, ShadowPrediction, ShadowWindow
from registry.monitoring.services import ground_truth_record, windows_ingest
from registry.monitoring.shadows import shadow_evidence
from registry.runtime.app import agreement
from registry.runtime.windows import Window
from registry.validation.models import ValidationReport
from registry.versions.models import AssetVersion
from tests.factories import complete_card_fields, linear_model, make_version, onnx_bytes
from tests.registry.endpoint_fixtures import LINEAR_SIGNATURE, LINEAR_SMOKE, approve, approved_model
from tests.registry.fake_runtime import fake_runtime

pytestmark = pytest.mark.django_db
SHADOW = "clf-1-0-0.shadow"


@pytest.fixture(autouse=True)
def _runtime_settings(settings, tmp_path):
    settings.MODELHUB_RUNTIME_MODELS_DIR = str(tmp_path / "runtime-models")


@pytest.fixture
def runtime(settings):
    with fake_runtime(settings) as running:
        yield running


@pytest.fixture
def endpoint(alice, bob, dave, team, tmp_path, runtime):
    live = approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)
    ((made, _),) = endpoint_create(user=bob, team=team, asset="vision/clf", version="1.0.0")
    assert endpoint_provision(endpoint_id=made.pk, task_id="t1")
    made.refresh_from_db()
    assert made.status == "ready" and made.version_id == live.pk
    return made


def candidate(alice, asset, tmp_path, version: str, *, seed: int, signature: dict = LINEAR_SIGNATURE):
    """A version as validation leaves it: other weights than the live one, same signature unless told."""
    made = make_version(alice, asset, tmp_path, onnx_bytes(linear_model(seed=seed)), version=version)
    AssetVersion.objects.filter(pk=made.pk).update(status="validated", signature=signature)
    ValidationReport.objects.filter(version=made).update(outcome="passed", details={"smoke_inference": LINEAR_SMOKE})
    made.refresh_from_db()
    card_update(user=alice, version=made, fields=complete_card_fields(asset.kind))
    return made


def shadow_of(endpoint) -> EndpointShadow:
    return EndpointShadow.objects.filter(endpoint=endpoint).order_by("-pk").first()


def test_a_candidate_is_loaded_beside_the_live_version_and_checked(alice, bob, endpoint, runtime, settings, tmp_path):
    cand = candidate(alice, endpoint.version.asset, tmp_path, "1.1.0", seed=1)
    shadow = shadow_start(user=bob, endpoint=endpoint, version="1.1.0")
    assert shadow.status == "loading" and SHADOW not in runtime.models
    assert AuditEvent.objects.filter(action="endpoint.shadow_started", data__version="1.1.0").exists()
    # Asking again for the same candidate changes nothing.
    assert shadow_start(user=bob, endpoint=endpoint, version="1.1.0").pk == shadow.pk

    endpoint_shadow_sync(endpoint_id=endpoint.pk)
    shadow.refresh_from_db()
    assert shadow.status == "ready" and "conformance check passed" in shadow.status_reason, shadow.status_reason
    loaded = runtime.models[SHADOW]
    assert loaded["version"] == "1.1.0" and loaded["parameters"]["shadow_of"] == endpoint.name
    assert loaded["parameters"]["sha256"] == cand.sha256
    assert runtime.models[endpoint.name]["version"] == "1.0.0"  # the live model is untouched
    # The conformance check called the shadow with an internal key, deleted since.
    assert ("POST", f"/v2/models/{SHADOW}/infer") in runtime.calls
    assert not EndpointKey.objects.filter(endpoint=endpoint, internal=True).exists()
    folder = Path(settings.MODELHUB_RUNTIME_MODELS_DIR) / endpoint.name
    assert sorted(p.name for p in folder.iterdir()) == sorted([endpoint.version.sha256, cand.sha256])

    # Running the task again (a redelivered message) loads nothing twice.
    load = ("POST", f"/v2/repository/models/{SHADOW}/load")
    loads = runtime.calls.count(load)
    endpoint_shadow_sync(endpoint_id=endpoint.pk)
    assert runtime.calls.count(load) == loads == 1


def test_what_cannot_shadow_an_endpoint_is_refused_with_the_reason(alice, bob, charlie, endpoint, tmp_path, settings):
    asset = endpoint.version.asset
    with pytest.raises(Conflict, match="serves 1.0.0 already"):
        shadow_start(user=bob, endpoint=endpoint, version="1.0.0")
    draft = make_version(alice, asset, tmp_path, onnx_bytes(linear_model(seed=2)), version="1.2.0")
    with pytest.raises(Conflict, match="Only validated, in review, approved versions can shadow.*1.2.0 is validating"):
        shadow_start(user=bob, endpoint=endpoint, version=draft.version)
    wide = {**LINEAR_SIGNATURE, "inputs": [{"name": "x", "dtype": "float32", "shape": ["batch", 8]}]}
    candidate(alice, asset, tmp_path, "1.3.0", seed=3, signature=wide)
    with pytest.raises(Conflict, match=r"its input 'x' has the shape \['batch', 8\], the live version's has"):
        shadow_start(user=bob, endpoint=endpoint, version="1.3.0")
    named = {**LINEAR_SIGNATURE, "inputs": [{"name": "features", "dtype": "float32", "shape": ["batch", 4]}]}
    candidate(alice, asset, tmp_path, "1.4.0", seed=4, signature=named)
    with pytest.raises(Conflict, match="needs the input 'features'"):
        shadow_start(user=bob, endpoint=endpoint, version="1.4.0")
    with pytest.raises(NotFound):
        shadow_start(user=bob, endpoint=endpoint, version="9.9.9")
    with pytest.raises(PermissionDenied):
        shadow_start(user=charlie, endpoint=endpoint, version="1.1.0")
    with pytest.raises(InvalidInput):
        shadow_start(user=bob, endpoint=endpoint, version="")
    with pytest.raises(NotFound, match="has no shadow"):
        shadow_stop(user=bob, endpoint=endpoint)
    endpoint.backend = "kubernetes"
    with pytest.raises(Conflict, match="cannot mirror traffic"):
        shadow_start(user=bob, endpoint=endpoint, version="1.1.0")
    assert not EndpointShadow.objects.exists()


def test_a_new_candidate_replaces_the_last_and_a_stop_unloads_it(alice, bob, endpoint, runtime, settings, tmp_path):
    asset = endpoint.version.asset
    first = candidate(alice, asset, tmp_path, "1.1.0", seed=1)
    second = candidate(alice, asset, tmp_path, "1.2.0", seed=2)
    shadow_start(user=bob, endpoint=endpoint, version="1.1.0")
    endpoint_shadow_sync(endpoint_id=endpoint.pk)
    old = shadow_of(endpoint)
    new = shadow_start(user=bob, endpoint=endpoint, version="1.2.0")
    old.refresh_from_db()
    assert old.status == "stopping" and "Replaced by a shadow of 1.2.0" in old.status_reason
    endpoint_shadow_sync(endpoint_id=endpoint.pk)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == ("stopped", "ready") and old.stopped_at is not None
    assert runtime.models[SHADOW]["version"] == "1.2.0"
    folder = Path(settings.MODELHUB_RUNTIME_MODELS_DIR) / endpoint.name
    assert sorted(p.name for p in folder.iterdir()) == sorted([endpoint.version.sha256, second.sha256])
    assert first.sha256 != second.sha256

    # A task that lost a race left the runtime serving the old candidate: the next pass loads the wanted one.
    runtime.models[SHADOW]["version"] = "1.1.0"
    endpoint_shadow_sync(endpoint_id=endpoint.pk)
    assert runtime.models[SHADOW]["version"] == "1.2.0"

    stopped = shadow_stop(user=bob, endpoint=endpoint)
    assert stopped.status == "stopping" and "Stopped by bob" in stopped.status_reason
    endpoint_shadow_sync(endpoint_id=endpoint.pk)
    assert SHADOW not in runtime.models and endpoint.name in runtime.models
    assert shadow_of(endpoint).status == "stopped"
    assert [p.name for p in folder.iterdir()] == [endpoint.version.sha256]


def test_a_candidate_the_runtime_refuses_fails_with_the_runtimes_reason(alice, bob, endpoint, runtime, tmp_path):
    cand = candidate(alice, endpoint.version.asset, tmp_path, "1.1.0", seed=1)
    runtime.corrupt_binary = True  # answers that differ between JSON and binary: the conformance check fails
    shadow_start(user=bob, endpoint=endpoint, version=cand.version)
    endpoint_shadow_sync(endpoint_id=endpoint.pk)
    shadow = shadow_of(endpoint)
    assert shadow.status == "failed" and "not as it was validated" in shadow.status_reason
    assert SHADOW not in runtime.models  # unloaded again
    runtime.corrupt_binary = False
    # A failed shadow can be started again.
    assert shadow_start(user=bob, endpoint=endpoint, version=cand.version).pk != shadow.pk


def test_shadows_end_when_promoted_rejected_or_the_endpoint_is_deleted(
    alice, bob, dave, endpoint, runtime, tmp_path, django_capture_on_commit_callbacks
):
    asset = endpoint.version.asset
    promoted = candidate(alice, asset, tmp_path, "1.1.0", seed=1)
    shadow_start(user=bob, endpoint=endpoint, version="1.1.0")
    endpoint_shadow_sync(endpoint_id=endpoint.pk)
    # Approved while shadowing: the shadow goes on; then the endpoint serves it itself, and the shadow ends.
    approve(promoted, submitter=bob, reviewer=dave, signature=None)
    assert shadow_of(endpoint).status == "ready"
    endpoint_update(user=bob, endpoint=endpoint, version="1.1.0")
    with django_capture_on_commit_callbacks(execute=True):
        endpoint_provision(endpoint_id=endpoint.pk, task_id="t2")
    shadow = shadow_of(endpoint)
    assert shadow.status == "stopping" and "serves 1.1.0 itself now" in shadow.status_reason

    # A rejected candidate stops shadowing.
    rejected = candidate(alice, asset, tmp_path, "1.2.0", seed=2)
    shadow_start(user=bob, endpoint=endpoint, version="1.2.0")
    version_submit(user=bob, version=rejected)
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(user=dave, version=rejected, decision="reject", comment="Worse on the holdout.")
    shadow = shadow_of(endpoint)
    assert shadow.version_id == rejected.pk and shadow.status == "stopping" and "rejected" in shadow.status_reason

    # Deleting the endpoint unloads its shadow with it.
    candidate(alice, asset, tmp_path, "1.3.0", seed=3)
    shadow_start(user=bob, endpoint=endpoint, version="1.3.0")
    endpoint_shadow_sync(endpoint_id=endpoint.pk)
    assert runtime.models[SHADOW]["version"] == "1.3.0"
    endpoint_delete(user=bob, endpoint=endpoint)
    assert shadow_of(endpoint).status == "stopping"
    endpoint_provision(endpoint_id=endpoint.pk, task_id="t3")
    endpoint_shadow_sync(endpoint_id=endpoint.pk)
    assert runtime.models == {} and shadow_of(endpoint).status == "stopped"


def test_the_recovery_sweep_resends_shadow_work_left_behind(alice, bob, endpoint, tmp_path, monkeypatch):
    from django.utils import timezone

    sent = []
    monkeypatch.setattr("registry.endpoints.services.shadows.task_send", lambda name, *args: sent.append(args))
    candidate(alice, endpoint.version.asset, tmp_path, "1.1.0", seed=1)
    shadow_start(user=bob, endpoint=endpoint, version="1.1.0")
    assert shadows_recover_stalled() == []  # loading, but not for long
    later = timezone.now() + timezone.timedelta(minutes=3)
    assert shadows_recover_stalled(now=later) == [endpoint.pk] and sent == [(endpoint.pk,)]
    assert shadows_recover_stalled(now=later) == []  # the re-send resets the clock


def test_only_the_shadow_tasks_internal_key_may_call_a_shadow(bob, endpoint):
    _, public = endpoint_create(user=bob, team=endpoint.team, asset="vision/clf", version="1.0.0", name="other")[0]
    internal, raw = conformance_key_new(endpoint)
    public_key = EndpointKey.objects.filter(endpoint=endpoint, internal=False).first()
    assert runtime_authorize(model=SHADOW, credential_sha256=key_hash(raw)) == 200
    assert runtime_authorize(model=SHADOW, credential_sha256=public_key.key_hash) == 404
    assert runtime_authorize(model="other.shadow", credential_sha256=key_hash(raw)) == 404
    assert runtime_authorize(model="clf-1-0-0.canary", credential_sha256=key_hash(raw)) == 404
    assert runtime_authorize(model=endpoint.name, credential_sha256=public_key.key_hash) == 200


# ------------------------------------------------------------------------------- windows and their evidence


def _windows(endpoint, live_version, cand_version, *, rows: np.ndarray, start: int, shift: float = 0.0):
    """A live window and a shadow window as the runtime records them: the live model is argmax(x), the candidate
    argmax(x + shift on column 0), 4 rows per request."""
    live = Window(endpoint.name, live_version, start, 60, predictions=1000, rng=random.Random(1))
    shadow = Window(endpoint.name + ".shadow", cand_version, start, 60, predictions=1000, rng=random.Random(2))
    pending_live, pending_shadow = [], []
    for i in range(0, len(rows), 4):
        x = rows[i : i + 4].astype(np.float32)
        moved = x.copy()
        moved[:, 0] += shift
        live_out = {"label": x.argmax(axis=1)}
        shadow_out = {"label": moved.argmax(axis=1)}
        request_id = f"r-{start}-{i}"
        pending_live.append((request_id, {"x": x}, live_out, 0.002))
        pending_shadow.append((request_id, {"x": x}, shadow_out, 0.010))
        shadow.add_agreement(agreement(live_out, shadow_out))
    live.fold(pending_live)
    shadow.fold(pending_shadow)
    shadow.failures, shadow.shed = 2, 3
    return live.to_dict(), shadow.to_dict()


def test_shadow_windows_are_kept_apart_and_the_evidence_adds_up(alice, bob, endpoint, tmp_path):
    cand = candidate(alice, endpoint.version.asset, tmp_path, "1.1.0", seed=1)
    shadow_start(user=bob, endpoint=endpoint, version="1.1.0")
    # Both answer a label per row (the output roles the performance join reads come from the signatures).
    classifier = {**LINEAR_SIGNATURE, "outputs": [{"name": "label", "dtype": "int64", "shape": ["batch"]}]}
    AssetVersion.objects.filter(pk__in=[cand.pk, endpoint.version_id]).update(signature=classifier)
    cand.refresh_from_db()
    endpoint.refresh_from_db()
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(400, 4))
    start = 1_700_000_000 // 60 * 60
    posted = []
    for n in range(2):
        posted += _windows(
            endpoint, "1.0.0", "1.1.0", rows=rows[n * 200 : (n + 1) * 200], start=start + 60 * n, shift=1.0
        )
    stray = {**posted[1], "id": "stray-shadow-window", "version": "7.7.7"}  # a version the asset does not have
    assert windows_ingest(source="rt", windows=[*posted, stray]) == {"accepted": 4, "duplicates": 0, "dropped": 1}
    assert windows_ingest(source="rt", windows=posted)["duplicates"] == 4
    assert MonitoringWindow.objects.filter(endpoint=endpoint).count() == 2  # the live series has no shadow rows
    assert ShadowWindow.objects.filter(endpoint=endpoint, version=cand).count() == 2
    assert Prediction.objects.filter(endpoint=endpoint).count() == 100 == ShadowPrediction.objects.count()

    # Labels: the true class is argmax of x with column 0 moved by 0.5, between the two models.
    truth = {}
    for n in range(2):
        for i in range(0, 200, 4):
            x = rows[n * 200 + i : n * 200 + i + 4].copy()
            x[:, 0] += 0.5
            truth[f"r-{start + 60 * n}-{i}"] = x.argmax(axis=1).tolist()
    ground_truth_record(user=bob, endpoint=endpoint, items=[{"request_id": k, "value": v} for k, v in truth.items()])
    evidence = shadow_evidence(version=cand, endpoints=[endpoint])
    moved = rows.copy()
    moved[:, 0] += 1.0
    differ = float((rows.argmax(axis=1) != moved.argmax(axis=1)).mean())
    assert evidence["windows"] == 2 and evidence["requests"] == 100 and evidence["rows"] == 400
    assert (evidence["failures"], evidence["shed"]) == (4, 6)
    assert evidence["failure_rate"] == pytest.approx(4 / 104)
    assert evidence["agreement"]["label"]["rows"] == 400
    assert evidence["agreement"]["label"]["disagreement_rate"] == pytest.approx(differ)
    assert evidence["latency_ms"]["p50"] == pytest.approx(10.0, rel=0.01)
    assert evidence["live_latency_ms"]["p50"] == pytest.approx(2.0, rel=0.01)
    labels = np.concatenate([truth[k] for k in sorted(truth)])
    order = sorted(truth)
    by_id = {f"r-{start + 60 * n}-{i}": rows[n * 200 + i : n * 200 + i + 4] for n in range(2) for i in range(0, 200, 4)}
    live_labels = np.concatenate([by_id[k].argmax(axis=1) for k in order])
    cand_labels = np.concatenate([(by_id[k] + [1.0, 0, 0, 0]).argmax(axis=1) for k in order])
    performance = evidence["performance"]
    assert performance["candidate"]["labels"] == 400 == performance["live"]["labels"]
    assert performance["candidate"]["metrics"]["accuracy"] == pytest.approx(accuracy_score(labels, cand_labels))
    assert performance["live"]["metrics"]["accuracy"] == pytest.approx(accuracy_score(labels, live_labels))
    assert GroundTruth.objects.count() == 100


def test_a_malformed_shadow_window_refuses_the_post(alice, bob, endpoint, tmp_path):
    candidate(alice, endpoint.version.asset, tmp_path, "1.1.0", seed=1)
    _, shadow = _windows(endpoint, "1.0.0", "1.1.0", rows=np.ones((8, 4)), start=1_700_000_040)
    for bad in ({"agreement": {"label": {"rows": -1}}}, {"agreement": ["label"]}, {"shed": "many"}, {"shed": True}):
        with pytest.raises(InvalidInput):
            windows_ingest(source="rt", windows=[{**shadow, **bad}])
    assert not ShadowWindow.objects.exists()


# ------------------------------------------------------------------------------------------------------ API


def test_the_shadow_api(alice, bob, bob_api, charlie_api, endpoint, runtime, tmp_path):
    url = f"/api/v1/endpoints/{endpoint.pk}/shadow"
    assert bob_api.get(url).status_code == 404
    assert "has no shadow" in bob_api.get(url).json()["detail"]
    candidate(alice, endpoint.version.asset, tmp_path, "1.1.0", seed=1)
    assert bob_api.put(url, {"version": "1.1.0", "extra": 1}, format="json").status_code == 400
    assert bob_api.put(url, {"version": "not a version"}, format="json").status_code == 400
    assert charlie_api.put(url, {"version": "1.1.0"}, format="json").status_code == 404
    refused = bob_api.put(url, {"version": "1.0.0"}, format="json")
    assert refused.status_code == 409 and "serves 1.0.0 already" in refused.json()["detail"]

    started = bob_api.put(url, {"version": "1.1.0"}, format="json")
    assert started.status_code == 202, started.json()
    body = started.json()
    assert (body["version"], body["live_version"], body["status"], body["created_by"]) == (
        "1.1.0",
        "1.0.0",
        "loading",
        "bob",
    )
    assert body["evidence"]["windows"] == 0 and body["evidence"]["latency_ms"] == {
        "p50": None,
        "p95": None,
        "p99": None,
    }
    endpoint_shadow_sync(endpoint_id=endpoint.pk)
    assert bob_api.get(url).json()["status"] == "ready"
    detail = bob_api.get(f"/api/v1/endpoints/{endpoint.pk}/").json()
    assert detail["shadow"]["version"] == "1.1.0" and detail["shadow"]["status"] == "ready"
    stopped = bob_api.delete(url)
    assert stopped.status_code == 202 and stopped.json()["status"] == "stopping"
    assert bob_api.delete(url).status_code == 404
    assert bob_api.get(f"/api/v1/endpoints/{endpoint.pk}/").json()["shadow"] is None


def test_the_review_page_shows_the_evidence_and_names_only_endpoints_the_reviewer_may_see(
    alice, bob, dave, endpoint, runtime, tmp_path, client
):
    cand = candidate(alice, endpoint.version.asset, tmp_path, "1.1.0", seed=1)
    shadow_start(user=bob, endpoint=endpoint, version="1.1.0")
    endpoint_shadow_sync(endpoint_id=endpoint.pk)
    version_submit(user=bob, version=cand)
    live, shadow = _windows(
        endpoint, "1.0.0", "1.1.0", rows=np.random.default_rng(3).normal(size=(40, 4)), start=1_700_000_040, shift=1.0
    )
    windows_ingest(source="rt", windows=[live, shadow])
    url = f"/reviews/{endpoint.version.asset.full_slug}/1.1.0/"

    client.force_login(dave)  # a reviewer outside the team
    page = client.get(url).content.decode()
    assert "Evidence from live traffic" in page and "an endpoint of another team" in page
    assert endpoint.name not in page and "10 (40 rows)" in page
    client.force_login(alice)
    page = client.get(url).content.decode()
    assert f">{endpoint.name}</a>" in page and "an endpoint of another team" not in page
