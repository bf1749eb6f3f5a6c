"""Monitoring in the portal: windows in, drift against the training data, hysteresis, alarms, performance."""

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from registry.kernel.audit.models import AuditEvent
from registry.kernel.errors import InvalidInput, PermissionDenied
from registry.monitoring.evaluation import endpoint_evaluate, reference_for
from registry.monitoring.features import feature_map_infer, feature_map_parse
from registry.monitoring.models import DriftReport, EndpointMonitor, MonitoringAlarm, MonitoringWindow, Prediction
from registry.monitoring.selectors import endpoint_monitoring
from registry.monitoring.services import ground_truth_record, windows_roll_up
from registry.notifications.models import WebhookDelivery
from registry.notifications.services import webhook_create
from registry.profiles.columns import profile_from_dict
from registry.validation.models import ValidationReport
from registry.validation.services import validation_claim, validation_finish
from registry.versions.models import AssetVersion
from tests.registry.monitoring_fixtures import (
    FEATURES,
    MINUTE,
    SCALES,
    SIGNATURE,
    iris_endpoint,  # noqa: F401
    make_window,
    predict,
    ship,
    training_rows,
)

pytestmark = pytest.mark.django_db


def _base() -> int:
    return int((timezone.now() - timedelta(hours=2)).timestamp()) // MINUTE * MINUTE


def _shifted(rows: np.ndarray, feature: int, sds: float) -> np.ndarray:
    shifted = rows.copy()
    shifted[:, feature] += sds * SCALES[feature]
    return shifted


# ------------------------------------------------------------------------------------------------ ingest


def test_windows_are_stored_once_and_unknown_models_dropped(iris_endpoint):
    window = make_window(iris_endpoint, training_rows(50, seed=1), start=_base())
    stranger = {**make_window(iris_endpoint, training_rows(5), start=_base()), "model": "nobody"}
    assert ship(iris_endpoint, [window, stranger]) == {"accepted": 1, "duplicates": 0, "dropped": 1}
    assert ship(iris_endpoint, [window]) == {"accepted": 0, "duplicates": 1, "dropped": 0}
    stored = MonitoringWindow.objects.get()
    assert stored.rows == 50 and stored.version == iris_endpoint.version and stored.source == "runtime-a"
    assert Prediction.objects.filter(endpoint=iris_endpoint).count() == 50


@pytest.mark.parametrize(
    "change",
    [
        {"seconds": 0},
        {"start": "yesterday"},
        {"id": "x"},
        {"requests": -1},
        {"inputs": {"input": [{"kind": "numeric", "sketch": "not base64!"}]}},
        {"inputs": {"input": "nope"}},
        {"predictions": [["only-an-id"]]},
    ],
)
def test_a_malformed_window_refuses_the_whole_post(iris_endpoint, change):
    good = make_window(iris_endpoint, training_rows(10), start=_base())
    bad = {**make_window(iris_endpoint, training_rows(10), start=_base() + MINUTE), **change}
    with pytest.raises(InvalidInput):
        ship(iris_endpoint, [good, bad])
    assert not MonitoringWindow.objects.exists() and not Prediction.objects.exists()


# ------------------------------------------------------------------------------------------- feature map


def test_the_feature_map_is_inferred_from_the_dataset_columns_in_order():
    inferred = feature_map_infer(signature=SIGNATURE, dataset_columns=[*FEATURES, "species"])
    assert inferred.source == "inferred" and inferred.inputs[("input", 2)] == "petal_length_cm"
    assert "last column 'species' is taken as the target" in inferred.note
    assert inferred.outputs == {"label": "label", "probabilities": "probabilities"}
    assert feature_map_infer(signature=SIGNATURE, dataset_columns=["a", "b"]).inputs == {}


