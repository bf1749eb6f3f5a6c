"""Version tags (registry/versions/tags.py): set at upload and later by the team, audited, filterable with
`?tag=key:value`; refused when malformed; nothing for outsiders."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.kernel.audit.models import AuditEvent
from registry.versions.models import VersionTag
from tests.factories import bare_versions, linear_model, make_asset, onnx_bytes

pytestmark = pytest.mark.django_db
VERSIONS = "/api/v1/assets/vision/clf/versions/"


@pytest.fixture
def clf(alice, team):
    return make_asset(alice, team, slug="clf", kind="model", visibility="private")


def upload(api, version: str, **fields):
    body = {"version": version, "file": SimpleUploadedFile("model.onnx", onnx_bytes(linear_model(seed=len(version))))}
    return api.post(VERSIONS, {**body, **fields}, format="multipart")


def test_tags_set_at_upload_are_shown_and_audited(clf, alice_api, monkeypatch):
    monkeypatch.setattr("registry.validation.services.validation_enqueue_on_commit", lambda version_id: None)
    response = upload(alice_api, "1.0.0", tags=json.dumps({"stage": "candidate", "git_sha": "4f2a9c1", "run": 7}))
    assert response.status_code == 202, response.json()
    assert response.json()["tags"] == {"git_sha": "4f2a9c1", "run": "7", "stage": "candidate"}
    listed = alice_api.get(VERSIONS).json()["results"]
    assert listed[0]["tags"] == {"git_sha": "4f2a9c1", "run": "7", "stage": "candidate"}
    created = AuditEvent.objects.get(action="version.created")
    assert created.data["tags"]["stage"] == "candidate"

    for bad, words in [
        ('["stage"]', "JSON object"),
        ('{"bad key!": "x"}', "is not 1-64"),
        ('{"stage": {"nested": 1}}', "text"),
        (json.dumps({"k": "x" * 501}), "500"),
        (json.dumps({f"k{i}": "v" for i in range(51)}), "at most 50"),
        ("{not json", "not JSON"),
    ]:
        refused = upload(alice_api, "9.9.9", tags=bad)
        assert refused.status_code == 400 and words in refused.json()["detail"], (bad, refused.json())
    assert not VersionTag.objects.filter(version__version="9.9.9").exists()


def test_tags_change_by_merge_patch_and_filter_the_list(clf, alice, alice_api, bob_api, charlie_api, client):
    one, two, three = bare_versions(clf, 3)
    url = f"{VERSIONS}{one.version}/tags"
    assert alice_api.patch(url, {"stage": "candidate", "owner": "ml"}, format="json").json() == {
        "owner": "ml",
        "stage": "candidate",
    }
    assert bob_api.patch(f"{VERSIONS}{two.version}/tags", {"stage": "candidate"}, format="json").status_code == 200
    assert alice_api.patch(f"{VERSIONS}{three.version}/tags", {"stage": "archived"}, format="json").status_code == 200
    after = alice_api.patch(url, {"stage": "production", "owner": None}, format="json").json()
    assert after == {"stage": "production"}
    tagged = AuditEvent.objects.filter(target_type="registry.assetversion", target_id=str(one.pk))
    actions = list(tagged.order_by("id").values_list("action", "before"))
    assert actions == [
        ("version.tagged", {}),
        ("version.untagged", {"owner": "ml"}),
        ("version.tagged", {"stage": "candidate"}),
    ]

    def versions(query: str) -> list[str]:
        body = alice_api.get(f"{VERSIONS}?{query}").json()
        assert body["count"] == len(body["results"])
        return sorted(v["version"] for v in body["results"])

    assert versions("tag=stage:candidate") == [two.version]
    assert versions("tag=stage") == sorted([one.version, two.version, three.version])
    assert versions("tag=stage:production") == [one.version]
    assert versions("tag=stage:production&tag=owner") == []
    assert alice_api.get(f"{VERSIONS}?tag=bad key").status_code == 400
    assert alice_api.get(url).json() == {"stage": "production"}
    client.force_login(alice)
    page = client.get(f"/assets/vision/clf/?version={one.version}").content.decode()
    assert '<span class="badge">stage=production</span>' in page

    assert charlie_api.get(url).status_code == 404
    assert charlie_api.patch(url, {"stage": "x"}, format="json").status_code == 404
    assert charlie_api.get(f"{VERSIONS}?tag=stage").status_code == 404
    assert alice_api.patch(url, ["stage"], format="json").status_code == 400


def test_members_of_another_team_cannot_tag_what_they_can_see(alice, charlie, charlie_api, team):
    internal = make_asset(alice, team, slug="shared", kind="model", visibility="internal")
    (version,) = bare_versions(internal, 1)
    url = f"/api/v1/assets/vision/shared/versions/{version.version}/tags"
    assert charlie_api.get(url).status_code == 200
    assert charlie_api.patch(url, {"stage": "mine"}, format="json").status_code == 403
    assert not VersionTag.objects.exists()
