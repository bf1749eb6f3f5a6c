"""A Celery worker SIGKILLed while it provisions an endpoint (copying and hashing a 1 GiB version into the runtime's
models folder) is replaced within seconds: the claim's heartbeat stops, once its lease has run out the recovery sweep
sends the work to a new worker, and that worker records the one outcome. No process of the killed worker is left."""

import time
from pathlib import Path

import psutil
import pytest
import requests

from registry.endpoints.models import Endpoint
from tests.conftest import (
    kill_worker,
    process_gone,
    replacement_worker,
    report_figure,
    wait_until,
)
from tests.factories import add_big_file, make_asset, make_validated_version
from tests.registry.endpoint_fixtures import approve, authorizing_runtime, runtime_worker_env  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]
LEASE = {"MODELHUB_CLAIM_LEASE": "6", "MODELHUB_HEARTBEAT_INTERVAL": "1"}


@pytest.fixture
def celery_worker_env(runtime_worker_env):
    return {**runtime_worker_env, **LEASE}


def test_a_worker_killed_mid_provisioning_is_replaced_within_seconds(
    celery_worker, celery_worker_env, alice, bob, dave, team, bob_api, settings, tmp_path
):
    from registry.endpoints.tasks import endpoints_recover_task
    from registry.kernel.audit.models import AuditEvent

    settings.MODELHUB_CLAIM_LEASE = int(LEASE["MODELHUB_CLAIM_LEASE"])
    version = make_validated_version(alice, make_asset(alice, team, slug="clf", license="MIT"), tmp_path)
    add_big_file(version)  # before the approval: the signature covers it, and provisioning copies and hashes it
    approve(version, submitter=bob, reviewer=dave)
    created = bob_api.post(
        "/api/v1/endpoints/", {"team": "vision", "asset": "vision/clf", "version": "1.0.0"}, format="json"
    )
    assert created.status_code == 202
    endpoint = Endpoint.objects.get(pk=created.json()["id"])
    folder = Path(settings.MODELHUB_RUNTIME_MODELS_DIR) / endpoint.name
    # The 1 GiB copy lasts about a second (then its hashing as long again): kill the worker once it has started.
    wait_until(lambda: any(folder.glob(".incoming-*/weights.bin")), timeout=90, every=0.05, log=celery_worker.log_path)
    processes = [psutil.Process(celery_worker.pid), *psutil.Process(celery_worker.pid).children(recursive=True)]
    killed_at = kill_worker(celery_worker)
    psutil.wait_procs(processes, timeout=5)
    assert all(process_gone(p) for p in processes), "a process of the killed worker is still running"
    assert not (folder / version.sha256).exists()  # killed in the middle of the copying
    endpoint.refresh_from_db()
    assert endpoint.status == "provisioning" and endpoint.task_id  # the dead worker's claim is still there

    with replacement_worker(tmp_path, celery_worker_env) as replacement:
        wait_until(
            lambda: Endpoint.objects.filter(pk=endpoint.pk).exclude(status="provisioning").exists(),
            timeout=120,
            tick=endpoints_recover_task,  # what celery beat runs every MODELHUB_RECOVERY_INTERVAL
            log=replacement.log_path,
        )
        recovered = time.monotonic() - killed_at
    endpoint.refresh_from_db()
    assert endpoint.status == "ready" and endpoint.attempts == 2, endpoint.status_reason
    assert AuditEvent.objects.filter(action="endpoint.ready", target_id=str(endpoint.pk)).count() == 1
    # The killed worker's half-copied .incoming-* folder is removed with the other leftovers once the deploy is done.
    assert [child.name for child in folder.iterdir()] == [version.sha256]

    infer = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [0.5, 1.0, -1.0, 2.0]}]}
    key = created.json()["key"]
    answer = requests.post(f"{endpoint.url}/infer", json=infer, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert answer.status_code == 200 and answer.json()["outputs"][0]["shape"] == [1, 3]
    report_figure(
        f"provisioning recovered {recovered:.1f} s after its worker was killed (lease 6 s; a new worker started)"
    )