def test_a_stated_feature_map_is_checked_against_the_model_and_the_dataset():
    stated = feature_map_parse(
        {"inputs": {"input[:, 1]": "sepal_width_cm"}, "outputs": {"probabilities": "probabilities"}},
        signature=SIGNATURE,
        dataset_columns=FEATURES,
    )
    assert stated.inputs == {("input", 1): "sepal_width_cm"} and stated.outputs["label"] == "label"
    for wrong, words in [
        ({"inputs": {"x": ["a"]}}, "does not have"),
        ({"inputs": {"input": ["a", "b", "c", "d", "e"]}}, "which has 4 columns"),
        ({"inputs": {"input": ["nope"]}}, "which the dataset does not have"),
        ({"outputs": {"label": "score"}}, "roles"),
    ]:
        with pytest.raises(InvalidInput, match=words):
            feature_map_parse(wrong, signature=SIGNATURE, dataset_columns=FEATURES)


@pytest.mark.parametrize(
    "metadata, source, words",
    [
        ({}, "inferred", "first 4 columns match the width of input 'input' in order; its last column 'species'"),
        ({"feature_map": {"inputs": {"input": ["petal_width_cm"] * 4}}}, "stated", "stated"),
        ({"feature_map": {"inputs": {"input": ["nope"]}}}, "inferred", "the stated feature_map is not used"),
    ],
)
def test_validation_reports_the_feature_map(iris_endpoint, metadata, source, words):
    model, dataset = iris_endpoint.version, iris_endpoint.version.lineage_out.get().target
    dataset.signature = {"columns": [{"name": n, "type": "float"} for n in [*FEATURES, "species"]]}
    dataset.save(update_fields=["signature"])
    AssetVersion.objects.filter(pk=model.pk).update(status="validating", metadata=metadata)
    ValidationReport.objects.create(version=model)
    assert validation_claim(version_id=model.pk, task_id="t") is not None
    assert validation_finish(version_id=model.pk, task_id="t", passed=True, reason="ok", signature=SIGNATURE)
    feature_map = ValidationReport.objects.get(version=model).details["feature_map"]
    assert feature_map["source"] == source and words in feature_map["note"], feature_map
    if source == "inferred":
        assert feature_map["inputs"]["input[:, 3]"] == "petal_width_cm"
    assert feature_map["outputs"] == {"label": "label", "probabilities": "probabilities"}


def test_the_reference_is_the_trained_on_dataset_version(iris_endpoint):
    monitor = EndpointMonitor.objects.create(endpoint=iris_endpoint)
    reference = reference_for(iris_endpoint, monitor, iris_endpoint.version)
    assert reference.kind == "training" and reference.version.asset.slug == "iris-data"
    assert reference.feature_map.source == "inferred", reference.feature_map.note


# ------------------------------------------------------------------------------------------------- drift


def test_traffic_like_the_training_data_raises_no_alarm(iris_endpoint):
    base = _base()
    ship(
        iris_endpoint,
        [make_window(iris_endpoint, training_rows(600, seed=10 + i), start=base + i * MINUTE) for i in range(8)],
    )
    reports = endpoint_evaluate(endpoint_id=iris_endpoint.pk)
    assert len(reports) == 8
    assert [r.drifted for r in reports if r.drifted] == []
    first = reports[0]
    feature = first.features["sepal_length_cm"]
    assert feature["reference"] == "training" and set(feature["scores"]) == {
        "psi",
        "wasserstein",
        "jensen_shannon",
        "ks",
    }
    assert all(feature["scores"][m] <= feature["thresholds"][m] for m in feature["scores"])
    assert first.outputs["label"]["note"] == "this period is the reference"  # outputs: the first period
    assert "scores" in reports[1].outputs["label"]
    assert not MonitoringAlarm.objects.exists()
    assert endpoint_evaluate(endpoint_id=iris_endpoint.pk) == []  # nothing is evaluated twice


