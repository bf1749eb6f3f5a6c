"""Shadow evaluation over the API: mirror an endpoint's traffic to a candidate version, and what it showed."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from marketplace.api.input import RejectUnknownFieldsMixin, StrictRegexField, parse_input
from marketplace.api.views import APIView
from registry.endpoints.models import EndpointShadow, ShadowStatus
from registry.endpoints.selectors import endpoint_get, endpoint_shadow_latest
from registry.endpoints.services import shadow_start, shadow_stop
from registry.monitoring.shadows import shadow_evidence
from registry.tokens.models import Scope
from registry.versions.semver import SEMVER_PATTERN


class LatencySerializer(serializers.Serializer):
    p50 = serializers.FloatField(allow_null=True)
    p95 = serializers.FloatField(allow_null=True)
    p99 = serializers.FloatField(allow_null=True)


class ShadowEvidenceSerializer(serializers.Serializer):
    windows = serializers.IntegerField(help_text="Windows the runtime recorded of the shadow.")
    since = serializers.DateTimeField(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)
    requests = serializers.IntegerField(help_text="Mirrored requests the candidate answered.")
    rows = serializers.IntegerField()
    failures = serializers.IntegerField(help_text="Mirrored requests the candidate refused or failed.")
    failure_rate = serializers.FloatField(allow_null=True)
    shed = serializers.IntegerField(help_text="Copies not sent: too many were in flight (the candidate is slow).")
    latency_ms = LatencySerializer(help_text="The candidate's latency.")
    live_latency_ms = LatencySerializer(help_text="The live version's latency over the same windows.")
    agreement = serializers.DictField(
        child=serializers.DictField(),
        help_text="Per output: rows compared, `disagreement_rate` (labels) or `mean_abs_diff` (values), "
        "`mismatched` (rows whose shapes differ).",
    )
    performance = serializers.JSONField(
        allow_null=True,
        help_text="`candidate` and `live` measured on the sampled predictions that got ground truth "
        "(POST .../feedback): labels, task, metrics.",
    )


class ShadowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    endpoint = serializers.CharField(source="endpoint.name")
    version = serializers.CharField(source="version.version", help_text="The candidate version.")
    live_version = serializers.CharField(source="endpoint.version.version")
    status = serializers.ChoiceField(choices=ShadowStatus.choices)
    status_reason = serializers.CharField()
    started_at = serializers.DateTimeField()
    ready_at = serializers.DateTimeField(allow_null=True)
    stopped_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.CharField(source="created_by.username", default=None)
    evidence = ShadowEvidenceSerializer(help_text="What the candidate did with the endpoint's live traffic.")


class ShadowInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    version = StrictRegexField(
        SEMVER_PATTERN,
        max_length=100,
        help_text="A validated, in-review or approved version of the endpoint's asset whose inputs take the live "
        "version's requests.",
    )


def _shadow(shadow: EndpointShadow, code=status.HTTP_200_OK) -> Response:
    shadow.evidence = shadow_evidence(version=shadow.version, endpoints=[shadow.endpoint])
    return Response(ShadowSerializer(shadow).data, status=code)


class EndpointShadowView(APIView):
    write_scope = Scope.DEPLOY

    @extend_schema(responses=ShadowSerializer)
    def get(self, request, pk):
        """The endpoint's shadow (the active one, else the last), with the evidence it gathered from live traffic."""
        return _shadow(endpoint_shadow_latest(endpoint=endpoint_get(user=request.user, endpoint_id=pk)))

    @extend_schema(request=ShadowInputSerializer, responses={202: ShadowSerializer})
    def put(self, request, pk):
        """Mirror the endpoint's traffic to a candidate version: callers keep getting the live answers; the
        candidate's latency, failures, disagreement and (with ground truth) performance are recorded. Replaces a
        shadow of another version; the worker loads it (`loading`, then `ready` or `failed`)."""
        endpoint = endpoint_get(user=request.user, endpoint_id=pk)
        data = parse_input(ShadowInputSerializer, request.data)
        shadow_start(user=request.user, endpoint=endpoint, version=data["version"])
        return _shadow(endpoint_shadow_latest(endpoint=endpoint), status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: ShadowSerializer})
    def delete(self, request, pk):
        """Stop the shadow; its record and evidence stay."""
        endpoint = endpoint_get(user=request.user, endpoint_id=pk)
        shadow_stop(user=request.user, endpoint=endpoint)
        return _shadow(endpoint_shadow_latest(endpoint=endpoint), status.HTTP_202_ACCEPTED)
