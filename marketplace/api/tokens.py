from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from marketplace.api.input import StrictCharField
from marketplace.api.views import ANY_SCOPE, APIView, GenericAPIView
from registry.tokens.models import APIToken, Scope
from registry.tokens.selectors import token_list
from registry.tokens.services import TokenUse, token_create, token_revoke


class TokenSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = StrictCharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Scope.choices),
        required=False,
        help_text="What the token may do (each operation names the scope it needs); all of them when not given. "
        "Made with a token, only scopes that token has.",
    )
    expires_in_days = serializers.IntegerField(
        write_only=True,
        required=False,
        min_value=1,
        help_text="Days until the token expires: MODELHUB_TOKEN_DEFAULT_DAYS when not given, at most "
        "MODELHUB_TOKEN_MAX_DAYS (and never after the token it is made with).",
    )
    prefix = serializers.CharField(read_only=True, help_text="First characters of the key.")
    created_at = serializers.DateTimeField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Null: never (made before 1.1).")
    last_used_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_used_ip = serializers.IPAddressField(read_only=True, allow_null=True, help_text="The caller's address then.")


class TokenCreatedSerializer(TokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown only in this response; store it now.")


class TokenListView(GenericAPIView):
    write_scope = ANY_SCOPE  # within what the token itself may do (registry.tokens.services)
    serializer_class = TokenSerializer
    queryset = APIToken.objects.none()  # for the schema only; data comes from selectors

    @extend_schema(operation_id="tokens_list", responses=TokenSerializer(many=True))
    def get(self, request):
        """Your active tokens (never their keys)."""
        page = self.paginate_queryset(token_list(user=request.user))
        return self.get_paginated_response(TokenSerializer(page, many=True).data)

    @extend_schema(request=TokenSerializer, responses={201: TokenCreatedSerializer})
    def post(self, request):
        """Create a token; its key is in this response only."""
        serializer = TokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, key = token_create(
            user=request.user,
            name=data["name"],
            scopes=data.get("scopes"),
            expires_in_days=data.get("expires_in_days"),
            within=request.auth if isinstance(request.auth, TokenUse) else None,
        )
        token.key = key
        return Response(TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenDetailView(APIView):
    write_scope = ANY_SCOPE  # within what the token itself may do (registry.tokens.services)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        """Revoke one of your tokens."""
        token_revoke(user=request.user, token_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
