"""The identity provider's JWT access tokens on the API (registry/identities/oidc.py, marketplace/api/authentication.py)
against a real OpenID Connect provider on loopback (tests/identity_provider): a machine identity's token works
within its scopes, the provider's groups become memberships, and a tampered, expired, foreign or unsigned token is
refused with a message that says which."""

import base64
import json
import time

import jwt
import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from registry.identities.group_map import group_map_parse
from registry.identities.models import ExternalIdentity
from registry.identities.services import external_identity_sign_in
from registry.kernel.audit.models import AuditEvent
from registry.teams.models import Membership
from tests.factories import make_asset
from tests.identity_provider.process import (
    PIPELINE_CLIENT,
    example_corp,
    identity_provider,
    modelhub_settings,
    rsa_key_pem,
)

pytestmark = pytest.mark.django_db
ASSETS = "/api/v1/assets/"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    with identity_provider(tmp_path_factory.mktemp("idp"), **example_corp()) as idp:
        yield idp


@pytest.fixture
def sso(settings, provider):
    modelhub_settings(settings, provider)
    return provider


@pytest.fixture
def private_asset(alice, team):
    return make_asset(alice, team, slug="secret-model", kind="model", visibility="private")


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_machine_identitys_token_reads_what_its_groups_give_within_its_scopes(sso, private_asset, team):
    token = sso.token(*PIPELINE_CLIENT, scope="catalogue:read")["access_token"]
    api = bearer(token)
    listed = api.get(ASSETS)
    assert listed.status_code == 200, listed.json()
    # The client's owner is in ml-vision, mapped to team:vision: the private asset is visible.
    assert "vision/secret-model" in [a["full_slug"] for a in listed.json()["results"]]
    user = get_user_model().objects.get(external_identity__subject=PIPELINE_CLIENT[0])
    assert user.username == "nightly-pipeline" and not user.has_usable_password()
    assert Membership.objects.get(user=user, team=team).role == "member"

    write = api.post(ASSETS, {"team": "vision", "slug": "x", "name": "x", "kind": "model"}, format="json")
    assert write.status_code == 403 and write.json()["code"] == "insufficient_scope"
    assert "versions:write" in write.json()["detail"] or "scope" in write.json()["detail"]

    assert bearer(token).get(ASSETS).status_code == 200  # the second call finds the same user
    assert ExternalIdentity.objects.filter(subject=PIPELINE_CLIENT[0]).count() == 1


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = "catalogue:read versions:write deploy teams:admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_tampered_expired_foreign_and_unsigned_tokens_are_refused(sso, team):
    real = sso.token(*PIPELINE_CLIENT, scope="catalogue:read")["access_token"]
    now = int(time.time())
    cases = {
        "tampered": (tampered(real), 401, "authentication_failed", "does not verify"),
        "expired": (sso.mint({"sub": "x", "exp": now - 120, "iat": now - 900}), 401, "token_expired", "expired"),
        "another audience": (sso.mint({"sub": "x", "aud": "another-api"}), 401, "authentication_failed", "audience"),
        "another issuer": (
            sso.mint({"sub": "x", "iss": "https://evil.example"}),
            401,
            "authentication_failed",
            "not issued by",
        ),
        "a key the provider does not publish": (
            sso.mint({"sub": "x"}, key_pem=rsa_key_pem(), kid="not-a-provider-key"),
            401,
            "authentication_failed",
            "key",
        ),
        "the provider's kid on another key": (
            sso.mint({"sub": "x"}, key_pem=rsa_key_pem()),
            401,
            "authentication_failed",
            "does not verify",
        ),
        "no exp": (sso.mint({"sub": "x", "exp": None}), 401, "authentication_failed", "exp"),
        "alg none": (
            jwt.encode(
                {"iss": sso.issuer, "aud": "modelhub-api", "sub": "x", "exp": now + 60, "iat": now}, None, "none"
            ),
            401,
            "authentication_failed",
            "'none'",
        ),
    }
    # HS256, the algorithm confusion (an HMAC "signed" with the public key): refused for its algorithm, whatever
    # its signature (PyJWT will not even make one with a PEM, so it is written by hand).
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps({"sub": "x", "exp": now + 60}).encode()).rstrip(b"=").decode()
    cases["HS256"] = (f"{header}.{body}.c2lnbmF0dXJl", 401, "authentication_failed", "'HS256'")
    before = get_user_model().objects.count()
    for name, (token, status, code, words) in cases.items():
        response = bearer(token).get(ASSETS)
        assert response.status_code == status, (name, response.json())
        assert response.json()["code"] == code and words in response.json()["detail"], (name, response.json())
    assert get_user_model().objects.count() == before  # nobody was made for a refused token


def test_without_an_api_audience_the_providers_tokens_are_not_taken(settings, provider):
    modelhub_settings(settings, provider, api=False)
    token = provider.token(*PIPELINE_CLIENT, scope="catalogue:read")["access_token"]
    response = bearer(token).get(ASSETS)
    assert response.status_code == 401 and "Invalid or revoked token" in response.json()["detail"]


