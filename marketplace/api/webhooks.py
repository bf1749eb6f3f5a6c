"""Team webhooks over the API: register, list, delete, test, and read the delivery log."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from marketplace.api.input import RejectUnknownFieldsMixin, StrictCharField, parse_input
from marketplace.api.views import APIView, GenericAPIView
from registry.notifications.models import (
    DELIVERY_EVENT_CHOICES,
    SUBSCRIBABLE_EVENTS,
    WEBHOOK_URL_MAX_LENGTH,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
)
from registry.notifications.selectors import delivery_list, webhook_get, webhook_list, webhook_team_get
from registry.notifications.services import webhook_create, webhook_delete, webhook_ping, webhook_update
from registry.tokens.models import Scope


class WebhookSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENTS),
        help_text="Events sent to it; empty means every event.",
    )
    assets = serializers.SerializerMethodField(
        help_text='The assets it follows ("team/slug", any team\'s it may see); empty: every asset of its team.'
    )
    secret_prefix = serializers.CharField(help_text="First characters of the signing secret.")
    active = serializers.BooleanField()
    created_by = serializers.CharField(source="created_by.username", default=None)
    created_at = serializers.DateTimeField()

    def get_assets(self, webhook) -> list[str]:
        return sorted(asset.full_slug for asset in webhook.assets.all())


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(help_text="The signing secret: shown only in this response; store it now.")


class WebhookInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    url = StrictCharField(
        max_length=WEBHOOK_URL_MAX_LENGTH,
        trim_whitespace=False,
        help_text="http(s) URL without credentials that receives signed JSON POSTs.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENTS),
        required=False,
        default=list,
        max_length=len(SUBSCRIBABLE_EVENTS) * 2,
        help_text="Events to send; leave out or empty for every event.",
    )
    assets = serializers.ListField(
        child=StrictCharField(max_length=130),
        required=False,
        max_length=100,
        help_text='Assets to follow, "team/slug", of any team (internal ones, or your team\'s): their version and '
        "alias events are sent here. Leave out or empty for every asset of this team.",
    )


class WebhookUpdateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    url = StrictCharField(max_length=WEBHOOK_URL_MAX_LENGTH, trim_whitespace=False, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENTS),
        required=False,
        max_length=len(SUBSCRIBABLE_EVENTS) * 2,
        help_text="Events to send; empty for every event.",
    )
    active = serializers.BooleanField(required=False, help_text="false: nothing is sent to it until set true again.")
    assets = serializers.ListField(
        child=StrictCharField(max_length=130),
        required=False,
        max_length=100,
        help_text='Assets to follow, "team/slug", of any team (internal ones, or your team\'s): their version and '
        "alias events are sent here. Leave out or empty for every asset of this team.",
    )
    rotate_secret = serializers.BooleanField(
        required=False, default=False, help_text="true: a new signing secret, in this response only."
    )


class WebhookUpdatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        allow_null=True, help_text="The new signing secret when `rotate_secret` was set (shown only here), else null."
    )


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.ChoiceField(choices=DELIVERY_EVENT_CHOICES)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempts = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(help_text="Why the last attempt failed (bounded excerpt).")
    response_ms = serializers.IntegerField(allow_null=True)
    payload = serializers.JSONField(help_text="The `data` of the JSON body sent.")
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)


class WebhookListView(GenericAPIView):
    write_scope = Scope.TEAMS_ADMIN
    serializer_class = WebhookSerializer
    queryset = Webhook.objects.none()  # for the schema only; data comes from selectors

    @extend_schema(operation_id="team_webhooks_list", responses=WebhookSerializer(many=True))
    def get(self, request, slug):
        """The team's webhooks (members), never their secrets."""
        page = self.paginate_queryset(webhook_list(team=webhook_team_get(user=request.user, slug=slug)))
        return self.get_paginated_response(WebhookSerializer(page, many=True).data)

    @extend_schema(request=WebhookInputSerializer, responses={201: WebhookCreatedSerializer})
    def post(self, request, slug):
        """Register a webhook (maintainers); its signing secret is in this response only."""
        team = webhook_team_get(user=request.user, slug=slug)
        data = parse_input(WebhookInputSerializer, request.data)
        webhook, secret = webhook_create(
            user=request.user, team=team, url=data["url"], events=data["events"], assets=data.get("assets")
        )
        webhook.secret = secret
        return Response(WebhookCreatedSerializer(webhook).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(APIView):
    write_scope = Scope.TEAMS_ADMIN

    @extend_schema(responses=WebhookSerializer)
    def get(self, request, slug, pk):
        team = webhook_team_get(user=request.user, slug=slug)
        return Response(WebhookSerializer(webhook_get(team=team, webhook_id=pk)).data)

    @extend_schema(request=WebhookUpdateSerializer, responses=WebhookUpdatedSerializer)
    def patch(self, request, slug, pk):
        """Change its URL, events or active flag, or rotate its secret (maintainers); fields left out stay."""
        team = webhook_team_get(user=request.user, slug=slug)
        data = parse_input(WebhookUpdateSerializer, request.data)
        webhook, secret = webhook_update(user=request.user, webhook=webhook_get(team=team, webhook_id=pk), **data)
        webhook.secret = secret
        return Response(WebhookUpdatedSerializer(webhook).data)

    @extend_schema(responses={204: None})
    def delete(self, request, slug, pk):
        """Delete a webhook and its delivery log (maintainers)."""
        team = webhook_team_get(user=request.user, slug=slug)
        webhook_delete(user=request.user, webhook=webhook_get(team=team, webhook_id=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListView(GenericAPIView):
    serializer_class = DeliverySerializer
    queryset = WebhookDelivery.objects.none()  # for the schema only

    @extend_schema(operation_id="team_webhook_deliveries_list", responses=DeliverySerializer(many=True))
    def get(self, request, slug, pk):
        """The webhook's deliveries, newest first (members)."""
        team = webhook_team_get(user=request.user, slug=slug)
        page = self.paginate_queryset(delivery_list(webhook=webhook_get(team=team, webhook_id=pk)))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)


class WebhookTestView(APIView):
    write_scope = Scope.TEAMS_ADMIN

    @extend_schema(request=None, responses={202: DeliverySerializer})
    def post(self, request, slug, pk):
        """Send a `ping` event to the webhook (maintainers); follow it in the delivery log."""
        team = webhook_team_get(user=request.user, slug=slug)
        delivery = webhook_ping(user=request.user, webhook=webhook_get(team=team, webhook_id=pk))
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
