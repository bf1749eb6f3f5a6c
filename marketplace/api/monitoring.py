"""Monitoring over the API: an endpoint's series and reports, its settings, ground truth; windows from the runtime."""

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from rest_framework import serializers
from rest_framework.response import Response

from marketplace.api.input import RejectUnknownFieldsMixin, StrictCharField, parse_input
from marketplace.api.views import APIView, RuntimeOnlyAPIView
from registry.endpoints.selectors import endpoint_get
from registry.monitoring.models import REQUEST_ID_MAX_LENGTH
from registry.monitoring.selectors import (
    WINDOW_CHOICES,
    drift_report_get,
    endpoint_monitoring,
    latest_scores,
    window_profiles,
)
from registry.monitoring.services import ground_truth_record, monitor_update, windows_ingest
from registry.runtime.auth import secret_matches
from registry.tokens.models import Scope


class MonitoringQuerySerializer(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="Default: 24 hours before `until`.")
    until = serializers.DateTimeField(required=False, help_text="Default: now.")
    window = serializers.ChoiceField(
        choices=WINDOW_CHOICES, required=False, help_text="Seconds per traffic point; default: about 300 points."
    )


class MonitoringSerializer(serializers.Serializer):
    endpoint = serializers.IntegerField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    window = serializers.IntegerField()
    health = serializers.ChoiceField(choices=["healthy", "drifting", "degraded", "no data"])
    reference = serializers.JSONField(help_text="kind (chosen, training, history), dataset_version, feature_map.")
    settings = serializers.JSONField()
    traffic = serializers.ListField(
        child=serializers.JSONField(),
        help_text="Per window: start, requests, rows, failures, latency_p50/p95/p99_ms, cpu_seconds, rss_bytes.",
    )
    drift = serializers.ListField(
        child=serializers.JSONField(),
        help_text="Per evaluation: start, end, rows, drifted, and per feature and output the scores and thresholds.",
    )
    performance = serializers.ListField(
        child=serializers.JSONField(), help_text="Per evaluation: measured (from ground truth) and estimated."
    )
    alarms = serializers.ListField(child=serializers.JSONField())


class MonitoringSettingsSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    reference_version = StrictCharField(
        max_length=300,
        required=False,
        allow_blank=True,
        help_text="'team/dataset@version' to compare traffic with; empty for the trained_on dataset version.",
    )
    thresholds = serializers.JSONField(
        required=False, help_text='Overrides: {"wasserstein": 0.3} or {"feature": {"ks": 0.2}}.'
    )
    alarm_after = serializers.IntegerField(required=False, help_text="Evaluations over a threshold to raise an alarm.")
    resolve_after = serializers.IntegerField(required=False, help_text="Evaluations under to resolve it.")
    min_rows = serializers.IntegerField(required=False, help_text="Rows an evaluation needs.")
    performance_tolerance = serializers.FloatField(required=False)


class GroundTruthItemSerializer(serializers.Serializer):
    request_id = StrictCharField(max_length=REQUEST_ID_MAX_LENGTH, help_text="The `id` of the inference response.")
    value = serializers.JSONField(help_text="The true label or value, or a list with one per row of the request.")


class GroundTruthInputSerializer(serializers.Serializer):
    items = serializers.ListField(
        child=GroundTruthItemSerializer(), allow_empty=False, max_length=10_000, help_text="At most 10,000 at a time."
    )


class GroundTruthResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


class EndpointMonitoringView(APIView):
    query_params = ("since", "until", "window")

    @extend_schema(
        parameters=[MonitoringQuerySerializer],
        responses=MonitoringSerializer,
    )
    def get(self, request, pk):
        """Drift per feature and output, performance (measured and estimated), traffic, errors, latency and the
        runtime's CPU and memory over time, with the alarms and the reference the traffic is held against."""
        endpoint = endpoint_get(user=request.user, endpoint_id=pk)
        query = parse_input(MonitoringQuerySerializer, request.query_params)
        series = endpoint_monitoring(
            endpoint=endpoint, since=query.get("since"), until=query.get("until"), window=query.get("window")
        )
        return Response(MonitoringSerializer(series).data)


class EndpointMonitoringSettingsView(APIView):
    write_scope = Scope.DEPLOY

    @extend_schema(request=MonitoringSettingsSerializer, responses=MonitoringSerializer)
    def patch(self, request, pk):
        """Change the reference dataset version, threshold overrides, hysteresis or the rows an evaluation needs."""
        endpoint = endpoint_get(user=request.user, endpoint_id=pk)
        changes = parse_input(MonitoringSettingsSerializer, request.data)
        monitor_update(user=request.user, endpoint=endpoint, changes=dict(changes))
        return Response(MonitoringSerializer(endpoint_monitoring(endpoint=endpoint)).data)


