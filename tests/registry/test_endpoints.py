"""Inference endpoints: services and the provisioning task against a real (fake) V2 runtime on loopback."""

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from registry.artifacts.models import blob_key
from registry.endpoints.backends.prometheus import metrics_parse
from registry.endpoints.models import Endpoint, EndpointKey
from registry.endpoints.services import (
    endpoint_claim,
    endpoint_create,
    endpoint_delete,
    endpoint_finish,
    endpoint_key_revoke,
    endpoint_provision,
    endpoint_update,
    endpoints_recover_stalled,
)
from registry.endpoints.tasks import endpoint_provision_task
from registry.governance.services import alias_set
from registry.kernel.audit.models import AuditEvent
from registry.lineage.models import LineageEdge
from registry.notifications.models import Webhook, WebhookDelivery
from tests.factories import make_asset, make_validated_version
from tests.registry.endpoint_fixtures import approve, approved_model
from tests.registry.fake_runtime import fake_runtime

pytestmark = pytest.mark.django_db
AUTHORIZE = "/api/v1/internal/runtime/authorize"


@pytest.fixture(autouse=True)
def _runtime_settings(settings, tmp_path):
    settings.MODELHUB_RUNTIME_MODELS_DIR = str(tmp_path / "runtime-models")
    settings.MODELHUB_ENDPOINT_RETRY_DELAY = 0
    settings.MODELHUB_ENDPOINT_MAX_RETRIES = 3


@pytest.fixture
def runtime(settings):
    with fake_runtime(settings) as running:
        yield running


@pytest.fixture
def v1(alice, bob, dave, team, tmp_path):
    return approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)


@pytest.fixture
def webhook(team):
    return Webhook.objects.create(team=team, url="https://hooks.example.com/x", secret_encrypted="-", secret_prefix="-")


def create(user, team, **kwargs):
    kwargs.setdefault("asset", "vision/clf")
    if "alias" not in kwargs:
        kwargs.setdefault("version", "1.0.0")
    ((endpoint, key),) = endpoint_create(user=user, team=team, **kwargs)
    return endpoint, key


def events(webhook) -> list[str]:
    return list(
        WebhookDelivery.objects.filter(webhook=webhook, event__startswith="endpoint.")
        .order_by("pk")
        .values_list("event", flat=True)
    )


def test_deploy_reaches_ready_after_the_conformance_check(bob, team, v1, runtime, webhook, settings):
    endpoint, key = create(bob, team)
    assert endpoint.status == "pending" and endpoint.name == "clf-1-0-0" and key.startswith("mhe_")
    assert AuditEvent.objects.filter(action="endpoint.created", target_id=str(endpoint.pk)).exists()

    assert endpoint_provision(endpoint_id=endpoint.pk, task_id="t1") is True
    endpoint.refresh_from_db()
    assert endpoint.status == "ready", endpoint.status_reason
    assert endpoint.url == f"{runtime.url}/v2/models/clf-1-0-0" and endpoint.ready_at
    assert "conformance check passed" in endpoint.status_reason
    files = Path(settings.MODELHUB_RUNTIME_MODELS_DIR) / "clf-1-0-0" / v1.sha256
    assert hashlib.sha256((files / "model.onnx").read_bytes()).hexdigest() == v1.sha256
    loaded = runtime.models["clf-1-0-0"]["parameters"]
    assert loaded["path"] == str(files / "model.onnx") and loaded["sha256"] == v1.sha256
    assert loaded["max_batch_size"] == 0 and loaded["timeout_ms"] == 30_000
    assert runtime.requests["clf-1-0-0"] == 2  # one JSON and one binary-output inference
    assert events(webhook) == ["endpoint.ready"]
    assert AuditEvent.objects.filter(action="endpoint.ready", target_id=str(endpoint.pk)).exists()
    # The check's own key is gone; the one shown at creation is the only one.
    assert list(EndpointKey.objects.filter(endpoint=endpoint).values_list("internal", flat=True)) == [False]

    # A second delivery of the task does nothing.
    loads = sum(1 for call in runtime.calls if call[1].endswith("/load"))
    assert endpoint_provision(endpoint_id=endpoint.pk, task_id="t2") is False
    assert sum(1 for call in runtime.calls if call[1].endswith("/load")) == loads


