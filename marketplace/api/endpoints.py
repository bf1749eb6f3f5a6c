"""Inference endpoints over the API: deploy, follow, update, delete, keys; and the runtime's credential check."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from marketplace.api.input import RejectUnknownFieldsMixin, StrictCharField, StrictRegexField, parse_input
from marketplace.api.views import APIView, GenericAPIView, RuntimeOnlyAPIView
from registry.endpoints.models import (
    ENDPOINT_NAME_MAX_LENGTH,
    ENDPOINT_NAME_PATTERN,
    Endpoint,
    EndpointBackend,
    EndpointKey,
    EndpointStatus,
    ShadowStatus,
)
from registry.endpoints.selectors import (
    endpoint_get,
    endpoint_key_list,
    endpoint_list,
    endpoint_metrics,
    endpoint_team_get,
    endpoints_serving,
)
from registry.endpoints.services import (
    SETTINGS_RANGES,
    endpoint_create,
    endpoint_delete,
    endpoint_key_create,
    endpoint_key_revoke,
    endpoint_update,
    runtime_authorize,
    shadow_active,
)
from registry.kernel.access import Visibility
from registry.kernel.lib.slugs import SLUG_PATTERN
from registry.tokens.models import Scope
from registry.versions.semver import SEMVER_PATTERN


class EndpointSettingsSerializer(serializers.Serializer):
    max_batch_size = serializers.IntegerField(
        min_value=0,
        max_value=256,
        required=False,
        help_text="Adaptive batching: most requests per batch; 0 turns it off.",
    )
    max_batch_delay_ms = serializers.IntegerField(min_value=0, max_value=100, required=False)
    timeout_ms = serializers.IntegerField(
        min_value=10, max_value=600_000, required=False, help_text="One inference is cut off after this long."
    )
    replicas = serializers.IntegerField(min_value=1, max_value=8, required=False, help_text="kubernetes backend.")
    memory_limit = serializers.IntegerField(
        min_value=SETTINGS_RANGES["memory_limit"][1],
        max_value=SETTINGS_RANGES["memory_limit"][2],
        required=False,
        help_text="Bytes of memory the model's process may use.",
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(dict.fromkeys(unknown[:10], "Unknown setting."))
        return super().to_internal_value(data)


class EndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="The V2 model name: POST {url}/infer.")
    team = serializers.CharField(source="team.slug", help_text="The consuming team.")
    asset = serializers.CharField(source="version.asset.full_slug")
    version = serializers.CharField(source="version.version")
    alias = serializers.CharField(help_text="The alias the endpoint follows; empty when pinned to a version.")
    status = serializers.ChoiceField(choices=EndpointStatus.choices)
    status_reason = serializers.CharField()
    serving = serializers.BooleanField(
        allow_null=True,
        default=None,
        help_text="For a ready endpoint, whether the runtime serves its model right now (checked within the last "
        "few seconds); false while the runtime is down or restarting, with serving_reason; null when not ready.",
    )
    serving_reason = serializers.CharField(default="", help_text="Why a ready endpoint is not serving now.")
    url = serializers.CharField(help_text="The V2 model URL once ready.")
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    backend = serializers.ChoiceField(choices=EndpointBackend.choices)
    settings = serializers.JSONField()
    signature_key_id = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", default=None)
    created_at = serializers.DateTimeField()
    ready_at = serializers.DateTimeField(allow_null=True)

    def get_signature_key_id(self, endpoint) -> str | None:
        record = getattr(endpoint.version, "signature_record", None) if hasattr(endpoint, "version") else None
        return record.key_id if record is not None else None


class TrafficMinuteSerializer(serializers.Serializer):
    minute = serializers.IntegerField(help_text="Start of the minute, Unix seconds.")
    requests = serializers.IntegerField()
    latency_p50_ms = serializers.FloatField(allow_null=True)
    latency_p95_ms = serializers.FloatField(allow_null=True)


class ShadowSummarySerializer(serializers.Serializer):
    version = serializers.CharField(source="version.version")
    status = serializers.ChoiceField(choices=ShadowStatus.choices)
    status_reason = serializers.CharField()


class EndpointDetailSerializer(EndpointSerializer):
    shadow = ShadowSummarySerializer(
        allow_null=True, help_text="The candidate version the endpoint mirrors its traffic to (GET .../shadow)."
    )
    request_count = serializers.IntegerField(
        allow_null=True,
        help_text="Requests since the model was loaded, from the runtime; best effort (null when it cannot be asked).",
    )
    requests_last_hour = serializers.IntegerField(allow_null=True)
    latency_p50_ms = serializers.FloatField(allow_null=True, help_text="Over the last hour.")
    latency_p95_ms = serializers.FloatField(allow_null=True, help_text="Over the last hour.")
    traffic = TrafficMinuteSerializer(many=True, help_text="Per minute of the last hour that had requests.")


class EndpointKeySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    prefix = serializers.CharField(help_text="First characters of the key.")
    created_by = serializers.CharField(source="created_by.username", default=None)
    created_at = serializers.DateTimeField()


class EndpointKeyCreatedSerializer(EndpointKeySerializer):
    key = serializers.CharField(help_text="Shown only in this response: `Authorization: Bearer <key>`.")


class EndpointCreatedSerializer(EndpointSerializer):
    key = serializers.CharField(help_text="The endpoint's first key, shown only in this response.")
    also_created = serializers.SerializerMethodField(
        help_text="For a solution: the endpoints of its other models, each with its key."
    )

    def get_also_created(self, endpoint) -> list[dict]:
        return [
            EndpointCreatedSerializer(other, context={"nested": True}).data
            for other in getattr(endpoint, "also_created", [])
        ]


class EndpointInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    team = StrictRegexField(SLUG_PATTERN, max_length=64, help_text="The consuming team (you are a member).")
    asset = StrictCharField(max_length=130, help_text="'team/slug' of a model or solution.")
    version = StrictRegexField(SEMVER_PATTERN, max_length=100, required=False, help_text="An approved version.")
    alias = StrictRegexField(
        SLUG_PATTERN,
        max_length=64,
        required=False,
        help_text="Deploy what the alias points at, and follow it when it moves.",
    )
    name = StrictRegexField(ENDPOINT_NAME_PATTERN, max_length=ENDPOINT_NAME_MAX_LENGTH, required=False)
    settings = EndpointSettingsSerializer(required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False, default=Visibility.PRIVATE)


class EndpointUpdateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    version = StrictRegexField(SEMVER_PATTERN, max_length=100, required=False)
    alias = StrictRegexField(SLUG_PATTERN, max_length=64, required=False)


def _detail(endpoint: Endpoint) -> dict:
    endpoints_serving([endpoint])
    for field, value in endpoint_metrics(endpoint=endpoint).items():
        setattr(endpoint, field, value)
    endpoint.shadow = shadow_active(endpoint)
    return EndpointDetailSerializer(endpoint).data


class EndpointListView(GenericAPIView):
    write_scope = Scope.DEPLOY
    serializer_class = EndpointSerializer
    queryset = Endpoint.objects.none()  # for the schema only; data comes from selectors

    @extend_schema(operation_id="endpoints_list", responses=EndpointSerializer(many=True))
    def get(self, request):
        """Endpoints of your teams, newest first."""
        page = self.paginate_queryset(endpoint_list(user=request.user))
        endpoints_serving(page)
        return self.get_paginated_response(EndpointSerializer(page, many=True).data)

    @extend_schema(request=EndpointInputSerializer, responses={202: EndpointCreatedSerializer})
    def post(self, request):
        """Deploy an approved model version (or each model a solution uses) for your team; answers `pending`
        with the endpoint's first key, which is shown only here."""
        data = parse_input(EndpointInputSerializer, request.data)
        team = endpoint_team_get(user=request.user, slug=data["team"])
        created = endpoint_create(
            user=request.user,
            team=team,
            asset=data["asset"],
            version=data.get("version"),
            alias=data.get("alias"),
            name=data.get("name"),
            settings=data.get("settings"),
            visibility=data["visibility"],
        )
        with_keys = []
        for endpoint, key in created:
            endpoint.key = key
            with_keys.append(endpoint)
        first = with_keys[0]
        first.also_created = with_keys[1:]
        return Response(EndpointCreatedSerializer(first).data, status=status.HTTP_202_ACCEPTED)


