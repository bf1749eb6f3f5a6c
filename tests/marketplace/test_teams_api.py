import pytest

from registry.kernel.access import TeamRole
from registry.kernel.audit.models import AuditEvent
from registry.teams.models import Membership

pytestmark = pytest.mark.django_db


def test_any_user_creates_a_team_and_becomes_its_maintainer(charlie_api, charlie):
    response = charlie_api.post("/api/v1/teams/", {"slug": "nlp", "name": "NLP"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["member_count"] == 1
    assert Membership.objects.get(team__slug="nlp", user=charlie).role == TeamRole.MAINTAINER
    assert AuditEvent.objects.filter(action="team.created", actor=charlie).exists()


def test_a_new_team_is_answered_as_stored(charlie_api):
    created = charlie_api.post("/api/v1/teams/", {"slug": "nlp", "name": "NLP"}, format="json").json()
    assert charlie_api.get("/api/v1/teams/nlp/").json() == created


def test_duplicate_team_slug_is_409(alice_api, team):
    response = alice_api.post("/api/v1/teams/", {"slug": "vision", "name": "Again"}, format="json")
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


def test_maintainer_adds_and_removes_members(alice_api, team, charlie):
    response = alice_api.post("/api/v1/teams/vision/members/", {"username": "charlie"}, format="json")
    assert response.status_code == 201, response.json()
    usernames = [m["username"] for m in alice_api.get("/api/v1/teams/vision/members/").json()["results"]]
    assert usernames == ["alice", "bob", "charlie"]
    assert alice_api.delete("/api/v1/teams/vision/members/charlie/").status_code == 204
    assert not Membership.objects.filter(team=team, user=charlie).exists()


def test_adding_an_existing_member_is_409_and_unknown_user_404(alice_api, team):
    assert alice_api.post("/api/v1/teams/vision/members/", {"username": "bob"}, format="json").status_code == 409
    response = alice_api.post("/api/v1/teams/vision/members/", {"username": "ghost"}, format="json")
    assert response.status_code == 404
    assert "ghost" in response.json()["detail"]


def test_plain_member_and_outsider_cannot_manage_members(bob_api, charlie_api, team, charlie):
    assert bob_api.post("/api/v1/teams/vision/members/", {"username": "charlie"}, format="json").status_code == 403
    assert charlie_api.post("/api/v1/teams/vision/members/", {"username": "charlie"}, format="json").status_code == 403
    assert charlie_api.delete("/api/v1/teams/vision/members/bob/").status_code == 403
    assert not Membership.objects.filter(team=team, user=charlie).exists()


def test_member_may_leave(bob_api, team, bob):
    assert bob_api.delete("/api/v1/teams/vision/members/bob/").status_code == 204
    assert not Membership.objects.filter(team=team, user=bob).exists()


def test_last_maintainer_cannot_leave_or_be_demoted(alice_api, team):
    response = alice_api.delete("/api/v1/teams/vision/members/alice/")
    assert response.status_code == 409
    assert "last maintainer" in response.json()["detail"]
    assert alice_api.patch("/api/v1/teams/vision/members/alice/", {"role": "member"}, format="json").status_code == 409
    assert (
        alice_api.patch("/api/v1/teams/vision/members/bob/", {"role": "maintainer"}, format="json").status_code == 200
    )
    assert alice_api.patch("/api/v1/teams/vision/members/alice/", {"role": "member"}, format="json").status_code == 200


def test_bad_role_is_400(alice_api, team):
    response = alice_api.patch("/api/v1/teams/vision/members/bob/", {"role": "owner"}, format="json")
    assert response.status_code == 400
    assert "role" in response.json()["detail"]


def test_unknown_team_is_404(alice_api):
    assert alice_api.get("/api/v1/teams/nope/").status_code == 404
