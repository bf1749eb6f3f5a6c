"""The runtime host killed while endpoints serve, then started again: while it is down the API and the portal show
the endpoints as unavailable (their status stays `ready`: nothing about the deployment changed), and once the
runtime is back on its state folder every endpoint is loaded again and answers, with no redeploy; on a new host
(no state folder) the recovery sweep has the worker load them again."""

import shutil
import time

import pytest
import requests

from registry.endpoints.tasks import endpoints_recover_task
from tests.conftest import kill_worker, report_figure, wait_until
from tests.registry.endpoint_fixtures import approved_model, worker_env_for_runtime
from tests.registry.runtime_process import free_port, start_runtime

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]
NAMES = ("scorer-a", "scorer-b")
INFER = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [0.5, 1.0, -1.0, 2.0]}]}


@pytest.fixture
def runtime_host(live_server, tmp_path):
    """The runtime's port, state folder and log, and its first process (`host.process`, replaced by restarts)."""

    class Host:
        port, state, log = free_port(), tmp_path / "runtime-state", tmp_path / "runtime.log"
        url = f"http://127.0.0.1:{port}"

        def start(self):
            self.process = start_runtime(self.port, self.state, self.log, portal_url=live_server.url)

    host = Host()
    host.start()
    yield host
    host.process.terminate()
    host.process.wait(timeout=20)


@pytest.fixture
def celery_worker_env(runtime_host, settings, tmp_path):
    return worker_env_for_runtime(runtime_host.url, settings, tmp_path)


def _answers(url: str, key: str) -> bool:
    try:
        return requests.post(f"{url}/infer", json=INFER, headers={"Authorization": f"Bearer {key}"}, timeout=5).ok
    except requests.RequestException:
        return False


def test_a_killed_runtime_shows_unavailable_then_serves_every_endpoint_again(
    celery_worker, runtime_host, alice, bob, dave, team, tmp_path, bob_api, client_for, settings
):
    settings.MODELHUB_RUNTIME_URL = runtime_host.url
    approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)
    endpoints = {}
    for name in NAMES:
        created = bob_api.post(
            "/api/v1/endpoints/",
            {"team": "vision", "asset": "vision/clf", "version": "1.0.0", "name": name},
            format="json",
        )
        assert created.status_code == 202, created.json()
        endpoints[name] = (f"/api/v1/endpoints/{created.json()['id']}/", created.json()["key"])
    for detail, _ in endpoints.values():
        ready = wait_until(
            lambda d=detail: (data := bob_api.get(d).json())["status"] not in ("pending", "provisioning") and data,
            timeout=90,
            log=celery_worker.log_path,
        )
        assert ready["status"] == "ready" and ready["serving"] is True, (ready, runtime_host.log.read_text()[-2000:])
    urls = {name: bob_api.get(detail).json()["url"] for name, (detail, _) in endpoints.items()}
    assert all(_answers(urls[name], key) for name, (_, key) in endpoints.items())

    kill_worker(runtime_host.process)  # the runtime and its model processes, as a lost host
    portal = client_for(bob)
    portal.force_login(bob)
    for detail, _ in endpoints.values():
        down = wait_until(lambda d=detail: (data := bob_api.get(d).json())["serving"] is False and data, timeout=15)
        assert down["status"] == "ready" and "did not answer" in down["serving_reason"]
        assert down["request_count"] is None
    listed = bob_api.get("/api/v1/endpoints/").json()["results"]
    assert [e["serving"] for e in listed] == [False, False]
    page = portal.get("/endpoints/").content.decode()
    assert page.count('data-endpoint-status="unavailable"') == 2 and 'data-endpoint-status="ready"' not in page
    status = portal.get(f"/endpoints/{listed[0]['id']}/status").content.decode()
    assert "Unavailable" in status and "did not answer" in status

    started = time.monotonic()
    runtime_host.start()  # the same state folder: what a restarted host or a rescheduled pod with its volume has
    wait_until(lambda: all(_answers(urls[n], key) for n, (_, key) in endpoints.items()), timeout=60, every=0.1)
    answering = time.monotonic() - started
    for detail, _ in endpoints.values():
        assert wait_until(lambda d=detail: bob_api.get(d).json()["serving"] is True, timeout=15)
    page = portal.get("/endpoints/").content.decode()
    assert page.count('data-endpoint-status="ready"') == 2

    # A new host: the runtime starts without its state folder. The sweep sees the ready endpoints it lost and the
    # worker loads them again, with no redeploy by their team.
    kill_worker(runtime_host.process)
    shutil.rmtree(runtime_host.state)
    started = time.monotonic()
    runtime_host.start()
    wait_until(
        lambda: all(_answers(urls[n], key) for n, (_, key) in endpoints.items()),
        timeout=120,
        tick=endpoints_recover_task,  # what celery beat runs every MODELHUB_RECOVERY_INTERVAL
        log=celery_worker.log_path,
    )
    fresh = time.monotonic() - started
    assert {bob_api.get(d).json()["status"] for d, _ in endpoints.values()} == {"ready"}
    report_figure(f"runtime restarted: {len(NAMES)} endpoints reloaded and answering {answering:.1f} s after its start; "
          f"on a new host (no state) {fresh:.1f} s, loaded again by the sweep and the worker")  # fmt: skip
