"""The whole serving path for real: the portal (live server), a Celery worker, and the runtime process.

An approved version is deployed through the API; the worker provisions it on `python -m registry.runtime`,
which asks the live portal about every credential; a `tritonclient.http` client then calls the endpoint
(binary outputs, as tritonclient asks by default, and JSON) and gets onnxruntime's own numbers.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.http as triton
from django.conf import settings as django_settings
from tritonclient.utils import InferenceServerException

from registry.versions.models import AssetVersion
from tests.conftest import REPO
from tests.registry.endpoint_fixtures import approved_model

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def runtime(live_server, tmp_path):
    """The real runtime on a free port, asking the live portal about credentials."""
    port = free_port()
    log = open(tmp_path / "runtime.log", "w")
    env = {**os.environ, "MODELHUB_RUNTIME_SECRET": django_settings.MODELHUB_RUNTIME_SECRET,
           "MODELHUB_RUNTIME_AUTH_TTL": "1"}
    process = subprocess.Popen([sys.executable, "-m", "registry.runtime", "--port", str(port), "--state-dir",
                                str(tmp_path / "runtime-state"), "--portal-url", live_server.url],
                               cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    client = triton.InferenceServerClient(f"127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while True:
        try:
            if client.is_server_live():
                break
        except Exception:
            pass
        assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "runtime.log").read_text()
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}", port, tmp_path / "runtime.log"
    process.terminate()
    process.wait(timeout=20)
    log.close()


@pytest.fixture
def celery_worker_env(runtime, settings, tmp_path):
    url, _port, _log = runtime
    settings.MODELHUB_RUNTIME_MODELS_DIR = str(tmp_path / "runtime-models")
    return {"MODELHUB_RUNTIME_URL": url, "MODELHUB_RUNTIME_PUBLIC_URL": url,
            "MODELHUB_RUNTIME_MODELS_DIR": settings.MODELHUB_RUNTIME_MODELS_DIR,
            "MODELHUB_RUNTIME_SECRET": settings.MODELHUB_RUNTIME_SECRET}


def test_deploy_then_call_with_tritonclient(celery_worker, runtime, alice, bob, dave, team, tmp_path, bob_api,
                                            settings):
    url, port, log = runtime
    version = approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)
    created = bob_api.post("/api/v1/endpoints/", {"team": "vision", "asset": "vision/clf", "version": "1.0.0",
                                                  "settings": {"max_batch_size": 8}}, format="json")
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
    as_json = client.infer(name, [json_tensor], outputs=[triton.InferRequestedOutput("y", binary_data=False)],
                           headers=headers()).as_numpy("y")
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
