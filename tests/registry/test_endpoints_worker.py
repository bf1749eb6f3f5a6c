"""An endpoint provisioned end to end by a real Celery worker against the fake V2 runtime, which asks the
portal's authorize service about every credential (the check's own key included)."""

import time

import pytest
import requests

from tests.registry.endpoint_fixtures import approved_model, authorizing_runtime, runtime_worker_env  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture
def celery_worker_env(runtime_worker_env):
    return {**runtime_worker_env}


def test_the_worker_provisions_an_endpoint(
    celery_worker, authorizing_runtime, alice, bob, dave, team, tmp_path, bob_api, charlie_api
):
    approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)
    created = bob_api.post(
        "/api/v1/endpoints/", {"team": "vision", "asset": "vision/clf", "version": "1.0.0"}, format="json"
    )
    assert created.status_code == 202
    detail = f"/api/v1/endpoints/{created.json()['id']}/"
    deadline = time.monotonic() + 60
    while (data := bob_api.get(detail).json())["status"] in ("pending", "provisioning"):
        assert time.monotonic() < deadline, celery_worker.log_path.read_text()[-3000:]
        time.sleep(0.25)
    assert data["status"] == "ready", data["status_reason"]
    assert data["request_count"] == 2

    infer = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [0.5, 1.0, -1.0, 2.0]}]}
    key = created.json()["key"]
    answer = requests.post(f"{data['url']}/infer", json=infer, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert answer.status_code == 200 and answer.json()["outputs"][0]["shape"] == [1, 3]
    charlie_token = charlie_api._credentials["HTTP_AUTHORIZATION"]
    refused = requests.post(f"{data['url']}/infer", json=infer, headers={"Authorization": charlie_token}, timeout=10)
    assert refused.status_code == 404
