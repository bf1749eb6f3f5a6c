"""The kubernetes backend against a recording fake Kubernetes API server on loopback (KServe cannot run here):
the official client's real REST calls, the manifests it applies, and the Ready polling."""

import json
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from registry.artifacts.storage import artifact_storage
from registry.endpoints.backends import DeployRefused
from registry.endpoints.backends.kubernetes import KubernetesBackend
from registry.endpoints.services import endpoint_create, endpoint_provision
from tests.registry.endpoint_fixtures import approved_model

pytestmark = pytest.mark.django_db
BASE = "/apis/serving.kserve.io"


class FakeKubernetes:
    """Answers the custom-object calls (apply, get, delete) and records each one."""

    def __init__(self, *, ready_after: int = 2):
        self.calls: list[dict] = []
        self.objects: dict[str, dict] = {}
        self.gets = 0
        self.ready_after = ready_after
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                call = {
                    "method": self.command,
                    "path": parts.path,
                    "query": parse_qs(parts.query),
                    "content_type": self.headers.get("Content-Type"),
                    "body": yaml.safe_load(raw) if raw else None,
                }
                fake.calls.append(call)
                return call

            def do_PATCH(self):
                call = self._record()
                fake.objects[call["path"]] = call["body"]
                self._answer(200, call["body"])

            def do_GET(self):
                call = self._record()
                obj = fake.objects.get(call["path"])
                if obj is None:
                    return self._answer(404, {"kind": "Status", "code": 404, "reason": "NotFound"})
                fake.gets += 1
                ready = fake.gets >= fake.ready_after
                name = obj["metadata"]["name"]
                status = {
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True" if ready else "False",
                            "reason": "" if ready else "PredictorNotReady",
                        }
                    ]
                }
                if ready:
                    status["url"] = f"http://{name}.modelhub.example.com"
                self._answer(200, {**obj, "status": status})

            def do_DELETE(self):
                call = self._record()
                if fake.objects.pop(call["path"], None) is None:
                    return self._answer(404, {"kind": "Status", "code": 404, "reason": "NotFound"})
                self._answer(200, {"kind": "Status", "status": "Success"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cluster(settings, tmp_path, _isolated_storage):
    fake = FakeKubernetes()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "test",
                "clusters": [{"name": "fake", "cluster": {"server": fake.url}}],
                "users": [{"name": "modelhub", "user": {"token": "test-token"}}],
                "contexts": [{"name": "test", "context": {"cluster": "fake", "user": "modelhub"}}],
            }
        )
    )
    settings.MODELHUB_KUBERNETES_CONFIG = str(kubeconfig)
    settings.MODELHUB_KUBERNETES_NAMESPACE = "models"
    settings.MODELHUB_RUNTIME_IMAGE = "registry.example.com/modelhub-runtime:1.2"
    settings.MODELHUB_ENDPOINT_BACKEND = "kubernetes"
    settings.MODELHUB_RUNTIME_MODELS_DIR = str(tmp_path / "runtime-models")
    settings.S3_BUCKET = "models-bucket"
    yield fake
    fake.stop()
    # The artifact folder is shared by the session: leave no published copies for other tests to trip on.
    shutil.rmtree(_isolated_storage / "runtime", ignore_errors=True)


