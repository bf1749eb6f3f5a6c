"""Following assets by email: a person's subscriptions to assets they may see, of any team."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from marketplace.api.input import RejectUnknownFieldsMixin, parse_input
from marketplace.api.views import APIView, GenericAPIView
from registry.assets.selectors import asset_get
from registry.kernel.errors import NotFound
from registry.notifications.models import AssetSubscription
from registry.notifications.services import FOLLOWABLE_EVENTS, subscription_delete, subscription_set
from registry.tokens.models import Scope


class SubscriptionSerializer(serializers.Serializer):
    asset = serializers.CharField(source="asset.full_slug", help_text="`team/slug` of the asset followed.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=FOLLOWABLE_EVENTS), help_text="Events emailed; empty: all of them."
    )
    created_at = serializers.DateTimeField()


class SubscriptionInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=FOLLOWABLE_EVENTS),
        required=False,
        default=list,
        max_length=len(FOLLOWABLE_EVENTS) * 2,
        help_text="Events to be emailed about; leave out or empty for every version event.",
    )


class SubscriptionListView(GenericAPIView):
    serializer_class = SubscriptionSerializer
    queryset = AssetSubscription.objects.none()  # for the schema only

    @extend_schema(operation_id="subscriptions_list", responses=SubscriptionSerializer(many=True))
    def get(self, request):
        """The assets you follow by email."""
        mine = AssetSubscription.objects.filter(user=request.user).select_related("asset__team").order_by("pk")
        page = self.paginate_queryset(mine)
        return self.get_paginated_response(SubscriptionSerializer(page, many=True).data)


class AssetSubscriptionView(APIView):
    # Following an asset is reading it by email: the catalogue scope.
    write_scope = Scope.CATALOGUE_READ

    @extend_schema(operation_id="asset_subscription_get", responses=SubscriptionSerializer)
    def get(self, request, team, slug):
        """Your subscription to the asset (404 when you do not follow it)."""
        asset = asset_get(user=request.user, team=team, slug=slug)
        found = AssetSubscription.objects.filter(user=request.user, asset=asset).select_related("asset__team").first()
        if found is None:
            raise NotFound(f"You do not follow '{asset.full_slug}'.")
        return Response(SubscriptionSerializer(found).data)

    @extend_schema(
        operation_id="asset_subscription_set", request=SubscriptionInputSerializer, responses=SubscriptionSerializer
    )
    def put(self, request, team, slug):
        """Follow the asset by email (any asset you may see), for these events; again to change them."""
        asset = asset_get(user=request.user, team=team, slug=slug)
        data = parse_input(SubscriptionInputSerializer, request.data)
        return Response(SubscriptionSerializer(subscription_set(user=request.user, asset=asset, **data)).data)

    @extend_schema(operation_id="asset_subscription_delete", responses={204: None})
    def delete(self, request, team, slug):
        """Stop following the asset."""
        subscription_delete(user=request.user, asset=asset_get(user=request.user, team=team, slug=slug))
        return Response(status=status.HTTP_204_NO_CONTENT)
