"""What the test provider puts in its tokens: the user's groups (a `groups` claim) and profile in ID tokens and
userinfo, and access tokens that are JWTs (RFC 9068) signed with the provider's OIDC key under the kid its JWKS
publishes, for the audience IDP_API_AUDIENCE."""

import time
import uuid

from django.conf import settings
from jwcrypto import jwk, jwt
from oauth2_provider.oauth2_validators import OAuth2Validator


def _groups(user) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True)) if user is not None else []


class GroupsValidator(OAuth2Validator):
    oidc_claim_scope = None  # every claim below, whatever the scopes asked for

    def get_additional_claims(self, request):
        user = request.user
        return {
            "preferred_username": user.username,
            "email": user.email,
            "name": user.get_full_name() or user.username,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "groups": _groups(user),
        }


def jwt_access_token(request, refresh_token=False) -> str:
    """ACCESS_TOKEN_GENERATOR: a user's token names the user (`sub` as in its ID token); a client-credentials
    token names the client, with the groups of the user who owns the client."""
    key = jwk.JWK.from_pem(settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"].encode())
    machine = request.grant_type == "client_credentials"
    user = request.client.user if machine else request.user
    now = int(time.time())
    claims = {
        "iss": settings.ISSUER,
        "sub": request.client_id if machine else str(user.pk),
        "aud": settings.API_AUDIENCE,
        "client_id": request.client_id,
        "scope": " ".join(request.scopes),
        "groups": _groups(user),
        "iat": now,
        "exp": now + int(request.expires_in),
        "jti": uuid.uuid4().hex,
    }
    if not machine:
        claims["preferred_username"] = user.username
    token = jwt.JWT(header={"alg": "RS256", "kid": key.thumbprint(), "typ": "at+jwt"}, claims=claims)
    token.make_signed_token(key)
    return token.serialize()