def test_a_shifted_feature_raises_one_alarm_on_that_feature_after_two_windows_and_resolves(iris_endpoint, alice, team):
    webhook, _ = webhook_create(user=alice, team=team, url="https://hooks.example.com/m", events=[])
    base = _base()
    clean = [make_window(iris_endpoint, training_rows(600, seed=i), start=base + i * MINUTE) for i in range(2)]
    shifted = [
        make_window(iris_endpoint, _shifted(training_rows(600, seed=20 + i), 0, 1.0), start=base + (2 + i) * MINUTE)
        for i in range(3)
    ]
    back = [
        make_window(iris_endpoint, training_rows(600, seed=40 + i), start=base + (5 + i) * MINUTE) for i in range(2)
    ]
    ship(iris_endpoint, clean + shifted + back)
    reports = endpoint_evaluate(endpoint_id=iris_endpoint.pk)
    assert ["sepal_length_cm" in r.drifted for r in reports] == [False, False, True, True, True, False, False]
    # Another column may cross its 99.9th-percentile threshold in one period by chance (the sketches compact at
    # random, so thresholds and scores vary a little from run to run); never in two in a row, which is an alarm.
    others = [set(r.drifted) - {"sepal_length_cm"} for r in reports]
    assert not any(a & b for a, b in zip(others, others[1:])), others
    alarm = MonitoringAlarm.objects.get()
    assert alarm.kind == "drift" and alarm.features == ["sepal_length_cm"] and alarm.status == "resolved"
    assert alarm.window_start == reports[2].start  # the first window over the threshold
    deliveries = {d.event: d.payload for d in WebhookDelivery.objects.filter(webhook=webhook)}
    assert set(deliveries) == {"endpoint.drift_detected", "endpoint.drift_resolved"}
    payload = deliveries["endpoint.drift_detected"]
    assert payload["model_version"] == {"asset": f"{team.slug}/iris-clf", "version": "0.0.0"}
    assert payload["trained_on"] == {"asset": f"{team.slug}/iris-data", "version": "0.0.0"}
    assert [d["feature"] for d in payload["drifted"]] == ["sepal_length_cm"]
    assert payload["drifted"][0]["scores"]["wasserstein"] > payload["drifted"][0]["thresholds"]["wasserstein"]
    assert payload["profile_url"].endswith(f"/monitoring/reports/{reports[3].pk}")
    actions = list(AuditEvent.objects.filter(action__startswith="endpoint.drift").values_list("action", flat=True))
    assert sorted(actions) == ["endpoint.drift_detected", "endpoint.drift_resolved"]


def test_a_drift_alarm_emails_the_consuming_teams_maintainers(
    iris_endpoint, alice, bob, mailoutbox, django_capture_on_commit_callbacks
):
    from registry.notifications.emails import event_emails_send

    for user in (alice, bob):
        user.email = f"{user.username}@example.com"
        user.save(update_fields=["email"])
    base = _base()
    shifted = [
        make_window(iris_endpoint, _shifted(training_rows(600, seed=50 + i), 0, 1.0), start=base + i * MINUTE)
        for i in range(2)
    ]
    ship(iris_endpoint, shifted)
    with django_capture_on_commit_callbacks() as callbacks:
        endpoint_evaluate(endpoint_id=iris_endpoint.pk)
    assert callbacks  # the webhook deliveries and the email task, sent once the transaction commits
    payload = AuditEvent.objects.get(action="endpoint.drift_detected").data
    sent = event_emails_send(
        event="endpoint.drift_detected",
        version_id=iris_endpoint.version_id,
        data={**payload, "endpoint": iris_endpoint.name, "team": iris_endpoint.team.slug},
    )
    assert sent == ["alice@example.com"]  # the maintainer, not bob (a member)
    (message,) = mailoutbox
    assert message.subject == "[Modelhub] iris: drift detected"
    assert "- sepal_length_cm: " in message.body and "Trained on" in message.body and "/monitoring" in message.body


