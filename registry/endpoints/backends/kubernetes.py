"""The kubernetes backend: a KServe InferenceService per endpoint, served by Modelhub's own ServingRuntime.

The version's files are published to artifact storage under `runtime/{version sha256}/` (KServe's storage
initializer downloads that prefix into /mnt/models), and both resources are applied with server-side apply
(field manager `modelhub`), so applying again is harmless. The backend then polls the InferenceService
until its `Ready` condition is True.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.files import File

from registry.artifacts.storage import artifact_storage
from registry.endpoints.backends import DeployRefused, RuntimeUnavailable, model_settings

KSERVE_GROUP = "serving.kserve.io"
RUNTIME_NAME = "modelhub-runtime"
FIELD_MANAGER = "modelhub"
APPLY = "application/apply-patch+yaml"
POLL_SECONDS = 1.0


def runtime_prefix(version) -> str:
    return f"runtime/{version.sha256}"


def storage_uri(version) -> str:
    key = "/".join(part for part in (settings.S3_PREFIX, runtime_prefix(version)) if part)
    return f"s3://{settings.S3_BUCKET}/{key}/"


def serving_runtime_manifest() -> dict:
    return {
        "apiVersion": f"{KSERVE_GROUP}/v1alpha1",
        "kind": "ServingRuntime",
        "metadata": {
            "name": RUNTIME_NAME,
            "namespace": settings.MODELHUB_KUBERNETES_NAMESPACE,
            "labels": {"app.kubernetes.io/managed-by": "modelhub"},
        },
        "spec": {
            "supportedModelFormats": [{"name": "onnx", "version": "1", "autoSelect": True}],
            "protocolVersions": ["v2"],
            "containers": [
                {
                    "name": "kserve-container",
                    "image": settings.MODELHUB_RUNTIME_IMAGE,
                    # The image's entry point (deploy/container/entrypoint) runs the role named first.
                    "args": ["runtime-model", "--model-name={{.Name}}", "--model-dir=/mnt/models", "--http-port=8080"],
                    # The runtime asks the portal about credentials, with the secret the portal shares with it
                    # (a Kubernetes Secret holding MODELHUB_RUNTIME_SECRET's value: see deploy/production).
                    "env": [
                        {"name": "MODELHUB_PORTAL_URL", "value": settings.MODELHUB_PORTAL_URL},
                        {
                            "name": "MODELHUB_RUNTIME_SECRET",
                            "valueFrom": {
                                "secretKeyRef": {"name": settings.MODELHUB_KUBERNETES_RUNTIME_SECRET, "key": "secret"}
                            },
                        },
                    ],
                    "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                }
            ],
        },
    }


def inference_service_manifest(endpoint) -> dict:
    version = endpoint.version
    primary = next(f for f in version.files.all() if f.is_primary)
    params = model_settings(endpoint)
    replicas = (endpoint.settings or {}).get("replicas", 1)
    return {
        "apiVersion": f"{KSERVE_GROUP}/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": endpoint.name,
            "namespace": settings.MODELHUB_KUBERNETES_NAMESPACE,
            "labels": {"app.kubernetes.io/managed-by": "modelhub", "modelhub.dev/endpoint-id": str(endpoint.pk)},
            "annotations": {
                "modelhub.dev/asset": version.asset.full_slug,
                "modelhub.dev/version": version.version,
                "modelhub.dev/sha256": primary.blob.sha256,
            },
        },
        "spec": {
            "predictor": {
                "minReplicas": replicas,
                "maxReplicas": replicas,
                "model": {
                    "modelFormat": {"name": "onnx"},
                    "runtime": RUNTIME_NAME,
                    "protocolVersion": "v2",
                    "storageUri": storage_uri(version),
                    "env": [
                        {"name": "MODELHUB_MODEL_FILE", "value": primary.path},
                        {"name": "MODELHUB_MODEL_SHA256", "value": primary.blob.sha256},
                        {"name": "MODELHUB_MODEL_VERSION", "value": version.version},
                        {"name": "MODELHUB_MAX_BATCH_SIZE", "value": str(params["max_batch_size"])},
                        {"name": "MODELHUB_MAX_BATCH_DELAY_MS", "value": str(params["max_batch_delay_ms"])},
                        {"name": "MODELHUB_TIMEOUT_MS", "value": str(params["timeout_ms"])},
                    ],
                    "resources": {
                        "limits": {"memory": str(params["memory_limit_bytes"])},
                        "requests": {"memory": str(params["memory_limit_bytes"])},
                    },
                },
            }
        },
    }


def _api():
    from kubernetes import client, config

    configuration = client.Configuration()
    if settings.MODELHUB_KUBERNETES_CONFIG:
        config.load_kube_config(config_file=settings.MODELHUB_KUBERNETES_CONFIG, client_configuration=configuration)
    else:
        config.load_incluster_config(client_configuration=configuration)
    return client.CustomObjectsApi(client.ApiClient(configuration))


def _call(fn, *args, **kwargs):
    """One API call; an unreachable API server or a 5xx is RuntimeUnavailable, another refusal DeployRefused."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        return fn(*args, _request_timeout=30, **kwargs)
    except ApiException as exc:
        if exc.status >= 500 or exc.status == 429:
            raise RuntimeUnavailable(f"the Kubernetes API answered {exc.status}: {exc.reason}") from exc
        raise DeployRefused(
            f"Kubernetes refused the request ({exc.status} {exc.reason}): {(exc.body or '')[:500]}"
        ) from exc
    except HTTPError as exc:
        raise RuntimeUnavailable(f"the Kubernetes API could not be reached: {type(exc).__name__}") from exc


