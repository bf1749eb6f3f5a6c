"""Monitoring over the API: members read and configure it, outsiders see nothing, the runtime delivers windows."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from registry.monitoring.evaluation import endpoint_evaluate
from registry.monitoring.models import GroundTruth, MonitoringWindow
from registry.monitoring.services import windows_ingest
from tests.registry.monitoring_fixtures import MINUTE, iris_endpoint, make_window, training_rows  # noqa: F401

pytestmark = pytest.mark.django_db
RUNTIME = "/api/v1/internal/runtime/monitoring"


def _start() -> int:
    return int((timezone.now() - timedelta(hours=1)).timestamp()) // MINUTE * MINUTE


def test_only_the_runtime_delivers_windows(iris_endpoint, anon_api, bob_api, settings):
    body = {"source": "rt", "windows": [make_window(iris_endpoint, training_rows(20), start=_start())]}
    assert anon_api.post(RUNTIME, body, format="json").status_code == 401
    assert bob_api.post(RUNTIME, body, format="json").status_code == 401  # a member's token is not the secret
    secret = {"HTTP_AUTHORIZATION": f"Bearer {settings.MODELHUB_RUNTIME_SECRET}"}
    answer = anon_api.post(RUNTIME, body, format="json", **secret)
    assert answer.status_code == 200 and answer.json() == {"accepted": 1, "duplicates": 0, "dropped": 0}
    bad = anon_api.post(RUNTIME, {"source": "rt", "windows": [{"id": "short"}]}, format="json", **secret)
    assert bad.status_code == 400 and "window.id" in bad.json()["detail"]
    assert MonitoringWindow.objects.count() == 1


def test_members_read_the_series_and_reports_outsiders_get_404(iris_endpoint, alice_api, charlie_api):
    start = _start()
    windows_ingest(
        source="rt",
        windows=[make_window(iris_endpoint, training_rows(600, seed=i), start=start + i * MINUTE) for i in range(2)],
    )
    endpoint_evaluate(endpoint_id=iris_endpoint.pk)
    url = f"/api/v1/endpoints/{iris_endpoint.pk}/monitoring"
    series = alice_api.get(url)
    assert series.status_code == 200, series.json()
    doc = series.json()
    assert doc["health"] == "healthy" and doc["reference"]["kind"] == "training"
    assert doc["reference"]["dataset_version"].endswith("/iris-data@0.0.0")
    assert len(doc["drift"]) == 2 and set(doc["drift"][0]["features"]) >= {"sepal_length_cm", "petal_width_cm"}
    assert sum(point["requests"] for point in doc["traffic"]) == 1200
    report = alice_api.get(doc["drift"][1]["url"] + "?profiles=1").json()
    histogram = report["features"]["petal_length_cm"]["histogram"]
    assert len(histogram["current"]) == len(histogram["edges"]) + 1 == len(histogram["reference"])
    assert abs(sum(histogram["current"]) - 1) < 1e-6 and "window_profiles" in report
    assert alice_api.get(url, {"window": 7}).status_code == 400
    assert alice_api.get(url, {"since": timezone.now().isoformat(), "until": "2020-01-01T00:00:00Z"}).status_code == 400
    for path in ("", "/reports/" + str(doc["drift"][0]["report_id"])):
        assert charlie_api.get(url + path).status_code == 404
    assert (
        charlie_api.post(f"/api/v1/endpoints/{iris_endpoint.pk}/feedback", {"items": []}, format="json").status_code
        == 404
    )
    assert alice_api.get(url + "/reports/999999").status_code == 404


def test_feedback_and_settings(iris_endpoint, bob_api, team):
    feedback = f"/api/v1/endpoints/{iris_endpoint.pk}/feedback"
    sent = bob_api.post(
        feedback, {"items": [{"request_id": "a", "value": 1}, {"request_id": "b", "value": [0, 2]}]}, format="json"
    )
    assert sent.status_code == 200 and sent.json() == {"created": 2, "updated": 0}
    again = bob_api.post(feedback, {"items": [{"request_id": "a", "value": 2}]}, format="json")
    assert again.json() == {"created": 0, "updated": 1} and GroundTruth.objects.get(request_id="a").value == 2
    for bad in ({"items": []}, {"items": [{"value": 1}]}, {"items": [{"request_id": "c", "value": {"x": 1}}]}):
        assert bob_api.post(feedback, bad, format="json").status_code == 400
    settings_url = f"/api/v1/endpoints/{iris_endpoint.pk}/monitoring/settings"
    changed = bob_api.patch(settings_url, {"alarm_after": 3, "thresholds": {"ks": 0.2}}, format="json")
    assert changed.status_code == 200 and changed.json()["settings"]["alarm_after"] == 3
    assert changed.json()["settings"]["thresholds"] == {"ks": 0.2}
    chosen = bob_api.patch(settings_url, {"reference_version": f"{team.slug}/iris-data@0.0.0"}, format="json")
    assert chosen.status_code == 200 and chosen.json()["reference"]["kind"] == "chosen"
    for bad in (
        {"alarm_after": 0},
        {"thresholds": {"nope": 1}},
        {"thresholds": {"ks": -1}},
        {"reference_version": f"{team.slug}/iris-clf@0.0.0"},  # a model, not a dataset
        {"reference_version": "someone/else@1.0.0"},
        {"colour": "blue"},
    ):
        response = bob_api.patch(settings_url, bad, format="json")
        assert response.status_code == 400, (bad, response.json())


def test_prometheus_gauges_of_the_latest_scores(iris_endpoint, client, alice, settings):
    start = _start()
    windows_ingest(
        source="rt",
        windows=[make_window(iris_endpoint, training_rows(600, seed=i), start=start + i * MINUTE) for i in range(2)],
    )
    endpoint_evaluate(endpoint_id=iris_endpoint.pk)
    settings.MODELHUB_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404  # no token set: staff only
    settings.MODELHUB_METRICS_TOKEN = "scrape-" + "x" * 20
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {settings.MODELHUB_METRICS_TOKEN}")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/plain")
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.content.decode())
        for sample in family.samples
    }
    who = {"endpoint": "iris", "team": "vision"}
    column = tuple(sorted({**who, "kind": "input", "column": "petal_width_cm", "metric": "ks"}.items()))
    assert (
        0 <= samples[("modelhub_endpoint_drift_score", column)] < samples[("modelhub_endpoint_drift_threshold", column)]
    )
    assert samples[("modelhub_endpoint_drifted", tuple(sorted(who.items())))] == 0
    assert samples[("modelhub_endpoint_alarms_open", tuple(sorted({**who, "kind": "drift"}.items())))] == 0
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    client.force_login(alice)
    assert client.get("/metrics").status_code == 200


def test_a_card_states_a_feature_map_that_must_fit(iris_endpoint, alice_api):
    from registry.cards.models import ModelCard
    from registry.lineage.models import LineageEdge, LineageKind
    from registry.validation.models import ValidationReport
    from registry.versions.models import AssetVersion
    from tests.factories import bare_versions
    from tests.registry.monitoring_fixtures import FEATURES, SIGNATURE

    live = iris_endpoint.version
    dataset = live.lineage_out.get().target
    dataset.signature = {"columns": [{"name": n, "type": "float"} for n in [*FEATURES, "species"]]}
    dataset.save(update_fields=["signature"])
    (candidate,) = bare_versions(live.asset, 1, start=1, status="validated")  # 0.0.1, its card still editable
    AssetVersion.objects.filter(pk=candidate.pk).update(signature=SIGNATURE)
    LineageEdge.objects.create(source=candidate, target=dataset, kind=LineageKind.TRAINED_ON)
    ValidationReport.objects.create(version=candidate, outcome="passed")
    card = f"/api/v1/assets/{live.asset.full_slug}/versions/0.0.1/card"

    wrong = alice_api.put(card, {"extra": {"feature_map": {"inputs": {"input": ["sepal_length"]}}}}, format="json")
    assert wrong.status_code == 400 and "which the dataset does not have" in wrong.json()["detail"]
    assert not ModelCard.objects.filter(version=candidate).exists()  # the edit was rolled back
    stated = {"inputs": {"input": list(reversed(FEATURES))}}
    assert alice_api.put(card, {"extra": {"feature_map": stated}}, format="json").status_code == 200
    feature_map = ValidationReport.objects.get(version=candidate).details["feature_map"]
    assert feature_map["source"] == "stated" and feature_map["inputs"]["input[:, 0]"] == "petal_width_cm"
