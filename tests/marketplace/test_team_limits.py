"""Per-team bounds on what a team can hold open (registry/uploads, registry/endpoints): upload sessions (their
number and declared bytes) and endpoints, each a 409 `team_limit` that names the limit, and held under a race."""

import threading

import pytest
from django.db import connection

from registry.endpoints.models import Endpoint
from registry.endpoints.services import endpoint_create
from registry.kernel.errors import TeamLimitReached
from registry.uploads.models import UploadSession
from registry.uploads.services import upload_session_abort, upload_session_create
from tests.factories import make_asset
from tests.registry.endpoint_fixtures import approved_model

MIB = 1024 * 1024
UPLOADS = "/api/v1/assets/vision/iris/uploads/"


@pytest.fixture
def iris(alice, team, settings):
    settings.MODELHUB_UPLOAD_PART_SIZE = MIB
    return make_asset(alice, team, slug="iris", kind="model", visibility="private")


@pytest.mark.django_db
def test_upload_sessions_are_bounded_per_team_by_count_and_bytes(alice, alice_api, bob, iris, team, settings):
    settings.MODELHUB_TEAM_MAX_UPLOAD_SESSIONS = 2
    settings.MODELHUB_TEAM_MAX_UPLOAD_BYTES = 5 * MIB
    other = make_asset(alice, team, slug="other", kind="dataset")
    first = alice_api.post(UPLOADS, {"filename": "a.bin", "size": 2 * MIB}, format="json")
    assert first.status_code == 201, first.json()
    upload_session_create(user=bob, asset=other, filename="b.csv", size=MIB)  # another asset of the same team

    third = alice_api.post(UPLOADS, {"filename": "c.bin", "size": 10}, format="json")
    assert third.status_code == 409 and third.json()["code"] == "team_limit"
    assert "MODELHUB_TEAM_MAX_UPLOAD_SESSIONS" in third.json()["detail"] and "'vision'" in third.json()["detail"]
    assert UploadSession.objects.count() == 2

    upload_session_abort(user=alice, session=UploadSession.objects.get(filename="b.csv"))  # aborting frees room
    settings.MODELHUB_TEAM_MAX_UPLOAD_SESSIONS = 10
    too_big = alice_api.post(UPLOADS, {"filename": "d.bin", "size": 3 * MIB + 1}, format="json")
    assert too_big.status_code == 409 and "MODELHUB_TEAM_MAX_UPLOAD_BYTES" in too_big.json()["detail"]
    assert "2.0 MiB" in too_big.json()["detail"]
    assert alice_api.post(UPLOADS, {"filename": "d.bin", "size": 3 * MIB}, format="json").status_code == 201


@pytest.mark.django_db
def test_another_teams_sessions_do_not_count(alice, iris, charlie, settings):
    from registry.teams.services import team_create

    settings.MODELHUB_TEAM_MAX_UPLOAD_SESSIONS = 1
    upload_session_create(user=alice, asset=iris, filename="a.bin", size=10)
    theirs = team_create(user=charlie, slug="audio", name="Audio")
    asset = make_asset(charlie, theirs, slug="speech", kind="dataset")
    assert upload_session_create(user=charlie, asset=asset, filename="b.csv", size=10).pk
    with pytest.raises(TeamLimitReached):
        upload_session_create(user=alice, asset=iris, filename="c.bin", size=10)


@pytest.mark.django_db(transaction=True)
def test_concurrent_sessions_at_the_limit_leave_exactly_the_limit(alice, iris, settings):
    settings.MODELHUB_TEAM_MAX_UPLOAD_SESSIONS = 3
    barrier = threading.Barrier(5)
    outcomes = []

    def attempt(n: int) -> None:
        try:
            barrier.wait()
            upload_session_create(user=alice, asset=iris, filename=f"{n}.bin", size=10)
            outcomes.append("created")
        except TeamLimitReached:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created"] * 3 + ["refused"] * 2
    assert UploadSession.objects.filter(asset=iris).count() == 3


@pytest.fixture
def v1(alice, bob, dave, team, tmp_path, settings):
    settings.MODELHUB_RUNTIME_MODELS_DIR = str(tmp_path / "runtime-models")
    return approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)


@pytest.mark.django_db
def test_endpoints_are_bounded_per_team_and_deleted_ones_free_room(v1, bob_api, settings):
    settings.MODELHUB_TEAM_MAX_ENDPOINTS = 2
    body = {"team": "vision", "asset": "vision/clf", "version": "1.0.0"}
    ids = [bob_api.post("/api/v1/endpoints/", {**body, "name": n}, format="json").json()["id"] for n in ("a", "b")]
    refused = bob_api.post("/api/v1/endpoints/", {**body, "name": "c"}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "team_limit"
    assert "MODELHUB_TEAM_MAX_ENDPOINTS" in refused.json()["detail"] and "has 2 endpoint(s)" in refused.json()["detail"]
    assert not Endpoint.objects.filter(name="c").exists()

    assert bob_api.delete(f"/api/v1/endpoints/{ids[0]}/").status_code in (202, 204)
    assert bob_api.post("/api/v1/endpoints/", {**body, "name": "c"}, format="json").status_code == 202


@pytest.mark.django_db(transaction=True)
def test_concurrent_deploys_at_the_limit_leave_exactly_the_limit(v1, bob, team, settings, monkeypatch):
    monkeypatch.setattr("registry.endpoints.services.commands.task_send_on_commit", lambda *args: None)
    settings.MODELHUB_TEAM_MAX_ENDPOINTS = 2
    barrier = threading.Barrier(4)
    outcomes = []

    def attempt(n: int) -> None:
        try:
            barrier.wait()
            endpoint_create(user=bob, team=team, asset=v1.asset, version="1.0.0", name=f"race-{n}")
            outcomes.append("created")
        except TeamLimitReached:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created"] * 2 + ["refused"] * 2
    assert Endpoint.objects.filter(team=team).count() == 2