def _ready(obj: dict) -> tuple[bool, str]:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True", condition.get("message") or condition.get("reason") or ""
    return False, "no Ready condition yet"


class KubernetesBackend:
    def _publish(self, version, files_dir: Path) -> None:
        if not settings.S3_BUCKET:
            raise DeployRefused(
                "The kubernetes backend serves files from S3: set MODELHUB_S3_BUCKET (KServe's storage "
                "initializer cannot read the portal's local artifact folder)."
            )
        storage = artifact_storage()
        for version_file in version.files.all():
            name = f"{runtime_prefix(version)}/{version_file.path}"
            if not storage.exists(name):
                with open(files_dir / version_file.path, "rb") as fh:
                    storage.save(name, File(fh, name=Path(version_file.path).name))

    def deploy(self, endpoint, files_dir: Path) -> str:
        self._publish(endpoint.version, files_dir)
        api = _api()
        namespace = settings.MODELHUB_KUBERNETES_NAMESPACE
        _call(
            api.patch_namespaced_custom_object,
            KSERVE_GROUP,
            "v1alpha1",
            namespace,
            "servingruntimes",
            RUNTIME_NAME,
            serving_runtime_manifest(),
            field_manager=FIELD_MANAGER,
            force=True,
            _content_type=APPLY,
        )
        _call(
            api.patch_namespaced_custom_object,
            KSERVE_GROUP,
            "v1beta1",
            namespace,
            "inferenceservices",
            endpoint.name,
            inference_service_manifest(endpoint),
            field_manager=FIELD_MANAGER,
            force=True,
            _content_type=APPLY,
        )
        deadline = time.monotonic() + settings.MODELHUB_KUBERNETES_READY_TIMEOUT
        while True:
            obj = self._get(api, endpoint)
            ready, message = _ready(obj)
            if ready and (obj.get("status") or {}).get("url"):
                return f"{obj['status']['url'].rstrip('/')}/v2/models/{endpoint.name}"
            if time.monotonic() > deadline:
                raise DeployRefused(
                    f"The InferenceService '{endpoint.name}' was not Ready after "
                    f"{settings.MODELHUB_KUBERNETES_READY_TIMEOUT} s: {message}"
                )
            time.sleep(POLL_SECONDS)

    def _get(self, api, endpoint) -> dict:
        return _call(
            api.get_namespaced_custom_object,
            KSERVE_GROUP,
            "v1beta1",
            settings.MODELHUB_KUBERNETES_NAMESPACE,
            "inferenceservices",
            endpoint.name,
        )

    def remove(self, endpoint) -> None:
        try:
            _call(
                _api().delete_namespaced_custom_object,
                KSERVE_GROUP,
                "v1beta1",
                settings.MODELHUB_KUBERNETES_NAMESPACE,
                "inferenceservices",
                endpoint.name,
            )
        except DeployRefused as exc:
            if "(404 " not in str(exc):  # already gone is what we want
                raise

    def status(self, endpoint) -> dict:
        obj = self._get(_api(), endpoint)
        ready, message = _ready(obj)
        return {"name": endpoint.name, "state": "READY" if ready else "UNAVAILABLE", "reason": message}

    def states(self, endpoints) -> dict[int, dict]:
        """Each endpoint's InferenceService readiness ({pk: {"state", "reason"}}); never raises."""
        found = {}
        for endpoint in endpoints:
            try:
                found[endpoint.pk] = self.status(endpoint)
            except (RuntimeUnavailable, DeployRefused) as exc:
                found[endpoint.pk] = {"state": "UNAVAILABLE", "reason": str(exc)}
        return found

    def internal_url(self, endpoint) -> str:
        status = self._get(_api(), endpoint).get("status") or {}
        url = (status.get("address") or {}).get("url") or status.get("url") or ""
        return url.rstrip("/")

    def metrics(self, endpoint) -> None:
        """Not available: KServe's predictors give their figures to the cluster's monitoring (Prometheus scrapes
        the pods), which the portal does not read, so the endpoint's figures stay null."""
        return None


def published_copies_collect_garbage(*, older_than, dry_run: bool = False) -> list[str]:
    """Delete the `runtime/{sha256}/` copies that no live endpoint (in any state but deleted) serves or is
    about to serve, when their files are older than `older_than`. Returns the digests of the removed copies.

    The endpoint row names its version before the copy is published, so a deploy in flight always counts as
    live; the age threshold is a second guard for a copy being written while this runs."""
    from registry.endpoints.models import Endpoint, EndpointStatus

    storage = artifact_storage()
    try:
        digests, _ = storage.listdir("runtime")
    except (FileNotFoundError, NotADirectoryError):
        return []
    live = Endpoint.objects.exclude(status=EndpointStatus.DELETED)
    in_use = set(live.values_list("version__sha256", flat=True)) | set(
        live.exclude(deployed_version=None).values_list("deployed_version__sha256", flat=True)
    )
    removed = []
    for digest in sorted(set(digests) - in_use):
        files = _files_under(storage, f"runtime/{digest}")
        if any(storage.get_modified_time(name) >= older_than for name in files):
            continue
        if not dry_run:
            for name in files:
                storage.delete(name)
        removed.append(digest)
    return removed


def _files_under(storage, prefix: str) -> list[str]:
    folders, files = storage.listdir(prefix)
    names = [f"{prefix}/{name}" for name in files]
    for folder in folders:
        names += _files_under(storage, f"{prefix}/{folder}")
    return names
