from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from marketplace.api.input import StrictCharField
from marketplace.api.views import APIView, GenericAPIView
from registry.tokens.models import APIToken
from registry.tokens.selectors import token_list
from registry.tokens.services import token_create, token_revoke


class TokenSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = StrictCharField(max_length=100)
    prefix = serializers.CharField(read_only=True, help_text="First characters of the key.")
    created_at = serializers.DateTimeField(read_only=True)
    last_used_at = serializers.DateTimeField(read_only=True, allow_null=True)


class TokenCreatedSerializer(TokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown only in this response; store it now.")


class TokenListView(GenericAPIView):
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
        token, key = token_create(user=request.user, name=serializer.validated_data["name"])
        token.key = key
        return Response(TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        """Revoke one of your tokens."""
        token_revoke(user=request.user, token_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