def test_one_window_over_is_not_an_alarm(iris_endpoint):
    base = _base()
    windows = [make_window(iris_endpoint, training_rows(600, seed=i), start=base + i * MINUTE) for i in (0, 2)]
    windows.append(make_window(iris_endpoint, _shifted(training_rows(600, seed=1), 2, 1.0), start=base + MINUTE))
    ship(iris_endpoint, windows)
    reports = endpoint_evaluate(endpoint_id=iris_endpoint.pk)
    assert [bool(r.drifted) for r in reports] == [False, True, False]
    assert not MonitoringAlarm.objects.exists()


def test_a_team_threshold_overrides_the_calibrated_one(iris_endpoint):
    EndpointMonitor.objects.create(endpoint=iris_endpoint, thresholds={"sepal_width_cm": {"ks": 1e-9}})
    ship(iris_endpoint, [make_window(iris_endpoint, training_rows(600, seed=3), start=_base())])
    (report,) = endpoint_evaluate(endpoint_id=iris_endpoint.pk)
    assert report.drifted == ["sepal_width_cm"] and report.features["sepal_width_cm"]["over"] == ["ks"]


def test_low_traffic_windows_are_merged_until_they_hold_enough_rows(iris_endpoint):
    base = _base()
    ship(
        iris_endpoint,
        [make_window(iris_endpoint, training_rows(200, seed=i), start=base + i * MINUTE) for i in range(5)],
    )
    reports = endpoint_evaluate(endpoint_id=iris_endpoint.pk)
    assert [r.rows for r in reports] == [600, 400]  # 3 windows reach 500 rows; the last 2 waited over an hour
    assert reports[0].end - reports[0].start == timedelta(minutes=3)


def test_without_a_dataset_the_first_window_is_the_reference(iris_endpoint):
    iris_endpoint.version.lineage_out.all().delete()
    base = _base()
    ship(
        iris_endpoint,
        [
            make_window(iris_endpoint, training_rows(600, seed=1), start=base),
            make_window(iris_endpoint, _shifted(training_rows(600, seed=2), 3, 1.5), start=base + MINUTE),
        ],
    )
    first, second = endpoint_evaluate(endpoint_id=iris_endpoint.pk)
    assert first.reference == "history" and "input[:, 0]" in first.features
    assert first.features["input[:, 0]"]["note"] == "this period is the reference"
    assert "input[:, 3]" in second.drifted
    series = endpoint_monitoring(endpoint=iris_endpoint)
    assert series["reference"]["kind"] == "history" and "own first window" in series["reference"]["note"]


# ----------------------------------------------------------------------------------- ground truth, series


def test_ground_truth_joins_by_request_id_late_and_repeated(iris_endpoint, bob, charlie):
    base = _base()
    rows = training_rows(600, seed=7)
    ids = [f"req-{i}" for i in range(600)]
    truth = predict(rows)["label"].tolist()
    early = ground_truth_record(user=bob, endpoint=iris_endpoint, items=[{"request_id": "req-0", "value": 2}])
    assert early == {"created": 1, "updated": 0}  # before its prediction arrived
    ship(iris_endpoint, [make_window(iris_endpoint, rows, start=base, ids=ids)])
    wrong_first = [{"request_id": i, "value": (t + 1) % 3} for i, t in zip(ids[:300], truth)]
    ground_truth_record(user=bob, endpoint=iris_endpoint, items=wrong_first)
    fixed = ground_truth_record(
        user=bob, endpoint=iris_endpoint, items=[{"request_id": i, "value": t} for i, t in zip(ids, truth)]
    )
    assert fixed == {"created": 300, "updated": 300}
    endpoint_evaluate(endpoint_id=iris_endpoint.pk)
    series = endpoint_monitoring(endpoint=iris_endpoint)
    (performance,) = series["performance"]
    assert performance["measured"]["labels"] == 600 and performance["measured"]["metrics"]["accuracy"] == 1.0
    assert performance["estimated"]["accuracy"] == pytest.approx(0.9, abs=1e-6)
    assert series["traffic"][0]["requests"] == 600 and series["traffic"][0]["latency_p50_ms"] == pytest.approx(1.0)
    with pytest.raises(InvalidInput):
        ground_truth_record(user=bob, endpoint=iris_endpoint, items=[{"request_id": "x", "value": {"a": 1}}])
    with pytest.raises(PermissionDenied):
        ground_truth_record(user=charlie, endpoint=iris_endpoint, items=[{"request_id": "x", "value": 1}])


