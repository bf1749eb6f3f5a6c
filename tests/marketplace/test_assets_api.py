import pytest

from registry.assets.models import Asset
from registry.kernel.audit.models import AuditEvent
from tests.factories import make_asset, make_team

pytestmark = pytest.mark.django_db

NEW_ASSET = {
    "kind": "model",
    "team": "vision",
    "name": "Iris classifier",
    "summary": "Classifies irises",
    "description": "# Iris\nA *small* model.",
    "tags": ["Tabular", "iris"],
    "license": "apache-2.0",
    "task": "tabular-classification",
    "framework": "scikit-learn",
}


def test_member_creates_asset_with_normalised_fields(bob_api, bob, team):
    response = bob_api.post("/api/v1/assets/", NEW_ASSET, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["slug"] == "iris-classifier"
    assert body["tags"] == ["iris", "tabular"]
    assert body["license"] == "Apache-2.0"
    assert body["team"] == "vision" and body["created_by"] == "bob" and body["visibility"] == "internal"
    assert body["latest_version"] is None and body["version_count"] == 0
    assert AuditEvent.objects.filter(action="asset.created", actor=bob, target_id=str(Asset.objects.get().pk)).exists()


def test_create_and_edit_answer_the_asset_as_stored(bob_api, team):
    """The views serialise what the services return; it is what a read answers afterwards."""
    created = bob_api.post("/api/v1/assets/", NEW_ASSET, format="json").json()
    assert bob_api.get(created["url"]).json() == created
    edited = bob_api.patch(created["url"], {"summary": "Irises", "tags": ["flowers"]}, format="json")
    assert edited.status_code == 200, edited.json()
    assert edited.json()["summary"] == "Irises" and edited.json()["tags"] == ["flowers"]
    assert bob_api.get(created["url"]).json() == edited.json()


def test_outsider_cannot_create_asset_in_someone_elses_team(charlie_api, team):
    response = charlie_api.post("/api/v1/assets/", NEW_ASSET, format="json")
    assert response.status_code == 403
    assert "not a member" in response.json()["detail"]
    assert not Asset.objects.exists()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("license", "not-a-licence", "SPDX"),
        ("kind", "notebook", "kind"),
        ("tags", ["has space"], "tag"),
        ("task", "Tabular Classification", "task"),
        ("slug", "bad slug!", "slug"),
    ],
)
def test_bad_fields_are_400_naming_the_field(alice_api, team, field, value, message):
    response = alice_api.post("/api/v1/assets/", {**NEW_ASSET, field: value}, format="json")
    assert response.status_code == 400, response.json()
    assert message in response.json()["detail"]
    assert not Asset.objects.exists()


def test_duplicate_slug_is_409(alice_api, team):
    assert alice_api.post("/api/v1/assets/", NEW_ASSET, format="json").status_code == 201
    response = alice_api.post("/api/v1/assets/", NEW_ASSET, format="json")
    assert response.status_code == 409
    assert "iris-classifier" in response.json()["detail"]


def test_member_edits_and_outsider_cannot(bob_api, charlie_api, alice, team):
    asset = make_asset(alice, team, slug="resnet")
    response = bob_api.patch(
        "/api/v1/assets/vision/resnet/", {"summary": "Image model", "tags": ["vision"]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["summary"] == "Image model" and response.json()["tags"] == ["vision"]
    assert charlie_api.patch("/api/v1/assets/vision/resnet/", {"summary": "mine now"}, format="json").status_code == 403
    asset.refresh_from_db()
    assert asset.summary == "Image model" and asset.tags_text == "vision"


@pytest.mark.parametrize("field, value", [("kind", "dataset"), ("team", "other"), ("slug", "other")])
def test_kind_team_and_slug_cannot_be_patched(alice_api, alice, team, field, value):
    make_team(alice, slug="other")
    make_asset(alice, team, slug="resnet")
    response = alice_api.patch("/api/v1/assets/vision/resnet/", {field: value}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == f"{field}: This field cannot be changed."
    asset = Asset.objects.get(slug="resnet")
    assert (asset.kind, asset.team.slug, asset.slug) == ("model", "vision", "resnet")


def test_only_maintainers_delete(alice_api, bob_api, alice, team):
    make_asset(alice, team, slug="resnet")
    assert bob_api.delete("/api/v1/assets/vision/resnet/").status_code == 403
    assert alice_api.delete("/api/v1/assets/vision/resnet/").status_code == 204
    assert not Asset.objects.filter(slug="resnet").exists()
    assert AuditEvent.objects.filter(action="asset.deleted", data__slug="vision/resnet").exists()


def test_private_asset_is_404_for_outsiders_everywhere(alice, team, bob_api, charlie_api):
    make_asset(alice, team, slug="secret", visibility="private", tags=["hidden"])
    make_asset(alice, team, slug="open", tags=["hidden"])
    assert bob_api.get("/api/v1/assets/vision/secret/").status_code == 200
    for url in [
        "/api/v1/assets/vision/secret/",
        "/api/v1/assets/vision/secret/versions/",
        "/api/v1/assets/vision/secret/versions/1.0.0/",
        "/api/v1/assets/vision/secret/versions/1.0.0/download",
    ]:
        response = charlie_api.get(url)
        assert response.status_code == 404, url
        assert response.json()["detail"] == "No asset named 'vision/secret'."
    assert charlie_api.patch("/api/v1/assets/vision/secret/", {"summary": "x"}, format="json").status_code == 404
    assert charlie_api.delete("/api/v1/assets/vision/secret/").status_code == 404
    listing = charlie_api.get("/api/v1/assets/?tag=hidden").json()
    assert [a["slug"] for a in listing["results"]] == ["open"]
    assert listing["facets"]["tag"] == [{"value": "hidden", "count": 1}]
    assert [a["slug"] for a in charlie_api.get("/api/v1/assets/?q=secret").json()["results"]] == []


def test_list_runs_a_fixed_number_of_queries(alice, team, alice_api, django_assert_max_num_queries):
    for i in range(3):
        make_asset(alice, team, slug=f"m{i}", tags=["a", "b"])
    with django_assert_max_num_queries(12) as captured:
        alice_api.get("/api/v1/assets/")
    few = len(captured)
    for i in range(3, 15):
        make_asset(alice, team, slug=f"m{i}", tags=["a", "b", f"t{i}"])
    with django_assert_max_num_queries(few):
        assert len(alice_api.get("/api/v1/assets/").json()["results"]) == 15
