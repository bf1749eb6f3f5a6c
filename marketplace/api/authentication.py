from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from marketplace.api.throttles import client_address
from registry.tokens.services import token_authenticate


class TokenExpired(exceptions.AuthenticationFailed):
    default_code = "token_expired"


class APITokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>` or `Authorization: Bearer <key>` (what OAuth-style clients send)."""

    keyword = "Token"
    keywords = (b"token", b"bearer")

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                f"Malformed Authorization header: use '{parts[0].decode(errors='replace')} <key>'."
            )
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("The token contains invalid characters.") from None
        user = token_authenticate(key, address=client_address(request))
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if user.token_expired:
            raise TokenExpired(
                f"This token expired at {user.token.expires_at.isoformat(timespec='seconds')}; create a new one."
            )
        return user, user.token  # request.auth: a TokenUse (its id, scopes and expiry)

    def authenticate_header(self, request):
        return self.keyword


class APITokenScheme(OpenApiAuthenticationExtension):
    target_class = "marketplace.api.authentication.APITokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>` or `Bearer <key>`; create keys with POST /api/v1/tokens/ or "
            "`manage.py createtoken`. A token acts within its scopes (each operation names the one it needs; "
            "without it, 403 `insufficient_scope`) until it expires (401 `token_expired`).",
        }