def test_minute_windows_roll_up_into_hours_without_changing_the_profiles(iris_endpoint):
    base = int((timezone.now() - timedelta(days=2)).timestamp()) // 3600 * 3600
    windows = [make_window(iris_endpoint, training_rows(100, seed=i), start=base + i * MINUTE) for i in range(5)]
    ship(iris_endpoint, windows)
    before = [profile_from_dict(w["inputs"]["input"][0]) for w in windows]
    assert windows_roll_up(older_than=timezone.now() - timedelta(days=1)) == 1
    hour = MonitoringWindow.objects.get()
    assert hour.seconds == 3600 and hour.rows == 500 and hour.requests == 500
    merged = profile_from_dict(hour.inputs["input"][0])
    assert merged.count == sum(p.count for p in before)
    assert merged.mean == pytest.approx(np.mean([p.mean for p in before]), rel=1e-9)
    assert windows_roll_up(older_than=timezone.now() - timedelta(days=1)) == 0
    assert DriftReport.objects.count() == 0


def test_pruning_deletes_what_is_past_the_retention_and_keeps_the_rest(iris_endpoint, bob):
    from registry.endpoints.models import EndpointShadow
    from registry.monitoring.models import GroundTruth, ShadowPrediction, ShadowWindow
    from registry.monitoring.services import monitoring_prune
    from tests.factories import bare_versions
    from tests.registry.monitoring_fixtures import make_shadow_window

    (candidate,) = bare_versions(iris_endpoint.version.asset, 1, status="validated", start=1)
    EndpointShadow.objects.create(endpoint=iris_endpoint, version=candidate)
    old = int((timezone.now() - timedelta(days=40)).timestamp()) // MINUTE * MINUTE
    recent = _base()
    for start in (old, recent):
        rows = training_rows(600, seed=start % 7)
        ids = [f"{start}-{n}" for n in range(600)]
        ship(iris_endpoint, [make_window(iris_endpoint, rows, start=start, ids=ids)])
        ship(iris_endpoint, [make_shadow_window(iris_endpoint, candidate.version, rows, start=start, ids=ids)])
    endpoint_evaluate(endpoint_id=iris_endpoint.pk)
    ground_truth_record(user=bob, endpoint=iris_endpoint, items=[{"request_id": f"{recent}-0", "value": 1}])
    GroundTruth.objects.create(endpoint=iris_endpoint, request_id=f"{old}-0", value=1)
    GroundTruth.objects.filter(request_id=f"{old}-0").update(updated_at=timezone.now() - timedelta(days=40))
    reports = DriftReport.objects.count()

    deleted = monitoring_prune(older_than=timezone.now() - timedelta(days=30))
    assert MonitoringWindow.objects.get().start.timestamp() == recent
    assert ShadowWindow.objects.get().start.timestamp() == recent
    assert set(Prediction.objects.values_list("request_id", flat=True)) >= {f"{recent}-0"}
    assert not Prediction.objects.filter(request_id__startswith=f"{old}-").exists()
    assert not ShadowPrediction.objects.filter(request_id__startswith=f"{old}-").exists()
    assert list(GroundTruth.objects.values_list("request_id", flat=True)) == [f"{recent}-0"]
    assert reports == 2 and DriftReport.objects.get().start.timestamp() == recent
    assert deleted >= 2 + 2 * 600 + 1