class EndpointMonitoringReportView(APIView):
    query_params = ("profiles",)

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=[OpenApiParameter("profiles", bool, description="Add the merged profiles of the period's windows.")],
    )
    def get(self, request, pk, report_id):
        """One evaluation in full: per feature and output the reference and current profiles, histograms on the
        reference's bins, scores and thresholds; `?profiles=1` adds the period's merged window profiles."""
        endpoint = endpoint_get(user=request.user, endpoint_id=pk)
        report = drift_report_get(endpoint=endpoint, report_id=report_id)
        if request.query_params.get("profiles") in ("1", "true"):
            report["window_profiles"] = window_profiles(endpoint=endpoint, start=report["start"], end=report["end"])
        return Response(report)


class EndpointFeedbackView(APIView):
    write_scope = Scope.ENDPOINTS_CALL

    @extend_schema(request=GroundTruthInputSerializer, responses=GroundTruthResultSerializer)
    def post(self, request, pk):
        """Ground truth by request id: `{"items": [{"request_id": "...", "value": 2}, ...]}`. Idempotent (a repeated
        id replaces its value); late is fine: labels join their predictions whenever both are in."""
        endpoint = endpoint_get(user=request.user, endpoint_id=pk)
        data = parse_input(GroundTruthInputSerializer, request.data)
        items = [dict(item) for item in data["items"]]
        result = ground_truth_record(user=request.user, endpoint=endpoint, items=items)
        return Response(GroundTruthResultSerializer(result).data)


class RuntimeMonitoringView(RuntimeOnlyAPIView):
    """Closed monitoring windows from the runtime, `{"source", "windows": [...]}` (registry/runtime/shipper.py)."""

    @extend_schema(exclude=True)
    def post(self, request):
        if (refused := self.refuse_without_secret(request)) is not None:
            return refused
        body = request.data if isinstance(request.data, dict) else {}
        return Response(windows_ingest(source=body.get("source"), windows=body.get("windows")))


class _LatestScores:
    """A prometheus_client collector over registry.monitoring.selectors.latest_scores, read at scrape time."""

    def collect(self):
        score = GaugeMetricFamily(
            "modelhub_endpoint_drift_score",
            "Latest drift score of an endpoint's input or output column",
            labels=["endpoint", "team", "kind", "column", "metric"],
        )
        threshold = GaugeMetricFamily(
            "modelhub_endpoint_drift_threshold",
            "The threshold that score is held to",
            labels=["endpoint", "team", "kind", "column", "metric"],
        )
        drifted = GaugeMetricFamily(
            "modelhub_endpoint_drifted", "1 when the latest evaluation found drift", labels=["endpoint", "team"]
        )
        evaluated = GaugeMetricFamily(
            "modelhub_endpoint_evaluated_until_seconds",
            "End of the latest evaluated period (Unix time)",
            labels=["endpoint", "team"],
        )
        alarms = GaugeMetricFamily(
            "modelhub_endpoint_alarms_open", "Open monitoring alarms", labels=["endpoint", "team", "kind"]
        )
        for row in latest_scores():
            who = [row["endpoint"], row["team"]]
            drifted.add_metric(who, 1.0 if row["drifted"] else 0.0)
            evaluated.add_metric(who, row["end"].timestamp())
            for kind, count in row["alarms"].items():
                alarms.add_metric([*who, kind], count)
            for kind, column, metric, value, limit in row["scores"]:
                score.add_metric([*who, kind, column, metric], value)
                if limit is not None:
                    threshold.add_metric([*who, kind, column, metric], limit)
        yield from (score, threshold, drifted, evaluated, alarms)


def monitoring_metrics(request):
    """`GET /metrics`: the latest drift scores, thresholds and open alarms of every live endpoint, in Prometheus's
    text format. For a scraper with `Authorization: Bearer <MODELHUB_METRICS_TOKEN>`, or a signed-in staff user;
    404 while no token is set and the caller is not staff."""
    token = settings.MODELHUB_METRICS_TOKEN
    bearer = token and secret_matches(request.headers.get("Authorization", "").encode(), token)
    if not bearer and not (request.user.is_authenticated and request.user.is_staff):
        return HttpResponseNotFound(b"Not found.\n", content_type="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_LatestScores())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
