"""What Modelhub knows about how its endpoints behave: windows the runtime recorded, predictions and the ground
truth sent for them, drift reports, alarms, and each endpoint's monitoring settings."""

from django.conf import settings as django_settings
from django.db import models
from django.db.models import Q

# One window may carry at most this much JSON (profiles of 256 columns of a few KiB each, and predictions).
WINDOW_MAX_BYTES = 8 << 20
REQUEST_ID_MAX_LENGTH = 128


class ReferenceKind(models.TextChoices):
    CHOSEN = "chosen", "A dataset version chosen for the endpoint"
    TRAINING = "training", "The dataset version the model was trained on"
    HISTORY = "history", "The endpoint's own first window (no dataset to compare with)"


class AlarmKind(models.TextChoices):
    DRIFT = "drift", "Data or prediction drift"
    PERFORMANCE = "performance", "Performance degraded"


class AlarmStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class EndpointMonitor(models.Model):
    """An endpoint's monitoring: its settings (team-editable) and the state of its evaluation (the task's).

    Made on first use, with the defaults. `thresholds` overrides the calibrated threshold of a metric
    (`{"wasserstein": 0.3}`) or of a metric on one feature (`{"sepal_length_cm": {"ks": 0.2}}`).
    """

    endpoint = models.OneToOneField("registry.Endpoint", on_delete=models.CASCADE, related_name="monitor")
    reference_version = models.ForeignKey(
        "registry.AssetVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="A dataset version to compare traffic with, instead of the one the model was trained on.",
    )
    thresholds = models.JSONField(default=dict, blank=True)
    alarm_after = models.PositiveSmallIntegerField(default=2, help_text="Evaluations over a threshold to raise.")
    resolve_after = models.PositiveSmallIntegerField(default=2, help_text="Evaluations under to resolve.")
    min_rows = models.PositiveIntegerField(default=500, help_text="Rows an evaluation needs at least.")
    performance_tolerance = models.FloatField(
        default=0.05, help_text="How far below the declared metric live performance may fall before an alarm."
    )
    # State of the evaluation task.
    evaluated_until = models.DateTimeField(null=True, blank=True)
    history_reference = models.JSONField(null=True, blank=True, help_text="Profiles of the first window.")
    drift_over = models.PositiveIntegerField(default=0)
    drift_under = models.PositiveIntegerField(default=0)
    performance_over = models.PositiveIntegerField(default=0)
    performance_under = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"monitoring of endpoint {self.endpoint_id}"


class RecordedWindow(models.Model):
    """What one runtime (`source`) recorded over [start, start + seconds), identified by `window_id` (kept once):
    requests answered, rows, failures, and profiles (registry.profiles, as dicts) of the latency and the outputs."""

    window_id = models.CharField(max_length=64, unique=True)
    source = models.CharField(max_length=100)
    start = models.DateTimeField()
    seconds = models.PositiveIntegerField()
    requests = models.PositiveBigIntegerField(default=0)
    rows = models.PositiveBigIntegerField(default=0)
    failures = models.PositiveBigIntegerField(default=0)
    latency_ms = models.JSONField(default=dict)
    outputs = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["start", "id"]


class MonitoringWindow(RecordedWindow):
    """A window of one endpoint's live traffic: besides the recorded fields, profiles of every input column and
    the runtime process's usage.

    Minute windows are rolled up into hour windows after a day (`seconds` = 3600, `source` = "rollup")."""

    endpoint = models.ForeignKey("registry.Endpoint", on_delete=models.CASCADE, related_name="monitoring_windows")
    version = models.ForeignKey("registry.AssetVersion", on_delete=models.SET_NULL, null=True, related_name="+")
    inputs = models.JSONField(default=dict)
    process = models.JSONField(default=dict)

    class Meta(RecordedWindow.Meta):
        indexes = [models.Index(fields=["endpoint", "start"], name="monitoring_window_idx")]

    def __str__(self) -> str:
        return f"window {self.start:%Y-%m-%d %H:%M} of endpoint {self.endpoint_id}"


class SampledPrediction(models.Model):
    """A prediction the runtime sampled into a window: its request id and the first rows of its outputs."""

    request_id = models.CharField(max_length=REQUEST_ID_MAX_LENGTH)
    predicted_at = models.DateTimeField(help_text="The start of the window the request fell in.")
    outputs = models.JSONField(default=dict)

    class Meta:
        abstract = True


class Prediction(SampledPrediction):
    """A live prediction (registry.monitoring.performance joins it with the ground truth sent for its id)."""

    endpoint = models.ForeignKey("registry.Endpoint", on_delete=models.CASCADE, related_name="predictions")
    version = models.ForeignKey("registry.AssetVersion", on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "request_id"],
                name="prediction_unique_request",
                violation_error_message="This request id has a prediction already.",
            )
        ]
        indexes = [models.Index(fields=["endpoint", "predicted_at"], name="prediction_time_idx")]

    def __str__(self) -> str:
        return f"prediction {self.request_id} of endpoint {self.endpoint_id}"


