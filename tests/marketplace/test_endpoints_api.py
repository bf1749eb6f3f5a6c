"""Inference endpoints over the API: owner, teammate and outsider."""

import pytest

from registry.endpoints.models import Endpoint
from registry.endpoints.services import endpoint_provision
from tests.factories import make_asset, make_validated_version
from tests.registry.endpoint_fixtures import approved_model
from tests.registry.fake_runtime import fake_runtime

pytestmark = pytest.mark.django_db
E = "/api/v1/endpoints/"


@pytest.fixture
def v1(alice, bob, dave, team, tmp_path, settings):
    settings.MODELHUB_RUNTIME_MODELS_DIR = str(tmp_path / "runtime-models")
    return approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)


def deploy(client, **body):
    body = {"team": "vision", "asset": "vision/clf", "version": "1.0.0", **body}
    return client.post(E, {k: v for k, v in body.items() if v is not None}, format="json")


def test_members_deploy_and_read_outsiders_see_nothing(v1, alice_api, bob_api, charlie_api):
    response = deploy(bob_api, settings={"max_batch_size": 8}, visibility="internal")
    assert response.status_code == 202, response.json()
    created = response.json()
    assert created["status"] == "pending" and created["key"].startswith("mhe_") and created["also_created"] == []
    assert created["settings"]["max_batch_size"] == 8 and created["settings"]["replicas"] == 1
    assert created["signature_key_id"] and created["created_by"] == "bob" and created["visibility"] == "internal"
    detail = f"{E}{created['id']}/"

    assert [e["name"] for e in alice_api.get(E).json()["results"]] == ["clf-1-0-0"]
    read = alice_api.get(detail).json()
    assert read["status"] == "pending" and read["request_count"] is None and read["latency_p95_ms"] is None
    assert charlie_api.get(E).json()["results"] == []
    for method in ("get", "delete"):
        assert getattr(charlie_api, method)(detail).status_code == 404
    assert charlie_api.patch(detail, {"version": "1.0.0"}, format="json").status_code == 404
    assert charlie_api.get(f"{detail}keys/").status_code == 404
    assert deploy(charlie_api, name="mine").status_code == 404  # not a member of 'vision'


def test_refusals(v1, alice, team, tmp_path, bob_api):
    make_validated_version(alice, v1.asset, tmp_path, version="2.0.0")
    unapproved = deploy(bob_api, version="2.0.0")
    assert unapproved.status_code == 409 and unapproved.json()["code"] == "not_approved"
    assert deploy(bob_api, version=None, alias="production").status_code == 404  # no such alias
    assert deploy(bob_api, version="9.9.9").status_code == 404
    assert deploy(bob_api, alias="staging").status_code == 400  # both version and alias
    assert deploy(bob_api, settings={"max_batch_size": 999}).status_code == 400
    assert deploy(bob_api, settings={"gpus": 1}).status_code == 400
    assert deploy(bob_api, name="Not A Name").status_code == 400
    make_asset(alice, team, kind="dataset", slug="rows", license="MIT")
    assert deploy(bob_api, asset="vision/rows").status_code in (400, 404)
    assert deploy(bob_api, asset="nope").status_code == 400
    assert deploy(bob_api, name="taken").status_code == 202
    taken = deploy(bob_api, name="taken")
    assert taken.status_code == 409 and taken.json()["code"] == "name_taken"


def test_keys_update_and_delete(v1, alice, bob, dave, team, tmp_path, bob_api, charlie_api, settings):
    created = deploy(bob_api).json()
    detail = f"{E}{created['id']}/"
    key = bob_api.post(f"{detail}keys/")
    assert key.status_code == 201 and key.json()["key"].startswith("mhe_")
    listed = bob_api.get(f"{detail}keys/").json()["results"]
    assert len(listed) == 2 and "key" not in listed[0]
    assert charlie_api.delete(f"{detail}keys/{key.json()['id']}/").status_code == 404
    assert bob_api.delete(f"{detail}keys/{key.json()['id']}/").status_code == 204
    assert bob_api.delete(f"{detail}keys/{key.json()['id']}/").status_code == 404
    assert len(bob_api.get(f"{detail}keys/").json()["results"]) == 1

    with fake_runtime(settings) as runtime:
        endpoint_provision(endpoint_id=created["id"], task_id="t1")
        ready = bob_api.get(detail).json()
        assert ready["status"] == "ready" and ready["url"] == f"{runtime.url}/v2/models/clf-1-0-0"
        assert ready["request_count"] == 2 and ready["latency_p50_ms"] is not None
        assert ready["requests_last_hour"] == 2 and sum(minute["requests"] for minute in ready["traffic"]) == 2

    approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave, version="1.1.0", asset=v1.asset)
    assert bob_api.patch(detail, {}, format="json").status_code == 400
    assert bob_api.patch(detail, {"name": "x"}, format="json").status_code == 400
    updated = bob_api.patch(detail, {"version": "1.1.0"}, format="json")
    assert updated.status_code == 202 and updated.json()["status"] == "updating"
    assert updated.json()["version"] == "1.1.0"
    deleted = bob_api.delete(detail)
    assert deleted.status_code == 202 and deleted.json()["status"] == "deleting"
    assert bob_api.patch(detail, {"version": "1.0.0"}, format="json").status_code == 409
    assert Endpoint.objects.get(pk=created["id"]).keys.filter(revoked_at=None).count() == 0


def test_an_asset_with_live_endpoints_cannot_be_deleted(v1, alice_api, bob_api):
    created = deploy(bob_api).json()
    refused = alice_api.delete("/api/v1/assets/vision/clf/")
    assert refused.status_code == 409 and "clf-1-0-0" in refused.json()["detail"]
    Endpoint.objects.filter(pk=created["id"]).update(status="deleted")
    assert alice_api.delete("/api/v1/assets/vision/clf/").status_code == 204
    assert not Endpoint.objects.exists()