def test_binary_and_json_answers_that_disagree_fail_the_endpoint(bob, team, v1, runtime, webhook):
    runtime.corrupt_binary = True
    endpoint, _ = create(bob, team)
    endpoint_provision(endpoint_id=endpoint.pk, task_id="t1")
    endpoint.refresh_from_db()
    assert endpoint.status == "failed"
    assert "output 'y' differs between the JSON and the binary answer" in endpoint.status_reason
    assert runtime.models == {}  # not left serving a model that failed the check
    assert events(webhook) == ["endpoint.failed"]


def test_a_runtime_that_is_not_up_yet_is_retried_until_ready(bob, team, v1, runtime):
    runtime.unavailable_for = 2
    endpoint, _ = create(bob, team)
    endpoint_provision_task.apply(args=[endpoint.pk])
    endpoint.refresh_from_db()
    assert endpoint.status == "ready", endpoint.status_reason
    assert [c for c in runtime.calls if c[1].endswith("/load")] == [
        ("POST", "/v2/repository/models/clf-1-0-0/load")
    ] * 3
    assert endpoint.attempts == 1  # transient faults are not counted as attempts


def test_an_unreachable_runtime_fails_the_endpoint_after_the_retries(bob, team, v1, settings):
    settings.MODELHUB_RUNTIME_URL = "http://127.0.0.1:9"  # discard: nothing listens
    settings.MODELHUB_ENDPOINT_MAX_RETRIES = 1
    endpoint, _ = create(bob, team)
    endpoint_provision_task.apply(args=[endpoint.pk])
    endpoint.refresh_from_db()
    assert endpoint.status == "failed"
    assert endpoint.status_reason.startswith("Gave up after 2 tries: the inference runtime at http://127.0.0.1:9")


def test_a_blob_changed_in_storage_fails_the_deploy(bob, team, v1, runtime, _isolated_storage, alice_api):
    endpoint, _ = create(bob, team)
    stored = _isolated_storage / blob_key(v1.sha256)
    stored.write_bytes(stored.read_bytes()[:-1] + b"\x00")
    endpoint_provision(endpoint_id=endpoint.pk, task_id="t1")
    endpoint.refresh_from_db()
    assert endpoint.status == "failed" and "does not match its SHA-256" in endpoint.status_reason
    assert runtime.models == {}
    with pytest.raises(Exception) as refused:  # and nobody can deploy it again
        create(bob, team, name="again")
    assert refused.value.status_code == 409 and "signature" in refused.value.message


def test_a_changed_approval_record_fails_the_deploy_on_the_signature_check(bob, team, v1, runtime):
    from registry.governance.models import VersionSignature

    endpoint, _ = create(bob, team)
    record = VersionSignature.objects.get(version=v1)
    VersionSignature.objects.filter(pk=record.pk).update(approval=record.approval.replace('"dave"', '"mallory"'))
    endpoint_provision(endpoint_id=endpoint.pk, task_id="t1")
    endpoint.refresh_from_db()
    assert (
        endpoint.status == "failed"
        and "approval signature of vision/clf 1.0.0 does not verify" in endpoint.status_reason
    )
    assert runtime.models == {}