class ShadowWindow(RecordedWindow):
    """A window of an endpoint's shadow (a candidate version, registry.endpoints' EndpointShadow): the mirrored
    requests it answered and failed, those it was not sent (`shed`), and how its outputs compared with the live
    version's (`agreement`: per output, rows and rows whose label differs, or the sum of absolute differences over
    the values compared)."""

    endpoint = models.ForeignKey("registry.Endpoint", on_delete=models.CASCADE, related_name="shadow_windows")
    version = models.ForeignKey("registry.AssetVersion", on_delete=models.CASCADE, related_name="shadow_windows")
    shed = models.PositiveBigIntegerField(default=0)
    agreement = models.JSONField(default=dict)

    class Meta(RecordedWindow.Meta):
        indexes = [models.Index(fields=["version", "start"], name="shadow_window_idx")]

    def __str__(self) -> str:
        return f"shadow window {self.start:%Y-%m-%d %H:%M} of endpoint {self.endpoint_id}"


class ShadowPrediction(SampledPrediction):
    """A candidate's answer to a mirrored request, under the live request's id, so ground truth joins it too."""

    endpoint = models.ForeignKey("registry.Endpoint", on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey("registry.AssetVersion", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "endpoint", "request_id"],
                name="shadow_prediction_unique_request",
                violation_error_message="This request id has a shadow prediction already.",
            )
        ]
        indexes = [models.Index(fields=["predicted_at"], name="shadow_prediction_time_idx")]

    def __str__(self) -> str:
        return f"shadow prediction {self.request_id} of endpoint {self.endpoint_id}"


class GroundTruth(models.Model):
    """The true label or value of a request, sent by the consuming team whenever it learns it (late is fine;
    sending it again replaces it). `value` is one label or number, or a list with one per row of the request."""

    endpoint = models.ForeignKey("registry.Endpoint", on_delete=models.CASCADE, related_name="ground_truth")
    request_id = models.CharField(max_length=REQUEST_ID_MAX_LENGTH)
    value = models.JSONField()
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "request_id"],
                name="ground_truth_unique_request",
                violation_error_message="This request id has ground truth already.",
            )
        ]

    def __str__(self) -> str:
        return f"ground truth of {self.request_id} (endpoint {self.endpoint_id})"


class DriftReport(models.Model):
    """One evaluation of an endpoint over [start, end): drift of every feature and output against the
    reference, with the thresholds it was held to, and live performance where ground truth arrived."""

    endpoint = models.ForeignKey("registry.Endpoint", on_delete=models.CASCADE, related_name="drift_reports")
    version = models.ForeignKey("registry.AssetVersion", on_delete=models.SET_NULL, null=True, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    rows = models.PositiveBigIntegerField(default=0)
    requests = models.PositiveBigIntegerField(default=0)
    reference = models.CharField(max_length=16, choices=ReferenceKind.choices)
    reference_version = models.ForeignKey(
        "registry.AssetVersion", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    feature_map = models.JSONField(default=dict, help_text="How input columns map to dataset columns, and why.")
    features = models.JSONField(default=dict)  # name -> {"column", "scores", "thresholds", "drifted"}
    outputs = models.JSONField(default=dict)
    drifted = models.JSONField(default=list)
    performance = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "start"],
                name="drift_report_unique_start",
                violation_error_message="This window of the endpoint is evaluated already.",
            )
        ]

    def __str__(self) -> str:
        return f"drift report {self.start:%Y-%m-%d %H:%M} of endpoint {self.endpoint_id}"


class MonitoringAlarm(models.Model):
    """Raised after `alarm_after` evaluations over a threshold, resolved after `resolve_after` under it."""

    endpoint = models.ForeignKey("registry.Endpoint", on_delete=models.CASCADE, related_name="alarms")
    kind = models.CharField(max_length=16, choices=AlarmKind.choices)
    status = models.CharField(max_length=16, choices=AlarmStatus.choices, default=AlarmStatus.OPEN)
    raised_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    window_start = models.DateTimeField(help_text="The start of the first evaluation over the threshold.")
    features = models.JSONField(default=list)
    scores = models.JSONField(default=dict)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "kind"],
                condition=Q(status=AlarmStatus.OPEN),
                name="alarm_one_open_per_kind",
                violation_error_message="This endpoint has an open alarm of this kind already.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} alarm of endpoint {self.endpoint_id} ({self.status})"


class CalibratedThreshold(models.Model):
    """Thresholds calibrated on a reference profile (registry.profiles.calibration) for windows of about
    `rows` rows; `reference_key` is the SHA-256 of the reference profile's JSON."""

    reference_key = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    thresholds = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reference_key", "rows"],
                name="calibrated_threshold_unique",
                violation_error_message="These thresholds are calibrated already.",
            )
        ]

    def __str__(self) -> str:
        return f"thresholds of {self.reference_key[:12]} at {self.rows} rows"