def test_an_unreachable_provider_is_a_503_not_a_verdict(settings, provider):
    from tests.s3 import free_port

    modelhub_settings(settings, provider)
    settings.MODELHUB_OIDC_ISSUER = f"http://127.0.0.1:{free_port()}/o"
    token = provider.mint({"sub": "x", "iss": settings.MODELHUB_OIDC_ISSUER})
    response = bearer(token).get(ASSETS)
    assert response.status_code == 503 and response.json()["code"] == "identity_provider_unavailable"
    assert "Retry later" in response.json()["detail"]


def test_the_providers_groups_decide_the_memberships_the_map_names(sso, team, alice, charlie, reviewers):
    from registry.teams.services import team_create

    audio = team_create(user=charlie, slug="audio", name="Audio")  # not in the map: left alone
    claims = {"sub": "erin-at-idp", "preferred_username": "erin", "email": "erin@example.com"}
    user = external_identity_sign_in(issuer=sso.issuer, claims={**claims, "groups": ["ml-vision", "model-reviewers"]})
    assert Membership.objects.get(user=user, team=team).role == "member"
    assert user.groups.filter(name="reviewers").exists()
    Membership.objects.create(user=user, team=audio, role="member")

    external_identity_sign_in(issuer=sso.issuer, claims={**claims, "groups": ["ml-vision", "ml-vision-leads"]})
    assert Membership.objects.get(user=user, team=team).role == "maintainer"
    assert not user.groups.filter(name="reviewers").exists()

    token = sso.mint({**claims, "groups": [], "scope": "catalogue:read"})
    assert bearer(token).get(ASSETS).status_code == 200
    assert not Membership.objects.filter(user=user, team=team).exists()
    assert Membership.objects.filter(user=user, team=audio).exists()
    actions = list(
        AuditEvent.objects.filter(data__username=user.username, data__source="identity provider")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "team.member_added",
        "identity.groups_mapped",
        "team.member_role_changed",
        "identity.groups_mapped",
        "team.member_removed",
    ]
    assert AuditEvent.objects.filter(action="identity.provisioned", target_id=str(user.pk)).count() == 1

    # The same claims again change nothing.
    count = AuditEvent.objects.count()
    external_identity_sign_in(issuer=sso.issuer, claims={**claims, "groups": []})
    assert AuditEvent.objects.count() == count


def test_without_a_groups_claim_memberships_stay_managed_in_modelhub(settings, provider, team):
    modelhub_settings(settings, provider, groups=False)
    user = external_identity_sign_in(issuer=provider.issuer, claims={"sub": "s1", "groups": ["ml-vision"]})
    assert not Membership.objects.filter(user=user).exists() and not ExternalIdentity.objects.get(user=user).groups


def test_an_identity_never_takes_over_a_local_account_of_the_same_name(sso, alice):
    user = external_identity_sign_in(issuer=sso.issuer, claims={"sub": "other", "preferred_username": "alice"})
    assert user.pk != alice.pk and user.username == "alice-2"
    seen = ExternalIdentity.objects.get(user=user).last_seen_at
    again = external_identity_sign_in(issuer=sso.issuer, claims={"sub": "other", "preferred_username": "alice"})
    assert again.pk == user.pk
    assert ExternalIdentity.objects.get(user=user).last_seen_at == seen  # within a minute: nothing written
    deactivated = external_identity_sign_in(issuer=sso.issuer, claims={"sub": "gone", "preferred_username": "gone"})
    deactivated.is_active = False
    deactivated.save()
    response = bearer(sso.mint({"sub": "gone"})).get(ASSETS)
    assert response.status_code == 401 and "deactivated" in response.json()["detail"]


@pytest.mark.parametrize(
    "text, problem",
    [
        ("ml-vision", "write idp-group="),
        ("ml-vision=team:vision:owner", "member or maintainer"),
        ("ml-vision=teams:vision", "not 'teams'"),
        ("=team:vision", "write idp-group="),
    ],
)
def test_a_wrong_group_map_is_refused_at_start(text, problem):
    with pytest.raises(ValueError, match=problem):
        group_map_parse(text)


def test_the_group_map_takes_the_highest_role():
    mapping = group_map_parse("a=team:vision, b=team:vision:maintainer, c=group:reviewers, c=team:audio")
    assert mapping.roles_for({"a", "b"}) == {"vision": "maintainer"}
    assert mapping.roles_for({"a", "c"}) == {"vision": "member", "audio": "member"}
    assert mapping.groups_for({"c"}) == {"reviewers"} and mapping.managed_teams == {"vision", "audio"}


def test_signing_out_may_reach_the_providers_logout_under_the_content_security_policy(settings, client):
    settings.MODELHUB_OIDC_ISSUER = "https://id.example.com/realms/corp"
    policy = client.get("/signin/")["Content-Security-Policy"]
    assert "form-action 'self' https://id.example.com;" in policy and "script-src 'self';" in policy
    settings.MODELHUB_OIDC_ISSUER = ""
    assert "form-action 'self';" in client.get("/signin/")["Content-Security-Policy"]