def test_recovery_sweep_resends_unclaimed_and_expired_work(bob, team, v1, settings):
    fresh, _ = create(bob, team, name="fresh")
    lost, _ = create(bob, team, name="lost")
    stuck, _ = create(bob, team, name="stuck")
    long_ago = timezone.now() - timedelta(hours=2)
    Endpoint.objects.filter(pk=lost.pk).update(status_changed_at=long_ago)
    Endpoint.objects.filter(pk=stuck.pk).update(status="provisioning", task_id="dead", claimed_at=long_ago)
    assert sorted(endpoints_recover_stalled()) == sorted([lost.pk, stuck.pk])
    assert Endpoint.objects.get(pk=stuck.pk).task_id == ""
    EndpointKey.objects.create(endpoint=stuck, prefix="mhe_check_", key_hash="f" * 64, internal=True)
    EndpointKey.objects.filter(internal=True).update(created_at=long_ago)
    assert endpoints_recover_stalled() == []  # pushed forward: not re-sent again at once
    assert not EndpointKey.objects.filter(internal=True).exists()  # a killed check's key is dropped

    # A crash loop ends: past the attempt limit the endpoint fails instead of being claimed again.
    Endpoint.objects.filter(pk=fresh.pk).update(attempts=settings.MODELHUB_ENDPOINT_MAX_ATTEMPTS)
    assert endpoint_claim(endpoint_id=fresh.pk, task_id="t") is None
    fresh.refresh_from_db()
    assert fresh.status == "failed" and "interrupted" in fresh.status_reason


def test_update_and_delete(alice, bob, dave, team, v1, runtime, webhook, tmp_path, settings):
    endpoint, key = create(bob, team)
    v1.asset.refresh_from_db()
    assert v1.asset.usage_count == 1
    endpoint_provision(endpoint_id=endpoint.pk, task_id="t1")
    v2 = approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave, version="1.1.0", asset=v1.asset)

    # A task still working on the old target cannot record its outcome after an update.
    endpoint_update(user=bob, endpoint=endpoint, version="1.1.0")
    endpoint.refresh_from_db()
    assert endpoint.status == "updating" and endpoint.version_id == v2.pk
    assert endpoint_finish(endpoint_id=endpoint.pk, task_id="t1", ok=True, reason="stale") is False

    endpoint_provision(endpoint_id=endpoint.pk, task_id="t2")
    endpoint.refresh_from_db()
    assert endpoint.status == "ready" and endpoint.deployed_version_id == v2.pk
    assert runtime.models["clf-1-0-0"]["version"] == "1.1.0"
    models_dir = Path(settings.MODELHUB_RUNTIME_MODELS_DIR) / "clf-1-0-0"
    assert [p.name for p in models_dir.iterdir()] == [v2.sha256]

    endpoint_delete(user=bob, endpoint=endpoint)
    assert not EndpointKey.objects.filter(endpoint=endpoint, revoked_at=None).exists()
    endpoint_provision(endpoint_id=endpoint.pk, task_id="t3")
    endpoint.refresh_from_db()
    assert endpoint.status == "deleted" and runtime.models == {} and not models_dir.exists()
    assert events(webhook) == ["endpoint.ready", "endpoint.updated", "endpoint.deleted"]
    v1.asset.refresh_from_db()
    assert v1.asset.usage_count == 0  # "most used" counts live endpoints only
    again, _ = create(bob, team)  # the name is free again
    assert again.name == "clf-1-0-0"
    v1.asset.refresh_from_db()
    assert v1.asset.usage_count == 1


def test_a_failed_update_restores_the_version_served_before(alice, bob, dave, team, v1, runtime, tmp_path):
    endpoint, _ = create(bob, team)
    endpoint_provision(endpoint_id=endpoint.pk, task_id="t1")
    approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave, version="1.1.0", asset=v1.asset)
    endpoint_update(user=bob, endpoint=endpoint, version="1.1.0")
    runtime.corrupt_binary = True
    endpoint_provision(endpoint_id=endpoint.pk, task_id="t2")
    endpoint.refresh_from_db()
    assert endpoint.status == "failed" and endpoint.status_reason.endswith("The endpoint still serves version 1.0.0.")
    assert runtime.models["clf-1-0-0"]["version"] == "1.0.0" and endpoint.deployed_version_id == v1.pk


def test_listing_runs_a_fixed_number_of_queries(bob, team, v1, bob_api, django_assert_max_num_queries):
    for n in range(4):
        create(bob, team, name=f"e{n}")
    with django_assert_max_num_queries(6):
        assert len(bob_api.get("/api/v1/endpoints/").json()["results"]) == 4


