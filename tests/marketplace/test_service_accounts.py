"""Service accounts: team-owned identities for pipelines, made by maintainers, acting only through the scoped tokens
made for them, audited, never signing in to the portal and never reviewing."""

import pytest

from registry.governance.services import review_submit, version_submit
from registry.kernel.audit.models import AuditEvent
from registry.kernel.errors import PermissionDenied
from registry.teams.models import Membership
from tests.factories import make_asset, make_validated_version

pytestmark = pytest.mark.django_db
BASE = "/api/v1/teams/vision/service-accounts/"


def test_maintainers_make_one_and_its_scoped_token_acts_for_the_team(alice, bob, team, alice_api, bob_api, anon_api):
    refused = bob_api.post(BASE, {"name": "nightly"}, format="json")  # bob is a member, not a maintainer
    assert refused.status_code == 403
    made = alice_api.post(BASE, {"name": "nightly", "description": "Retrains every night."}, format="json")
    assert made.status_code == 201 and made.json()["username"] == "svc-vision-nightly"
    assert alice_api.post(BASE, {"name": "nightly"}, format="json").status_code == 409
    assert Membership.objects.get(user__username="svc-vision-nightly").role == "member"

    created = alice_api.post(
        f"{BASE}nightly/tokens", {"name": "ci", "scopes": ["catalogue:read", "versions:write"]}, format="json"
    )
    assert created.status_code == 201 and created.json()["scopes"] == ["catalogue:read", "versions:write"]
    assert AuditEvent.objects.filter(action="token.created", actor=alice).exists()  # made by the maintainer
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {created.json()['key']}")
    asset = anon_api.post(
        "/api/v1/assets/", {"team": "vision", "slug": "churn", "name": "Churn", "kind": "model"}, format="json"
    )
    assert asset.status_code == 201, asset.json()
    assert anon_api.post(f"{BASE}", {"name": "other"}, format="json").status_code == 403  # no teams:admin

    disabled = alice_api.delete(f"{BASE}nightly/")
    assert disabled.status_code == 200 and disabled.json()["disabled_at"]
    assert anon_api.get("/api/v1/assets/").status_code == 401  # its tokens stop at once
    assert [e["name"] for e in alice_api.get(BASE).json()["results"]] == ["nightly"]  # kept as the record
    actions = set(AuditEvent.objects.filter(team=team).values_list("action", flat=True))
    assert {"service_account.created", "service_account.disabled"} <= actions


def test_it_never_signs_in_to_the_portal(alice, team, alice_api, client):
    from django.contrib.auth import get_user_model

    alice_api.post(BASE, {"name": "nightly"}, format="json")
    account = get_user_model().objects.get(username="svc-vision-nightly")
    account.set_password("guessable")  # even given a password by someone with database access
    account.save()
    refused = client.post("/signin/", {"username": "svc-vision-nightly", "password": "guessable"})
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    assert not get_user_model().objects.get(username="svc-vision-nightly").last_login


def test_it_never_reviews_even_in_a_reviewer_group(alice, bob, team, alice_api, reviewers, tmp_path):
    from django.contrib.auth import get_user_model

    alice_api.post(BASE, {"name": "nightly"}, format="json")
    account = get_user_model().objects.get(username="svc-vision-nightly")
    account.groups.add(reviewers)
    version = make_validated_version(alice, make_asset(alice, team, slug="clf", license="MIT"), tmp_path)
    version_submit(user=bob, version=version)
    with pytest.raises(PermissionDenied, match="Service accounts never review"):
        review_submit(user=account, version=version, decision="approve", comment="Looks fine.")