def test_deploy_applies_the_runtime_and_the_inference_service_then_waits_for_ready(
    alice, bob, dave, team, tmp_path, cluster, monkeypatch
):
    monkeypatch.setattr("registry.endpoints.backends.kubernetes.POLL_SECONDS", 0.01)
    version = approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)
    ((endpoint, _),) = endpoint_create(
        user=bob,
        team=team,
        asset="vision/clf",
        version="1.0.0",
        name="clf",
        settings={"replicas": 3, "memory_limit": 1 << 30},
    )
    assert endpoint.backend == "kubernetes"
    files_dir = tmp_path / "files"
    files_dir.mkdir()
    (files_dir / "model.onnx").write_bytes(
        artifact_storage().open(f"blobs/sha256/{version.sha256[:2]}/{version.sha256[2:4]}/{version.sha256}").read()
    )

    url = KubernetesBackend().deploy(endpoint, files_dir)
    assert url == "http://clf.modelhub.example.com/v2/models/clf"
    runtime_call, isvc_call, *gets = cluster.calls
    for call in (runtime_call, isvc_call):
        assert call["method"] == "PATCH" and call["content_type"] == "application/apply-patch+yaml"
        assert call["query"]["fieldManager"] == ["modelhub"] and call["query"]["force"][0].lower() == "true"
    assert runtime_call["path"] == f"{BASE}/v1alpha1/namespaces/models/servingruntimes/modelhub-runtime"
    container = runtime_call["body"]["spec"]["containers"][0]
    assert runtime_call["body"]["kind"] == "ServingRuntime" and runtime_call["body"]["spec"]["protocolVersions"] == [
        "v2"
    ]
    assert container["image"] == "registry.example.com/modelhub-runtime:1.2"
    assert "command" not in container and container["args"][0] == "runtime-model"  # the image's role

    assert isvc_call["path"] == f"{BASE}/v1beta1/namespaces/models/inferenceservices/clf"
    isvc = isvc_call["body"]
    assert isvc["apiVersion"] == "serving.kserve.io/v1beta1" and isvc["kind"] == "InferenceService"
    predictor = isvc["spec"]["predictor"]
    assert predictor["minReplicas"] == predictor["maxReplicas"] == 3
    assert predictor["model"]["modelFormat"] == {"name": "onnx"} and predictor["model"]["runtime"] == "modelhub-runtime"
    assert predictor["model"]["storageUri"] == f"s3://models-bucket/runtime/{version.sha256}/"
    assert predictor["model"]["resources"]["limits"]["memory"] == str(1 << 30)
    assert isvc["metadata"]["annotations"]["modelhub.dev/version"] == "1.0.0"
    assert [g["method"] for g in gets] == ["GET", "GET"]  # polled until Ready
    # The files were published where the storage initializer reads them.
    assert artifact_storage().exists(f"runtime/{version.sha256}/model.onnx")

    KubernetesBackend().remove(endpoint)
    KubernetesBackend().remove(endpoint)  # gone already: fine
    assert [c["method"] for c in cluster.calls[-2:]] == ["DELETE", "DELETE"]


def test_without_s3_the_deploy_is_refused_with_a_reason(alice, bob, dave, team, tmp_path, cluster, settings):
    settings.S3_BUCKET = ""
    approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)
    ((endpoint, _),) = endpoint_create(user=bob, team=team, asset="vision/clf", version="1.0.0")
    endpoint_provision(endpoint_id=endpoint.pk, task_id="t1")
    endpoint.refresh_from_db()
    assert endpoint.status == "failed" and "MODELHUB_S3_BUCKET" in endpoint.status_reason
    assert [c["method"] for c in cluster.calls] == ["DELETE"]  # nothing applied; the unload finds nothing
    with pytest.raises(DeployRefused):
        KubernetesBackend().deploy(endpoint, tmp_path)