def test_outsiders_cannot_deploy_and_unapproved_versions_are_refused(alice, bob, charlie, team, tmp_path):
    make_validated_version(alice, make_asset(alice, team, slug="clf", license="MIT"), tmp_path)
    with pytest.raises(Exception) as refused:
        create(bob, team)
    assert refused.value.status_code == 409 and refused.value.code == "not_approved"
    with pytest.raises(Exception) as denied:
        create(charlie, team)
    assert denied.value.status_code == 403


def test_deploying_a_solution_deploys_each_model_it_uses(alice, bob, dave, team, tmp_path, runtime):
    a = approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave, slug="detector")
    b = approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave, slug="ranker")
    solution = make_validated_version(
        alice, make_asset(alice, team, kind="solution", slug="shop", license="MIT"), tmp_path
    )
    LineageEdge.objects.bulk_create(
        [LineageEdge(source=solution, target=a, kind="uses"), LineageEdge(source=solution, target=b, kind="uses")]
    )
    approve(solution, submitter=bob, reviewer=dave, signature=None)
    created = endpoint_create(user=bob, team=team, asset=solution.asset, version="1.0.0", name="shop")
    assert [(e.name, e.version_id) for e, _ in created] == [("shop-detector-1-0-0", a.pk), ("shop-ranker-1-0-0", b.pk)]
    for endpoint, _ in created:
        endpoint_provision(endpoint_id=endpoint.pk, task_id=f"t{endpoint.pk}")
    assert sorted(runtime.models) == ["shop-detector-1-0-0", "shop-ranker-1-0-0"]


def test_endpoints_follow_their_alias_when_it_moves(
    alice, bob, dave, team, v1, tmp_path, runtime, django_capture_on_commit_callbacks
):
    alias_set(user=bob, asset=v1.asset, name="staging", version=v1)
    following, _ = create(bob, team, alias="staging", name="follows")
    pinned, _ = create(bob, team, name="pinned")
    assert following.alias == "staging" and following.version_id == v1.pk
    for endpoint in (following, pinned):
        endpoint_provision(endpoint_id=endpoint.pk, task_id=f"t{endpoint.pk}")
    v2 = approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave, version="2.0.0", asset=v1.asset)
    with django_capture_on_commit_callbacks(execute=True):
        alias_set(user=bob, asset=v1.asset, name="staging", version=v2)
    following.refresh_from_db()
    pinned.refresh_from_db()
    assert following.status == "updating" and following.version_id == v2.pk
    assert pinned.status == "ready" and pinned.version_id == v1.pk
    endpoint_provision(endpoint_id=following.pk, task_id="t-next")
    assert runtime.models["follows"]["version"] == "2.0.0"


