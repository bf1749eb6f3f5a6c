"""Single sign-on through the organisation's OpenID Connect provider, with authlib's Django client: the
authorization code flow with PKCE (S256), the state and nonce it keeps in the session and checks on the way back,
and the ID token verified against the provider's keys (discovery and JWKS fetched once per process and cached).
The user the ID token names is made or refreshed, and the provider's groups applied, by
registry.identities.services.external_identity_sign_in. Signing out also ends the provider's session when it
publishes an end_session_endpoint (RP-initiated logout)."""

import logging
import threading
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from registry.identities import oidc
from registry.identities.services import external_identity_sign_in
from registry.kernel.errors import DomainError

logger = logging.getLogger(__name__)

NEXT = "sso_next"
ID_TOKEN = "sso_id_token"
BACKEND = "marketplace.pages.accounts.PeopleBackend"

_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


def _client():
    """authlib's client for the configured provider, one per configuration (tests change it), kept so the
    metadata and keys it fetched are reused."""
    from authlib.integrations.django_client import OAuth

    config = (
        settings.MODELHUB_OIDC_ISSUER,
        settings.MODELHUB_OIDC_CLIENT_ID,
        settings.MODELHUB_OIDC_CLIENT_SECRET,
        settings.MODELHUB_OIDC_SCOPES,
    )
    with _clients_lock:
        if config not in _clients:
            oauth = OAuth()
            oauth.register(
                name="modelhub",
                server_metadata_url=oidc.discovery_url(),
                client_id=config[1],
                client_secret=config[2],
                client_kwargs={"scope": config[3], "code_challenge_method": "S256", "timeout": 10},
            )
            _clients[config] = oauth.create_client("modelhub")
        return _clients[config]


def _failed(request, reason: str, *, status: int = 400):
    return render(
        request, "pages/sso_failed.html", {"reason": reason, "sso_name": settings.MODELHUB_OIDC_NAME}, status=status
    )


class SSOStartView(View):
    """GET: off to the provider, with a fresh state, nonce and PKCE verifier kept in the session."""

    def get(self, request):
        if not oidc.sso_enabled():
            raise Http404("Single sign-on is not configured.")
        wanted = request.GET.get("next", "")
        safe = url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure())
        request.session[NEXT] = wanted if safe else ""
        try:
            return _client().authorize_redirect(request, request.build_absolute_uri(reverse("pages:sso-callback")))
        except (requests.RequestException, ValueError) as exc:
            logger.warning("single sign-on: the provider cannot be reached: %s", exc)
            return _failed(request, "The identity provider cannot be reached; try again in a moment.", status=503)


class SSOCallbackView(View):
    """GET: the provider's answer. The code is exchanged (with the PKCE verifier) only for the state this session
    sent; the ID token must verify, name this client and carry the nonce sent; then the user is signed in."""

    def get(self, request):
        from authlib.common.errors import AuthlibBaseError  # OAuthError (state, the token endpoint), claim errors
        from joserfc.errors import JoseError  # the ID token's signature

        if not oidc.sso_enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            token = _client().authorize_access_token(request)
        except (AuthlibBaseError, JoseError) as exc:
            return _failed(request, f"The identity provider's answer was refused: {exc}.")
        except (requests.RequestException, ValueError) as exc:
            logger.warning("single sign-on: the provider cannot be reached: %s", exc)
            return _failed(request, "The identity provider cannot be reached; try again in a moment.", status=503)
        claims = token.get("userinfo")
        if not claims:
            return _failed(request, "The identity provider sent no ID token; is the `openid` scope configured?")
        try:
            user = external_identity_sign_in(issuer=settings.MODELHUB_OIDC_ISSUER, claims=dict(claims))
        except DomainError as exc:
            return _failed(request, exc.message, status=exc.status_code)
        wanted = request.session.pop(NEXT, "")
        login(request, user, backend=BACKEND)  # a new session key; what follows is stored in it
        request.session[ID_TOKEN] = token.get("id_token", "")
        return redirect(wanted or settings.LOGIN_REDIRECT_URL)


def provider_logout_url(request, id_token: str) -> str | None:
    """Where to send a browser that signed in with the provider and has just signed out here, so the provider's
    session ends too (and it comes back to the sign-in page); None when the provider has no end_session_endpoint."""
    try:
        end = oidc.provider_metadata().get("end_session_endpoint")
    except oidc.ProviderUnavailable:
        return None
    if not end:
        return None
    query = {
        "id_token_hint": id_token,
        "client_id": settings.MODELHUB_OIDC_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(reverse(settings.LOGOUT_REDIRECT_URL)),
    }
    return f"{end}{'&' if '?' in end else '?'}{urlencode(query)}"
