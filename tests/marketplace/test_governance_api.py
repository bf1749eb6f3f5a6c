"""Release reviews and aliases over the API, including two reviewers acting at the same moment."""

import threading

import pytest
from django.db import connection

from registry.kernel.audit.models import AuditEvent
from registry.versions.models import AssetVersion
from tests.factories import make_asset, make_validated_version

V = "/api/v1/assets/vision/clf/versions/1.0.0"


@pytest.fixture
def version(alice, team, tmp_path):
    return make_validated_version(
        alice, make_asset(alice, team, slug="clf", license="MIT", visibility="private"), tmp_path
    )


@pytest.fixture
def dave_api(dave, client_for):
    return client_for(dave)


@pytest.fixture
def erin_api(erin, client_for):
    return client_for(erin)


@pytest.mark.django_db
def test_submit_review_and_alias_through_the_api(version, bob_api, dave_api, alice_api, charlie_api):
    assert charlie_api.post(f"{V}/submit", {}, format="json").status_code == 404  # private: no hint it exists
    response = bob_api.post(f"{V}/submit", {"note": "First release."}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "open" and response.json()["approvals_required"] == 1

    # dave reviews from outside the team: the private asset is reachable for what he must review.
    queue = dave_api.get("/api/v1/reviews/?status=pending").json()
    assert [(r["asset"], r["version"]) for r in queue["results"]] == [("vision/clf", "1.0.0")]
    assert dave_api.get(f"{V}/").status_code == 404
    response = dave_api.post(f"{V}/reviews", {"decision": "approve", "comment": "Reproduced."}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "approved" and response.json()["version_status"] == "approved"
    assert dave_api.get("/api/v1/reviews/").json()["results"] == []
    rounds = alice_api.get(f"{V}/reviews").json()
    assert rounds[0]["reviews"][0] == {**rounds[0]["reviews"][0], "reviewer": "dave", "decision": "approve"}

    assert (
        alice_api.put("/api/v1/assets/vision/clf/aliases/production", {"version": "1.0.0"}, format="json").status_code
        == 403
    )  # protected: reviewers only
    assert (
        bob_api.put("/api/v1/assets/vision/clf/aliases/champion", {"version": "1.0.0"}, format="json").status_code
        == 200
    )
    resolved = alice_api.get("/api/v1/assets/vision/clf/versions/@champion/")
    assert resolved.status_code == 200 and resolved.json()["version"] == "1.0.0"
    assert resolved.json()["aliases"] == ["champion"]
    assert charlie_api.get("/api/v1/assets/vision/clf/versions/@champion/").status_code == 404
    assert alice_api.get("/api/v1/assets/vision/clf/versions/@nothing/").status_code == 404
    assert alice_api.get("/api/v1/assets/vision/clf/aliases/").json()["results"][0]["name"] == "champion"

    response = alice_api.post(f"{V}/deprecate", {"reason": "old"}, format="json")
    assert response.status_code == 409 and "champion" in response.json()["detail"]
    assert bob_api.delete("/api/v1/assets/vision/clf/aliases/champion").status_code == 204
    response = alice_api.post(f"{V}/deprecate", {"reason": "Superseded."}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "deprecated" and response.json()["deprecation_reason"] == "Superseded."


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, body, expected",
    [
        ("/submit", {"note": 5}, 400),
        ("/submit", {"surprise": 1}, 400),
        ("/reviews", {"decision": "approve"}, 400),
        ("/reviews", {"decision": "ship-it", "comment": "x"}, 400),
        ("/reviews", {"decision": "approve", "comment": "not in review"}, 409),
        ("/deprecate", {}, 400),
    ],
)
def test_bad_governance_requests_are_4xx_with_a_message(path, body, expected, version, alice_api, dave):
    response = alice_api.post(f"{V}{path}", body, format="json")
    assert response.status_code == expected and response.json()["detail"]


@pytest.mark.django_db
def test_alias_to_a_version_that_is_not_approved_is_409(version, alice_api):
    response = alice_api.put("/api/v1/assets/vision/clf/aliases/champion", {"version": "1.0.0"}, format="json")
    assert response.status_code == 409 and "approved versions only" in response.json()["detail"]
    assert alice_api.get("/api/v1/reviews/?status=done").status_code == 400


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_at_the_same_moment_give_one_outcome(
    alice, team, tmp_path, bob_api, dave_api, erin_api
):
    # An internal asset: the loser still sees the version, so it is told the round is closed (a private
    # asset would be a 404 for it once the round it could review has closed).
    version = make_validated_version(alice, make_asset(alice, team, slug="clf", license="MIT"), tmp_path)
    assert bob_api.post(f"{V}/submit", {}, format="json").status_code == 201
    barrier = threading.Barrier(2)
    answers = []

    def approve(client) -> None:
        try:
            barrier.wait()
            answers.append(client.post(f"{V}/reviews", {"decision": "approve", "comment": "ok"}, format="json"))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(client,)) for client in (dave_api, erin_api)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [201, 409], [a.json() for a in answers]
    assert AssetVersion.objects.get(pk=version.pk).status == "approved"
    assert AuditEvent.objects.filter(action="version.approved").count() == 1
    assert version.review_rounds.get().reviews.count() == 1


@pytest.mark.django_db
def test_reviewing_an_approved_version_is_409_naming_what_it_allows(version, bob_api, dave_api, alice_api):
    assert bob_api.post(f"{V}/submit", {}, format="json").status_code == 201
    assert dave_api.post(f"{V}/reviews", {"decision": "approve", "comment": "ok"}, format="json").status_code == 201
    # (dave, outside the team, no longer sees the private asset once its round closed; its owner does.)
    again = alice_api.post(f"{V}/reviews", {"decision": "approve", "comment": "again"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "not_in_review"
    assert again.json()["detail"] == (
        "Version 1.0.0 is approved, not in review: there is no open review round (allowed when approved: deprecate)."
    )