class EndpointDetailView(APIView):
    write_scope = Scope.DEPLOY

    @extend_schema(responses=EndpointDetailSerializer)
    def get(self, request, pk):
        """Status, reason, URL, version, signing key, and the runtime's request count and latency when ready."""
        return Response(_detail(endpoint_get(user=request.user, endpoint_id=pk)))

    @extend_schema(request=EndpointUpdateSerializer, responses={202: EndpointDetailSerializer})
    def patch(self, request, pk):
        """Move the endpoint to another approved version, or to an alias it then follows."""
        endpoint = endpoint_get(user=request.user, endpoint_id=pk)
        data = parse_input(EndpointUpdateSerializer, request.data)
        updated = endpoint_update(
            user=request.user, endpoint=endpoint, version=data.get("version"), alias=data.get("alias")
        )
        return Response(_detail(updated), status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={202: EndpointDetailSerializer})
    def delete(self, request, pk):
        """Delete the endpoint: its keys stop working at once; the runtime unloads it shortly after."""
        deleting = endpoint_delete(user=request.user, endpoint=endpoint_get(user=request.user, endpoint_id=pk))
        return Response(_detail(deleting), status=status.HTTP_202_ACCEPTED)


class EndpointKeyListView(GenericAPIView):
    write_scope = Scope.DEPLOY
    serializer_class = EndpointKeySerializer
    queryset = EndpointKey.objects.none()  # for the schema only

    @extend_schema(operation_id="endpoint_keys_list", responses=EndpointKeySerializer(many=True))
    def get(self, request, pk):
        """The endpoint's active keys (never the keys themselves)."""
        page = self.paginate_queryset(endpoint_key_list(endpoint=endpoint_get(user=request.user, endpoint_id=pk)))
        return self.get_paginated_response(EndpointKeySerializer(page, many=True).data)

    @extend_schema(request=None, responses={201: EndpointKeyCreatedSerializer})
    def post(self, request, pk):
        """A new key for the endpoint; it is in this response only."""
        key, raw = endpoint_key_create(user=request.user, endpoint=endpoint_get(user=request.user, endpoint_id=pk))
        key.key = raw
        return Response(EndpointKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)


class EndpointKeyDetailView(APIView):
    write_scope = Scope.DEPLOY

    @extend_schema(responses={204: None})
    def delete(self, request, pk, key_id):
        """Revoke a key; the runtime refuses it within seconds."""
        endpoint_key_revoke(user=request.user, endpoint=endpoint_get(user=request.user, endpoint_id=pk), key_id=key_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RuntimeAuthorizeInputSerializer(serializers.Serializer):
    model = StrictCharField(max_length=200)
    credential_sha256 = StrictRegexField(r"^[0-9a-f]{64}$", max_length=64)


class RuntimeAuthorizeView(RuntimeOnlyAPIView):
    """May this credential call this endpoint? Answers 200 with `{"status": 200|401|403|404}`."""

    @extend_schema(exclude=True)
    def post(self, request):
        if (refused := self.refuse_without_secret(request)) is not None:
            return refused
        data = parse_input(RuntimeAuthorizeInputSerializer, request.data)
        return Response({"status": runtime_authorize(model=data["model"], credential_sha256=data["credential_sha256"])})
