from pathlib import Path

import pytest

from registry.cards.models import ModelCard
from registry.kernel.audit.models import AuditEvent
from registry.versions.models import AssetVersion, VersionStatus
from tests.factories import make_asset, make_version, onnx_bytes

pytestmark = pytest.mark.django_db
HF_CARDS = Path(__file__).resolve().parent.parent / "registry" / "hf_cards"
CARD = "/api/v1/assets/vision/iris/versions/1.0.0/card"
README = CARD + "/readme"
SECRET_CARD = "/api/v1/assets/vision/secret/versions/1.0.0/card"
FULL = "A paragraph long enough to count as filled in."


@pytest.fixture
def iris(alice, team, tmp_path):
    return make_version(alice, make_asset(alice, team, slug="iris", kind="model"), tmp_path, onnx_bytes())


@pytest.fixture
def secret(alice, team, tmp_path):
    return make_version(alice, make_asset(alice, team, slug="secret", visibility="private"), tmp_path, onnx_bytes())


def put_readme(client, text: str | bytes, url=README):
    return client.put(url, text.encode() if isinstance(text, str) else text, content_type="text/markdown")


def test_owner_writes_and_everybody_who_sees_the_asset_reads(alice_api, charlie_api, iris):
    empty = alice_api.get(CARD)
    assert empty.status_code == 200
    assert empty.json()["completeness"] == 0 and empty.json()["sections"] == {} and empty.json()["frozen"] is False
    assert list(empty.json()["section_titles"])[0] == "model_details"

    response = alice_api.put(
        CARD,
        {
            "license": "mit",
            "body": "# Iris\n\n" + FULL + " <script>alert(1)</script>",
            "sections": {"intended_use": FULL + " [docs](javascript:alert(1))"},
            "tags": ["tabular"],
            "model_index": [{"name": "iris", "results": []}],
            "extra": {"language": ["en"]},
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["completeness"] == 3 * 100 // 11 and body["updated_by"] == "alice"
    assert body["html"]["body"].startswith("<h1>Iris</h1>") and "<script" not in body["html"]["body"]
    assert "javascript:" not in body["html"]["sections"]["intended_use"].split("[docs]")[0]
    assert "href" not in body["html"]["sections"]["intended_use"]
    # An outsider sees an internal asset's card, but cannot change it.
    seen = charlie_api.get(CARD).json()
    assert seen["license"] == "mit" and seen["model_index"] == [{"name": "iris", "results": []}]
    assert charlie_api.put(CARD, {"body": "mine"}, format="json").status_code == 403
    assert put_readme(charlie_api, "# mine").status_code == 403
    assert ModelCard.objects.get().body.startswith("# Iris")


def test_teammate_imports_a_readme_and_exports_it(bob_api, iris):
    text = (HF_CARDS / "sentiment_model.md").read_text()
    response = put_readme(bob_api, text)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["license"] == "apache-2.0" and body["pipeline_tag"] == "text-classification"
    assert body["model_index"][0]["results"][0]["metrics"][0]["value"] == 0.9106
    assert "intended_use" in body["sections"] and "<table>" in body["html"]["body"]
    assert AuditEvent.objects.get(action="card.updated").data["source"] == "huggingface_readme"

    exported = bob_api.get(README)
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/markdown")
    readme = exported.content.decode()
    assert readme.startswith("---\nlicense: apache-2.0\n") and "\n## Intended use\n" in readme
    # Importing the export changes nothing.
    again = put_readme(bob_api, readme).json()
    assert {k: again[k] for k in ("sections", "body", "extra", "model_index", "tags")} == {
        k: body[k] for k in ("sections", "body", "extra", "model_index", "tags")
    }


def test_readme_of_a_version_without_a_card_is_empty(alice_api, iris):
    response = alice_api.get(README)
    assert response.status_code == 200 and response.content == b"\n"


def test_private_assets_are_404_for_outsiders_on_every_card_route(charlie_api, alice_api, secret):
    assert alice_api.get(SECRET_CARD).status_code == 200
    for response in (
        charlie_api.get(SECRET_CARD),
        charlie_api.put(SECRET_CARD, {"body": FULL}, format="json"),
        charlie_api.get(SECRET_CARD + "/readme"),
        put_readme(charlie_api, "# x", SECRET_CARD + "/readme"),
    ):
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert not ModelCard.objects.exists()


def test_anonymous_gets_401(anon_api, iris):
    assert anon_api.get(CARD).status_code == 401


def test_cards_of_approved_versions_are_409(alice_api, iris):
    assert alice_api.put(CARD, {"body": FULL}, format="json").status_code == 200
    AssetVersion.objects.filter(pk=iris.pk).update(status=VersionStatus.APPROVED)
    for response in (alice_api.put(CARD, {"body": "new"}, format="json"), put_readme(alice_api, "# new")):
        assert response.status_code == 409
        assert "approved version cannot change; upload a new version" in response.json()["detail"]
    assert alice_api.get(CARD).json()["frozen"] is True
    assert ModelCard.objects.get().body == FULL


@pytest.mark.parametrize(
    "send",
    [
        lambda c: c.put(CARD, {"sections": {"intended_use": "x" * (64 * 1024 + 1)}}, format="json"),
        lambda c: c.put(CARD, {"body": "x" * (256 * 1024 + 1)}, format="json"),
        lambda c: c.put(CARD, {"sections": {"motivation": FULL}}, format="json"),
        lambda c: c.put(CARD, {"sections": ["intended_use"]}, format="json"),
        lambda c: c.put(CARD, {"body": 5}, format="json"),
        lambda c: c.put(CARD, {"body": None}, format="json"),
        lambda c: c.put(CARD, {"tags": "a"}, format="json"),
        lambda c: c.put(CARD, {"colour": "red"}, format="json"),
        lambda c: c.put(CARD, {"extra": {"a": "\u0000"}}, format="json"),
        lambda c: c.put(CARD, [1, 2], format="json"),
        lambda c: c.put(CARD, b"{not json", content_type="application/json"),
        lambda c: put_readme(c, b"\xff\xfe not utf-8"),
        lambda c: put_readme(c, ""),
        lambda c: put_readme(c, "---\na: &x [1]\nb: *x\n---\n"),
        lambda c: put_readme(c, "---\na: [1\n---\n"),
        lambda c: put_readme(c, "---\na: !!python/object/apply:os.system ['id']\n---\n"),
    ],
)
def test_malformed_input_is_400(alice_api, iris, send):
    response = send(alice_api)
    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"invalid", "parse_error"} and response.json()["detail"]
    assert not ModelCard.objects.exists()


def test_oversized_and_wrongly_typed_readmes(alice_api, iris):
    response = put_readme(alice_api, "x" * (1024 * 1024 + 1))
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    response = alice_api.put(README, {"text": "# x"}, format="json")
    assert response.status_code == 415
    assert alice_api.get(CARD + "?verbose=1").status_code == 400
