"""The organisation's OpenID Connect provider as Modelhub reads it: its metadata (discovery, cached an hour) and
the verification of the JWT access tokens it issues for the API (MODELHUB_OIDC_API_AUDIENCE).

An access token is taken only when it is signed with an asymmetric algorithm by a key the provider's JWKS
publishes (fetched on first use, cached five minutes, fetched again for a key id it does not know, so the
provider's key rotation needs nothing here), names the configured issuer and the API's audience, and is within its
lifetime (30 s of clock skew). `alg: none`, HMAC algorithms (whose "key" an attacker could take from the public
JWKS) and tokens without `exp`, `iat` or `sub` are refused. The portal's sign-in (marketplace/pages/sso.py) uses
the same metadata through authlib, which checks state, nonce and PKCE.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import requests
from django.conf import settings
from django.core.cache import cache

METADATA_TTL = 3600
JWKS_TTL = 300
LEEWAY = 30
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")

_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


class ProviderUnavailable(Exception):
    """The provider's metadata or keys could not be fetched: not a verdict on the token."""


class AccessTokenRefused(Exception):
    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message)
        self.message = message
        self.expired = expired


@dataclass(frozen=True)
class AccessToken:
    claims: dict
    expires_at: datetime

    @property
    def subject(self) -> str:
        return str(self.claims["sub"])


def sso_enabled() -> bool:
    return bool(settings.MODELHUB_OIDC_ISSUER)


def api_tokens_enabled() -> bool:
    return bool(settings.MODELHUB_OIDC_ISSUER and settings.MODELHUB_OIDC_API_AUDIENCE)


def discovery_url() -> str:
    return f"{settings.MODELHUB_OIDC_ISSUER}/.well-known/openid-configuration"


def provider_metadata() -> dict:
    """The provider's discovery document (cached on the shared cache); ProviderUnavailable when it cannot be read
    or names another issuer (OpenID Connect Discovery requires them to match)."""
    issuer = settings.MODELHUB_OIDC_ISSUER
    key = f"oidc-metadata:{issuer}"
    metadata = cache.get(key)
    if metadata is not None:
        return metadata
    try:
        response = requests.get(discovery_url(), timeout=5)
        response.raise_for_status()
        metadata = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(
            f"The identity provider's metadata ({discovery_url()}) is unavailable: {exc}"
        ) from exc
    if not isinstance(metadata, dict) or metadata.get("issuer", "").rstrip("/") != issuer:
        raise ProviderUnavailable(f"{discovery_url()} does not describe the issuer {issuer}.")
    cache.set(key, metadata, METADATA_TTL)
    return metadata


def _jwks_client(uri: str):
    import jwt

    with _clients_lock:
        if uri not in _clients:
            _clients[uri] = jwt.PyJWKClient(uri, cache_keys=True, lifespan=JWKS_TTL, timeout=5)
        return _clients[uri]


def looks_like_jwt(credential: str) -> bool:
    return credential.count(".") == 2 and credential.startswith("eyJ")


def access_token_verify(credential: str) -> AccessToken:
    """The verified claims of a provider's access token for this API; AccessTokenRefused says why not."""
    import jwt

    try:
        header = jwt.get_unverified_header(credential)
    except jwt.PyJWTError as exc:
        raise AccessTokenRefused(f"The bearer token is not a well-formed JWT: {exc}.") from None
    algorithm = header.get("alg")
    if algorithm not in ASYMMETRIC_ALGORITHMS:
        raise AccessTokenRefused(
            f"The token is signed with {algorithm!r}; only the provider's asymmetric keys are accepted "
            f"({', '.join(ASYMMETRIC_ALGORITHMS[:3])}, ...)."
        )
    metadata = provider_metadata()
    try:
        signing_key = _jwks_client(metadata["jwks_uri"]).get_signing_key_from_jwt(credential)
    except jwt.PyJWKClientConnectionError as exc:
        raise ProviderUnavailable(f"The identity provider's keys are unavailable: {exc}") from exc
    except (jwt.PyJWKClientError, jwt.PyJWTError, KeyError) as exc:
        raise AccessTokenRefused(f"The token's key is not one the identity provider publishes: {exc}.") from None
    try:
        claims = jwt.decode(
            credential,
            signing_key.key,
            algorithms=[algorithm],
            audience=settings.MODELHUB_OIDC_API_AUDIENCE,
            issuer=settings.MODELHUB_OIDC_ISSUER,
            leeway=LEEWAY,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise AccessTokenRefused("The identity provider's token has expired; get a new one.", expired=True) from None
    except jwt.InvalidAudienceError:
        raise AccessTokenRefused(
            f"The token is not for this API (its audience is not '{settings.MODELHUB_OIDC_API_AUDIENCE}')."
        ) from None
    except jwt.InvalidIssuerError:
        raise AccessTokenRefused(f"The token was not issued by {settings.MODELHUB_OIDC_ISSUER}.") from None
    except jwt.PyJWTError as exc:
        raise AccessTokenRefused(f"The token does not verify: {exc}.") from None
    return AccessToken(claims=claims, expires_at=datetime.fromtimestamp(claims["exp"], tz=UTC))


def token_scopes(claims: dict, known: frozenset[str] | tuple[str, ...]) -> frozenset[str]:
    """Modelhub scopes the token was granted (`scope`, space-separated, or `scp`, a list); one granted none of them
    may read the catalogue only."""
    granted = claims.get("scope", claims.get("scp", ""))
    names = granted.split() if isinstance(granted, str) else [n for n in granted or [] if isinstance(n, str)]
    chosen = frozenset(name for name in names if name in known)
    return chosen or frozenset({"catalogue:read"})


def claim_groups(claims: dict) -> set[str] | None:
    """The provider's groups from MODELHUB_OIDC_GROUPS_CLAIM (a list, or one string); None when no mapping is
    configured (memberships are managed in Modelhub). An absent claim is no groups: many providers leave it out
    when it would be empty, and the provider is the authority on the memberships the map names."""
    name = settings.MODELHUB_OIDC_GROUPS_CLAIM
    if not name:
        return None
    value = claims.get(name, [])
    if isinstance(value, str):
        return {value}
    return {group for group in value if isinstance(group, str)} if isinstance(value, list) else set()
