from datetime import timedelta

import pytest
from django.core.management import call_command

from registry.kernel.audit.models import AuditEvent
from registry.tokens.models import APIToken

pytestmark = pytest.mark.django_db


def test_no_credentials_is_401_with_a_message(anon_api):
    response = anon_api.get("/api/v1/assets/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Authentication credentials were not provided."
    assert response["WWW-Authenticate"] == "Token"


def test_wrong_token_is_401(anon_api):
    anon_api.credentials(HTTP_AUTHORIZATION="Token mh_not-a-real-key")
    response = anon_api.get("/api/v1/assets/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid or revoked token."


def test_create_shows_key_once_and_stores_only_its_hash(alice_api, alice):
    response = alice_api.post("/api/v1/tokens/", {"name": "ci"}, format="json")
    assert response.status_code == 201
    key = response.json()["key"]
    assert key.startswith("mh_") and len(key) > 40
    token = APIToken.objects.get(pk=response.json()["id"])
    assert key not in {token.key_hash, token.prefix} and token.prefix == key[:11]
    listed = alice_api.get("/api/v1/tokens/").json()["results"]
    assert {"ci", "tests"} == {t["name"] for t in listed}
    assert all("key" not in t for t in listed)
    assert AuditEvent.objects.filter(action="token.created", actor=alice).exists()


def test_revoked_token_stops_working(alice_api, anon_api):
    created = alice_api.post("/api/v1/tokens/", {"name": "temp"}, format="json").json()
    anon_api.credentials(HTTP_AUTHORIZATION=f"Token {created['key']}")
    assert anon_api.get("/api/v1/tokens/").status_code == 200
    assert alice_api.delete(f"/api/v1/tokens/{created['id']}/").status_code == 204
    assert anon_api.get("/api/v1/tokens/").status_code == 401
    assert alice_api.delete(f"/api/v1/tokens/{created['id']}/").status_code == 404


def test_use_is_recorded_at_most_once_a_minute_and_a_deactivated_user_is_locked_out(alice, alice_api, anon_api):
    created = alice_api.post("/api/v1/tokens/", {"name": "ci"}, format="json").json()
    anon_api.credentials(HTTP_AUTHORIZATION=f"Token {created['key']}")
    assert APIToken.objects.get(pk=created["id"]).last_used_at is None
    assert anon_api.get("/api/v1/tokens/").status_code == 200
    first = APIToken.objects.get(pk=created["id"]).last_used_at
    assert first is not None
    assert anon_api.get("/api/v1/tokens/").status_code == 200
    assert APIToken.objects.get(pk=created["id"]).last_used_at == first  # within the minute: no write
    APIToken.objects.filter(pk=created["id"]).update(last_used_at=first - timedelta(seconds=61))
    assert anon_api.get("/api/v1/tokens/").status_code == 200
    assert APIToken.objects.get(pk=created["id"]).last_used_at > first
    listed = {t["name"]: t for t in anon_api.get("/api/v1/tokens/").json()["results"]}
    assert listed["ci"]["last_used_at"] is not None
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert anon_api.get("/api/v1/tokens/").status_code == 401


def test_outsider_cannot_see_or_revoke_someone_elses_token(alice_api, charlie_api):
    created = alice_api.post("/api/v1/tokens/", {"name": "mine"}, format="json").json()
    assert "mine" not in {t["name"] for t in charlie_api.get("/api/v1/tokens/").json()["results"]}
    response = charlie_api.delete(f"/api/v1/tokens/{created['id']}/")
    assert response.status_code == 404
    assert APIToken.objects.get(pk=created["id"]).revoked_at is None


def test_token_name_is_required(alice_api):
    response = alice_api.post("/api/v1/tokens/", {"name": ""}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["detail"]


def test_createtoken_command_prints_a_working_key(alice, anon_api, capsys):
    call_command("createtoken", "alice", "--name", "laptop")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    anon_api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert anon_api.get("/api/v1/tokens/").status_code == 200


def test_createtoken_command_takes_scopes_and_days(alice, anon_api, capsys):
    call_command("createtoken", "alice", "--name", "reader", "--scope", "catalogue:read", "--days", "3")
    out = capsys.readouterr()
    assert "with catalogue:read until" in out.err
    token = APIToken.objects.get(name="reader")
    assert (
        token.scopes == ["catalogue:read"] and round((token.expires_at - token.created_at).total_seconds()) == 3 * 86400
    )
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {out.out.strip().splitlines()[-1]}")
    refused = anon_api.post("/api/v1/teams/", {"slug": "x", "name": "X"}, format="json")
    assert refused.status_code == 403 and "teams:admin" in refused.json()["detail"]


def test_createtoken_command_rejects_unknown_user_and_bad_days(alice):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No active user named 'nobody'"):
        call_command("createtoken", "nobody")
    with pytest.raises(CommandError, match="expires_in_days"):
        call_command("createtoken", "alice", "--days", "0")