def test_the_serving_runtime_container_starts_our_runtime_on_the_mounted_model(tmp_path, settings):
    """What KServe would run in the pod: the image's entry point (the ServingRuntime names no command) with the
    ServingRuntime's args over the storage-initializer's /mnt/models, with the InferenceService's env; the model
    answers without any load call. (tests/deploy/test_image.py runs the same role in the built image.)"""
    import hashlib
    import os
    import socket
    import subprocess
    import sys

    import onnx
    import requests

    from registry.endpoints.backends.kubernetes import serving_runtime_manifest
    from tests.conftest import REPO
    from tests.factories import linear_model

    container = serving_runtime_manifest()["spec"]["containers"][0]
    mounted = tmp_path / "mnt-models"
    mounted.mkdir()
    onnx.save(linear_model(), mounted / "model.onnx")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert "command" not in container and container["args"][0] == "runtime-model"
    args = [
        a.replace("{{.Name}}", "clf")
        .replace("/mnt/models", str(mounted))
        .replace("--http-port=8080", f"--http-port={port}")
        for a in container["args"]
    ]
    assert any(a.startswith("--model-dir=") for a in args) and "--model-name=clf" in args
    assert {e["name"] for e in container["env"]} == {"MODELHUB_PORTAL_URL", "MODELHUB_RUNTIME_SECRET"}
    key = "k" * 24
    env = {
        **os.environ,
        "MODELHUB_RUNTIME_SECRET": "s" * 24,
        "MODELHUB_MODEL_FILE": "model.onnx",
        "MODELHUB_MODEL_VERSION": "1.0.0",
        "MODELHUB_RUNTIME_KEYS": hashlib.sha256(key.encode()).hexdigest(),
        "MODELHUB_RUNTIME_STATE_DIR": str(tmp_path / "state"),
        "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",  # the image's venv comes first too
    }
    process = subprocess.Popen(
        [REPO / "deploy/container/entrypoint", *args, "--host=127.0.0.1"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/v2/models/clf"
        for _ in range(200):
            try:
                answer = requests.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.05)
        assert answer.status_code == 200 and answer.json()["versions"] == ["1.0.0"]
        infer = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}
        assert requests.post(f"{url}/infer", json=infer, headers={"Authorization": f"Bearer {key}"}, timeout=5).json()[
            "outputs"
        ][0]["shape"] == [1, 3]
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_blobs_gc_removes_published_copies_no_live_endpoint_serves(
    alice, bob, dave, team, tmp_path, cluster, monkeypatch
):
    from io import StringIO

    from django.core.files.base import ContentFile
    from django.core.management import call_command

    from registry.endpoints.models import Endpoint, EndpointStatus

    monkeypatch.setattr("registry.endpoints.backends.kubernetes.POLL_SECONDS", 0.01)
    version = approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)
    ((endpoint, _),) = endpoint_create(user=bob, team=team, asset="vision/clf", version="1.0.0", name="clf")
    files_dir = tmp_path / "files"
    files_dir.mkdir()
    (files_dir / "model.onnx").write_bytes(b"onnx bytes")
    KubernetesBackend().deploy(endpoint, files_dir)
    stray = "f" * 64
    artifact_storage().save(f"runtime/{stray}/nested/model.onnx", ContentFile(b"an old version's copy"))

    def gc(*args):
        out = StringIO()
        call_command("blobs_gc", "--older-than-hours", "0", *args, stdout=out)
        return out.getvalue()

    assert f"would delete runtime/{stray}/" in gc("--dry-run")
    assert artifact_storage().exists(f"runtime/{stray}/nested/model.onnx")
    output = gc()
    assert f"deleted runtime/{stray}/" in output and version.sha256 not in output
    assert not artifact_storage().exists(f"runtime/{stray}/nested/model.onnx")
    assert artifact_storage().exists(f"runtime/{version.sha256}/model.onnx")  # the live endpoint's copy stays

    Endpoint.objects.filter(pk=endpoint.pk).update(status=EndpointStatus.DELETED)
    assert f"deleted runtime/{version.sha256}/" in gc()
    assert not artifact_storage().exists(f"runtime/{version.sha256}/model.onnx")


def test_a_kubernetes_endpoints_figures_are_not_available_and_the_cluster_is_not_asked(
    alice, bob, dave, team, tmp_path, cluster
):
    from registry.endpoints.models import Endpoint
    from registry.endpoints.selectors import endpoint_metrics

    approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)
    ((endpoint, _),) = endpoint_create(user=bob, team=team, asset="vision/clf", version="1.0.0", name="clf")
    Endpoint.objects.filter(pk=endpoint.pk).update(status="ready")
    endpoint.refresh_from_db()
    assert KubernetesBackend().metrics(endpoint) is None
    assert endpoint_metrics(endpoint=endpoint) == {
        "request_count": None,
        "requests_last_hour": None,
        "latency_p50_ms": None,
        "latency_p95_ms": None,
        "traffic": [],
    }
    assert cluster.calls == []


def test_a_kubernetes_endpoint_is_serving_while_its_inference_service_is_ready(
    alice, bob, dave, team, tmp_path, cluster
):
    from registry.endpoints.models import Endpoint
    from registry.endpoints.selectors import endpoints_serving

    approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)
    ((endpoint, _),) = endpoint_create(user=bob, team=team, asset="vision/clf", version="1.0.0", name="clf")
    Endpoint.objects.filter(pk=endpoint.pk).update(status="ready")
    endpoint.refresh_from_db()
    gone = KubernetesBackend().states([endpoint])[endpoint.pk]  # no InferenceService: the cluster says 404
    assert gone["state"] == "UNAVAILABLE" and "404" in gone["reason"]
    cluster.objects[f"{BASE}/v1beta1/namespaces/models/inferenceservices/clf"] = {"metadata": {"name": "clf"}}
    cluster.ready_after = 2
    assert KubernetesBackend().states([endpoint])[endpoint.pk] == {
        "name": "clf",
        "state": "UNAVAILABLE",
        "reason": "PredictorNotReady",
    }
    endpoints_serving([endpoint])
    assert endpoint.serving is True and endpoint.serving_reason == ""
