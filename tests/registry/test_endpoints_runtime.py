"""The whole serving path for real: the portal (live server), a Celery worker, and the runtime process.

An approved version is deployed through the API; the worker provisions it on `python -m registry.runtime`,
which asks the live portal about every credential; a `tritonclient.http` client then calls the endpoint
(binary outputs, as tritonclient asks by default, and JSON) and gets onnxruntime's own numbers.
"""

import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from registry.versions.models import AssetVersion
from tests.registry.endpoint_fixtures import approved_model
from tests.registry.runtime_process import live_runtime, live_runtime_worker_env  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture
def celery_worker_env(live_runtime_worker_env):
    return live_runtime_worker_env


def test_deploy_then_call_with_tritonclient(
    celery_worker, live_runtime, alice, bob, dave, team, tmp_path, bob_api, settings
):
    url, port, log = live_runtime
    version = approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)
    created = bob_api.post(
        "/api/v1/endpoints/",
        {"team": "vision", "asset": "vision/clf", "version": "1.0.0", "settings": {"max_batch_size": 8}},
        format="json",
    )
    assert created.status_code == 202, created.json()
    detail = f"/api/v1/endpoints/{created.json()['id']}/"
    deadline = time.monotonic() + 60
    while (data := bob_api.get(detail).json())["status"] in ("pending", "provisioning"):
        assert time.monotonic() < deadline, celery_worker.log_path.read_text()[-3000:] + log.read_text()[-3000:]
        time.sleep(0.25)
    assert data["status"] == "ready", (data["status_reason"], log.read_text()[-3000:])
    name, key = data["name"], created.json()["key"]

    client = triton.InferenceServerClient(f"127.0.0.1:{port}")

    def headers() -> dict:  # a new dict each call: tritonclient adds its own headers to the one it is given
        return {"Authorization": f"Bearer {key}"}

    metadata = client.get_model_metadata(name, headers=headers())
    assert metadata["platform"] == "onnx_onnxv1" and metadata["inputs"][0]["shape"] == [-1, 4]

    rows = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    tensor = triton.InferInput("x", list(rows.shape), "FP32")
    tensor.set_data_from_numpy(rows)  # binary input
    binary = client.infer(name, [tensor], headers=headers()).as_numpy("y")  # binary outputs by default
    json_tensor = triton.InferInput("x", list(rows.shape), "FP32")
    json_tensor.set_data_from_numpy(rows, binary_data=False)
    as_json = client.infer(
        name, [json_tensor], outputs=[triton.InferRequestedOutput("y", binary_data=False)], headers=headers()
    ).as_numpy("y")
    files = AssetVersion.objects.get(pk=version.pk).files.get()
    model_path = Path(settings.MODELHUB_RUNTIME_MODELS_DIR) / name / version.sha256 / files.path
    expected = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"]).run(None, {"x": rows})[0]
    np.testing.assert_array_equal(binary, expected)
    np.testing.assert_allclose(as_json, expected, rtol=1e-6)

    # Without a credential: 401; with a revoked key: refused within the cache's time (1 s here).
    with pytest.raises(InferenceServerException, match="401"):
        client.infer(name, [tensor])
    key_id = bob_api.get(f"{detail}keys/").json()["results"][0]["id"]
    assert bob_api.delete(f"{detail}keys/{key_id}/").status_code == 204
    time.sleep(1.5)
    with pytest.raises(InferenceServerException, match="401"):
        client.infer(name, [tensor], headers=headers())
