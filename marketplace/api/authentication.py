from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from marketplace.api.throttles import client_address
from registry.identities import oidc
from registry.identities.services import external_identity_sign_in
from registry.kernel.errors import DomainError
from registry.tokens.models import ALL_SCOPES
from registry.tokens.services import TokenUse, token_authenticate


class TokenExpired(exceptions.AuthenticationFailed):
    default_code = "token_expired"


class ProviderUnavailable(exceptions.APIException):
    status_code = 503
    default_code = "identity_provider_unavailable"


def provider_token_authenticate(credential: str):
    """(user, TokenUse) for the identity provider's JWT access token (registry/identities/oidc.py): the user its
    `sub` signs in as, with the Modelhub scopes it was granted, until it expires."""
    try:
        token = oidc.access_token_verify(credential)
    except oidc.AccessTokenRefused as refused:
        raise (TokenExpired if refused.expired else exceptions.AuthenticationFailed)(refused.message) from None
    except oidc.ProviderUnavailable as exc:
        raise ProviderUnavailable(f"{exc} Retry later, or use a Modelhub token.") from None
    try:
        user = external_identity_sign_in(issuer=settings.MODELHUB_OIDC_ISSUER, claims=token.claims)
    except DomainError as exc:
        raise exceptions.AuthenticationFailed(exc.message) from None
    return user, TokenUse(
        id=f"oidc-{user.pk}", scopes=oidc.token_scopes(token.claims, ALL_SCOPES), expires_at=token.expires_at
    )


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
        if oidc.looks_like_jwt(key) and oidc.api_tokens_enabled():
            return provider_token_authenticate(key)
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
            "without it, 403 `insufficient_scope`) until it expires (401 `token_expired`). Where the organisation's "
            "OpenID Connect provider is configured for the API, `Bearer <its JWT access token>` works too, with "
            "the Modelhub scopes in its `scope` claim (none of them: read the catalogue only).",
        }
