"""Service accounts of a team over the API: list, create, make a token for one, disable (maintainers)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from marketplace.api.input import StrictCharField, StrictRegexField, parse_input
from marketplace.api.tokens import TokenCreatedSerializer, TokenSerializer
from marketplace.api.views import APIView, GenericAPIView
from registry.identities.models import ServiceAccount
from registry.identities.selectors import service_account_list
from registry.identities.services import service_account_create, service_account_disable, service_account_token_create
from registry.kernel.lib.slugs import SLUG_PATTERN
from registry.teams.selectors import team_get
from registry.tokens.models import Scope


class ServiceAccountSerializer(serializers.Serializer):
    name = StrictRegexField(SLUG_PATTERN, max_length=64, help_text="Unique in the team, e.g. nightly-training.")
    description = StrictCharField(required=False, allow_blank=True, default="", max_length=2000)
    username = serializers.CharField(source="user.username", read_only=True, help_text="What the audit trail shows.")
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    created_at = serializers.DateTimeField(read_only=True)
    disabled_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ServiceAccountListView(GenericAPIView):
    write_scope = Scope.TEAMS_ADMIN
    serializer_class = ServiceAccountSerializer
    queryset = ServiceAccount.objects.none()  # for the schema only

    @extend_schema(operation_id="service_accounts_list", responses=ServiceAccountSerializer(many=True))
    def get(self, request, slug):
        """The team's service accounts, disabled ones too (maintainers)."""
        page = self.paginate_queryset(
            service_account_list(user=request.user, team=team_get(user=request.user, slug=slug))
        )
        return self.get_paginated_response(ServiceAccountSerializer(page, many=True).data)

    @extend_schema(request=ServiceAccountSerializer, responses={201: ServiceAccountSerializer})
    def post(self, request, slug):
        """Create a service account: a member of the team that acts only through tokens made for it here; it never
        signs in to the portal and never reviews."""
        data = parse_input(ServiceAccountSerializer, request.data)
        account = service_account_create(actor=request.user, team=team_get(user=request.user, slug=slug), **data)
        return Response(ServiceAccountSerializer(account).data, status=status.HTTP_201_CREATED)


class ServiceAccountDetailView(APIView):
    write_scope = Scope.TEAMS_ADMIN

    @extend_schema(responses={200: ServiceAccountSerializer})
    def delete(self, request, slug, name):
        """Disable the service account: every token of it stops working at once."""
        account = service_account_disable(actor=request.user, team=team_get(user=request.user, slug=slug), name=name)
        return Response(ServiceAccountSerializer(account).data)


class ServiceAccountTokenView(APIView):
    write_scope = Scope.TEAMS_ADMIN

    @extend_schema(request=TokenSerializer, responses={201: TokenCreatedSerializer})
    def post(self, request, slug, name):
        """Make a scoped, expiring token for the service account; its key is in this response only."""
        data = parse_input(TokenSerializer, request.data)
        token, key = service_account_token_create(
            actor=request.user,
            team=team_get(user=request.user, slug=slug),
            name=name,
            token_name=data["name"],
            scopes=data.get("scopes"),
            expires_in_days=data.get("expires_in_days"),
        )
        token.key = key
        return Response(TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)
