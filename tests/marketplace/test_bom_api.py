"""The CycloneDX ML-BOM of a version (registry/bom, GET .../versions/{version}/bom): validated against the CycloneDX
1.6 JSON schema, with the model's files, licence, card, signature and upstream datasets; a solution's BOM lists every
model and dataset it uses; what the caller may not see stays out."""

import json

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from registry.assets.models import Asset
from registry.cards.services import card_update
from registry.lineage.services import lineage_edge_add
from registry.teams.services import team_create
from registry.versions.models import AssetVersion
from tests.factories import complete_card_fields, make_asset
from tests.registry.endpoint_fixtures import approved_model

pytestmark = pytest.mark.django_db
V = "/api/v1/assets/vision/clf/versions/1.0.0"


def dataset_version(user, team, slug: str, sha: str = "a") -> AssetVersion:
    asset = make_asset(user, team, kind="dataset", slug=slug, license="CC-BY-4.0", summary=f"{slug} rows")
    return AssetVersion.objects.create(
        asset=asset, version="1.0.0", major=1, minor=0, patch=0, status="validated", filename=f"{slug}.csv",
        sha256=sha * 64, size=10,
    )  # fmt: skip


def valid(bom: dict) -> None:
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(bom))
    assert errors is None, errors


@pytest.fixture
def clf(alice, bob, dave, team, tmp_path, settings):
    settings.MODELHUB_RUNTIME_MODELS_DIR = str(tmp_path / "runtime-models")
    return approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)


def test_a_model_bom_is_valid_cyclonedx_with_files_card_signature_and_datasets(clf, alice, team, alice_api):
    iris = dataset_version(alice, team, "iris-data")
    lineage_edge_add(user=alice, source=clf, kind="trained_on", asset=iris.asset.full_slug, version=iris.version)
    response = alice_api.get(f"{V}/bom")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/vnd.cyclonedx+json; version=1.6"
    bom = response.json()
    valid(bom)
    model = bom["metadata"]["component"]
    assert model["type"] == "machine-learning-model" and model["bom-ref"] == "vision/clf@1.0.0"
    assert model["hashes"] == [{"alg": "SHA-256", "content": clf.sha256}]
    assert [f["name"] for f in model["components"]] == [f.path for f in clf.files.all()]
    assert model["components"][0]["hashes"][0]["content"] == clf.files.first().blob.sha256
    assert model["licenses"] == [{"expression": clf.asset.license}] or not clf.asset.license
    card = model["modelCard"]
    assert card["modelParameters"]["datasets"][0] == {"ref": "vision/iris-data@1.0.0"}
    assert card["modelParameters"]["inputs"] == [{"format": "x: float32 [batch, 4]"}]
    signature = [r for r in model["externalReferences"] if r["type"] == "digital-signature"]
    key_id = clf.signature_record.key_id
    assert len(signature) == 1 and signature[0]["url"].endswith(f"{V}/signature") and key_id in signature[0]["comment"]
    assert {"name": "modelhub:signature:key_id", "value": key_id} in model["properties"]
    (data,) = bom["components"]
    assert (
        data["type"] == "data" and data["bom-ref"] == "vision/iris-data@1.0.0" and data["data"][0]["type"] == "dataset"
    )
    assert bom["dependencies"] == [
        {"ref": "vision/clf@1.0.0", "dependsOn": ["vision/iris-data@1.0.0"]},
        {"ref": "vision/iris-data@1.0.0", "dependsOn": []},
    ]


def test_the_card_becomes_the_model_card(clf, alice, alice_api):
    from registry.versions.models import VersionStatus

    AssetVersion.objects.filter(pk=clf.pk).update(
        status=VersionStatus.VALIDATED
    )  # cards of approved versions are frozen
    fields = complete_card_fields("model")
    fields["sections"]["intended_use"] = "- Sorting flowers\n- Teaching"
    fields["sections"]["caveats_and_recommendations"] = "Not for medical use."
    fields["model_index"] = [
        {"name": "clf", "results": [{"task": {"type": "tabular-classification"}, "dataset": {"name": "iris"},
                                     "metrics": [{"type": "accuracy", "value": 0.97}]}]}
    ]  # fmt: skip
    card_update(user=alice, version=clf, fields=fields)
    bom = alice_api.get(f"{V}/bom").json()
    valid(bom)
    card = bom["metadata"]["component"]["modelCard"]
    assert card["considerations"]["useCases"] == ["Sorting flowers", "Teaching"]
    assert card["considerations"]["technicalLimitations"] == ["Not for medical use."]
    assert card["quantitativeAnalysis"]["performanceMetrics"] == [
        {"type": "accuracy", "value": "0.97", "slice": "iris"}
    ]


def test_a_solution_bom_lists_every_model_and_dataset_it_uses_and_hides_what_the_caller_cannot_see(
    clf, alice, charlie, team, alice_api, charlie_api
):
    iris = dataset_version(alice, team, "iris-data")
    lineage_edge_add(user=alice, source=clf, kind="trained_on", asset=iris.asset.full_slug, version=iris.version)
    app_asset = make_asset(alice, team, kind="solution", slug="app", visibility="internal")
    app = AssetVersion.objects.create(
        asset=app_asset, version="1.0.0", major=1, minor=0, patch=0, status="validated", filename="app.zip",
        sha256="c" * 64, size=1,
    )  # fmt: skip
    lookup = dataset_version(alice, team, "lookup-table", sha="b")
    lineage_edge_add(user=alice, source=app, kind="uses", asset=clf.asset.full_slug, version=clf.version)
    lineage_edge_add(user=alice, source=app, kind="uses", asset=lookup.asset.full_slug, version=lookup.version)
    bom = alice_api.get("/api/v1/assets/vision/app/versions/1.0.0/bom").json()
    valid(bom)
    assert bom["metadata"]["component"]["type"] == "application"
    assert sorted(c["bom-ref"] for c in bom["components"]) == [
        "vision/clf@1.0.0", "vision/iris-data@1.0.0", "vision/lookup-table@1.0.0"
    ]  # fmt: skip
    depends = {d["ref"]: d["dependsOn"] for d in bom["dependencies"]}
    assert sorted(depends["vision/app@1.0.0"]) == ["vision/clf@1.0.0", "vision/lookup-table@1.0.0"]
    assert depends["vision/clf@1.0.0"] == ["vision/iris-data@1.0.0"]

    # Charlie is outside 'vision': the internal solution and lookup table are visible to him, the model made private
    # is not, and neither is what is upstream of it.
    Asset.objects.filter(pk=clf.asset_id).update(visibility="private")
    seen = charlie_api.get("/api/v1/assets/vision/app/versions/1.0.0/bom")
    assert seen.status_code == 200
    valid(seen.json())
    assert [c["bom-ref"] for c in seen.json()["components"]] == ["vision/lookup-table@1.0.0"]
    assert {d["ref"]: d["dependsOn"] for d in seen.json()["dependencies"]}["vision/app@1.0.0"] == [
        "vision/lookup-table@1.0.0"
    ]
    assert charlie_api.get(f"{V}/bom").status_code == 404
    theirs = team_create(user=charlie, slug="audio", name="Audio")
    secret = dataset_version(charlie, theirs, "secret")
    Asset.objects.filter(pk=secret.asset_id).update(visibility="private")
    assert alice_api.get("/api/v1/assets/audio/secret/versions/1.0.0/bom").status_code == 404