def _authorize(client, model, credential, secret):
    return client.post(
        AUTHORIZE,
        {"model": model, "credential_sha256": hashlib.sha256(credential.encode()).hexdigest()},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


def test_runtime_authorize_answers_per_credential(alice, bob, charlie, team, v1, anon_api, settings):
    from registry.tokens.services import token_create

    endpoint, key = create(bob, team, name="private-one")
    internal, _ = create(bob, team, name="internal-one", visibility="internal")
    _, bob_token = token_create(user=bob, name="t")
    _, charlie_token = token_create(user=charlie, name="t")
    secret = settings.MODELHUB_RUNTIME_SECRET

    def status(model, credential):
        response = _authorize(anon_api, model, credential, secret)
        assert response.status_code == 200
        return response.json()["status"]

    assert status("private-one", key) == 200
    assert status("internal-one", key) == 401  # a key of another endpoint
    assert status("private-one", bob_token) == 200
    assert status("private-one", charlie_token) == 404
    assert status("internal-one", charlie_token) == 403
    assert status("private-one", "mhe_made-up") == 401
    assert status("no-such-endpoint", key) == 404
    endpoint_key_revoke(user=bob, endpoint=endpoint, key_id=EndpointKey.objects.get(endpoint=endpoint).pk)
    assert status("private-one", key) == 401
    endpoint_delete(user=bob, endpoint=internal)
    assert status("internal-one", bob_token) == 404

    assert _authorize(anon_api, "private-one", bob_token, "wrong").status_code == 401
    assert anon_api.post(AUTHORIZE, {}, format="json").status_code == 401


def test_metrics_are_parsed_whatever_their_names():
    text = "\n".join(
        [
            "# TYPE rt_inference_requests_total counter",
            'rt_inference_requests_total{model="m",code="200"} 7',
            'rt_inference_requests_total{model="other"} 100',
            'rt_inference_request_failures_total{model="m"} 3',
            'rt_latency_seconds_bucket{model="m",le="0.01"} 5',
            'rt_latency_seconds_bucket{model="m",le="0.1"} 10',
            'rt_latency_seconds_bucket{model="m",le="+Inf"} 10',
        ]
    )
    figures = metrics_parse(text, model="m")
    assert figures["request_count"] == 7
    assert figures["latency_p50_ms"] == 10.0 and figures["latency_p95_ms"] == 91.0
    assert metrics_parse("garbage\n", model="m") == {
        "request_count": None,
        "latency_p50_ms": None,
        "latency_p95_ms": None,
    }


def test_the_transition_table_covers_every_status_and_settles_where_no_work_is_left():
    from registry.endpoints.lifecycle import ALLOWED_TRANSITIONS, SETTLED_STATUSES, can_transition
    from registry.endpoints.models import EndpointStatus

    assert set(ALLOWED_TRANSITIONS) == set(EndpointStatus.values)
    assert can_transition("ready", "updating") and can_transition("failed", "deleting")
    assert not can_transition("deleting", "updating") and not can_transition("deleted", "deleting")
    assert set(SETTLED_STATUSES) == {"ready", "failed", "deleted"}


def test_a_refused_transition_names_what_the_status_allows(bob, team, v1, bob_api):
    from registry.kernel.errors import Conflict

    endpoint, _ = create(bob, team)
    endpoint_delete(user=bob, endpoint=endpoint)
    with pytest.raises(
        Conflict,
        match=r"^Endpoint 'clf-1-0-0' is deleting: 'update' is not allowed "
        r"\(allowed when deleting: mark deleted, mark failed\)\.$",
    ) as refused:
        endpoint_update(user=bob, endpoint=endpoint, version="1.0.0")
    assert refused.value.code == "illegal_transition"
    # The API answers with the same sentence.
    answer = bob_api.patch(f"/api/v1/endpoints/{endpoint.pk}/", {"version": "1.0.0"}, format="json")
    assert answer.status_code == 409 and "(allowed when deleting: mark deleted, mark failed)" in answer.json()["detail"]

    Endpoint.objects.filter(pk=endpoint.pk).update(status="deleted")
    with pytest.raises(Conflict, match=r"is deleted: 'delete' is not allowed \(allowed when deleted: nothing\)"):
        endpoint_delete(user=bob, endpoint=endpoint)
    Endpoint.objects.filter(pk=endpoint.pk).update(status="provisioning")
    with pytest.raises(
        Conflict, match=r"is provisioning: 'update' is not allowed \(allowed when provisioning: delete, mark failed"
    ):
        endpoint_update(user=bob, endpoint=endpoint, version="1.0.0")


def test_update_and_delete_return_the_endpoint_ready_to_serialise(bob, team, v1, django_assert_num_queries):
    endpoint, _ = create(bob, team)
    assert endpoint.created_by.username == "bob" and endpoint.team.slug == "vision"
    Endpoint.objects.filter(pk=endpoint.pk).update(status="ready")
    updated = endpoint_update(user=bob, endpoint=endpoint, version="1.0.0")
    deleting = endpoint_delete(user=bob, endpoint=updated)
    with django_assert_num_queries(0):  # what the API serialises is loaded already
        assert (updated.status, deleting.status) == ("updating", "deleting")
        assert deleting.created_by.username == "bob" and deleting.version.asset.full_slug == "vision/clf"
        assert deleting.version.signature_record.key_id


def test_the_figures_of_an_endpoint_come_from_its_backend(bob, team, v1, bob_api, monkeypatch):
    from registry.endpoints import selectors

    asked = []

    class Backend:
        def metrics(self, endpoint):
            asked.append(endpoint.pk)
            return {"request_count": 41, "latency_p50_ms": 1.5}

        def states(self, endpoints):
            return {e.pk: {"state": "READY", "reason": ""} for e in endpoints}

    monkeypatch.setattr(selectors, "backend_for", lambda endpoint: Backend())
    endpoint, _ = create(bob, team)
    detail = f"/api/v1/endpoints/{endpoint.pk}/"
    assert bob_api.get(detail).json()["request_count"] is None and asked == []  # not ready: not asked
    Endpoint.objects.filter(pk=endpoint.pk).update(status="ready")
    read = bob_api.get(detail).json()
    assert asked == [endpoint.pk]
    shown = {name: read[name] for name in ("request_count", "latency_p50_ms", "latency_p95_ms", "traffic")}
    assert shown == {"request_count": 41, "latency_p50_ms": 1.5, "latency_p95_ms": None, "traffic": []}
    assert bob_api.get(detail).json()["request_count"] == 41 and asked == [endpoint.pk]  # cached a few seconds


def test_the_local_backend_reads_the_runtimes_figures(bob, team, v1, runtime):
    from registry.endpoints.backends import backend_for

    endpoint, _ = create(bob, team)
    endpoint_provision(endpoint_id=endpoint.pk, task_id="t1")
    endpoint.refresh_from_db()
    figures = backend_for(endpoint).metrics(endpoint)
    assert figures["request_count"] == 2 and figures["requests_last_hour"] == 2
    assert sum(minute["requests"] for minute in figures["traffic"]) == 2


def test_a_ready_endpoint_shows_whether_the_runtime_serves_it_now(bob, team, v1, runtime, bob_api, settings):
    from django.core.cache import cache

    endpoint, _ = create(bob, team)
    detail = f"/api/v1/endpoints/{endpoint.pk}/"
    assert bob_api.get(detail).json()["serving"] is None  # not ready: not asked
    endpoint_provision(endpoint_id=endpoint.pk, task_id="t1")
    assert (read := bob_api.get(detail).json())["serving"] is True and read["serving_reason"] == ""
    calls = len(runtime.calls)
    assert bob_api.get("/api/v1/endpoints/").json()["results"][0]["serving"] is True
    assert len(runtime.calls) == calls  # cached a few seconds

    cache.clear()
    del runtime.models["clf-1-0-0"]  # a runtime that came back without its state
    lost = bob_api.get(detail).json()
    assert lost["status"] == "ready" and lost["serving"] is False and "lost the model" in lost["serving_reason"]

    cache.clear()
    settings.MODELHUB_RUNTIME_URL = "http://127.0.0.1:9"  # nothing listens: the runtime is down
    down = bob_api.get(detail).json()
    assert down["serving"] is False and "did not answer" in down["serving_reason"] and down["request_count"] is None


def test_the_sweep_loads_again_what_a_restarted_runtime_lost(bob, team, v1, runtime, settings):
    endpoint, _ = create(bob, team)
    endpoint_provision(endpoint_id=endpoint.pk, task_id="t1")
    assert endpoints_recover_stalled() == [] and Endpoint.objects.get(pk=endpoint.pk).status == "ready"

    runtime.models.clear()  # came back without its state folder
    endpoints_recover_stalled()
    endpoint.refresh_from_db()
    assert endpoint.status == "updating" and "without this model" in endpoint.status_reason
    assert AuditEvent.objects.filter(action="endpoint.update_requested", actor=None).count() == 1
    assert endpoint_provision(endpoint_id=endpoint.pk, task_id="t2") is True
    endpoint.refresh_from_db()
    assert endpoint.status == "ready" and "clf-1-0-0" in runtime.models

    runtime.models.clear()
    settings.MODELHUB_RUNTIME_URL = "http://127.0.0.1:9"  # down: nothing to load it into, nothing changes
    endpoints_recover_stalled()
    assert Endpoint.objects.get(pk=endpoint.pk).status == "ready"
