import pytest
from django.db import connection

from registry.assets.models import Asset
from tests.factories import make_asset, make_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(alice, team, charlie):
    other = make_team(charlie, slug="speech")
    make_asset(
        alice,
        team,
        slug="iris-classifier",
        name="Iris classifier",
        kind="model",
        tags=["tabular", "iris"],
        task="tabular-classification",
        license="MIT",
        summary="Predicts the iris species",
    )
    make_asset(
        alice,
        team,
        slug="flowers",
        name="Flower photos",
        kind="dataset",
        tags=["images"],
        task="image-classification",
        license="CC-BY-4.0",
        description="Contains some iris pictures too",
    )
    make_asset(
        alice,
        team,
        slug="wine-quality",
        name="Wine quality",
        kind="dataset",
        tags=["tabular"],
        task="tabular-regression",
        license="MIT",
        summary="Red and white wines",
    )
    make_asset(
        charlie,
        other,
        slug="whisper-tiny",
        name="Whisper tiny",
        kind="model",
        tags=["audio"],
        task="speech-recognition",
        license="MIT",
        summary="Speech to text",
    )


def slugs_of(body):
    return [a["slug"] for a in body["results"]]


def slugs(response):
    return slugs_of(response.json())


def test_full_text_ranks_name_and_tag_matches_above_description_matches(alice_api, catalogue):
    response = alice_api.get("/api/v1/assets/?q=iris")
    assert response.status_code == 200
    assert slugs(response) == ["iris-classifier", "flowers"]


def test_prefix_and_stemmed_terms_match_and_every_term_is_required(alice_api, catalogue):
    assert slugs(alice_api.get("/api/v1/assets/?q=whisp")) == ["whisper-tiny"]
    assert slugs(alice_api.get("/api/v1/assets/?q=wines")) == ["wine-quality"]
    assert slugs(alice_api.get("/api/v1/assets/?q=iris species")) == ["iris-classifier"]
    assert slugs(alice_api.get("/api/v1/assets/?q=iris zebra")) == []


def test_query_syntax_in_user_input_is_harmless(alice_api, catalogue):
    for q in ["iris & | ! :*", "'); drop table x; --", "((", "\\"]:
        assert alice_api.get("/api/v1/assets/", {"q": q}).status_code == 200


def test_filters_combine_with_search_and_facets_count_the_matches(alice_api, catalogue):
    response = alice_api.get("/api/v1/assets/?kind=dataset&license=mit")
    assert slugs(response) == ["wine-quality"]
    body = alice_api.get("/api/v1/assets/?tag=tabular").json()
    assert {a["slug"] for a in body["results"]} == {"iris-classifier", "wine-quality"}
    assert body["facets"]["kind"] == [{"value": "dataset", "count": 1}, {"value": "model", "count": 1}]
    # Disjunctive (issue 8): the tag facet leaves its own filter out, so other tags stay offered.
    assert body["facets"]["tag"] == [
        {"value": "tabular", "count": 2},
        {"value": "audio", "count": 1},
        {"value": "images", "count": 1},
        {"value": "iris", "count": 1},
    ]
    assert body["facets"]["license"] == [{"value": "MIT", "count": 2}]
    assert body["facets"]["team"] == [{"value": "vision", "count": 2}]
    assert body["count"] == 2
    assert slugs(alice_api.get("/api/v1/assets/?tag=tabular&tag=iris")) == ["iris-classifier"]
    assert slugs(alice_api.get("/api/v1/assets/?team=speech&task=speech-recognition")) == ["whisper-tiny"]


def test_ordering(alice_api, catalogue):
    assert slugs(alice_api.get("/api/v1/assets/?ordering=name")) == [
        "flowers",
        "iris-classifier",
        "whisper-tiny",
        "wine-quality",
    ]
    assert slugs(alice_api.get("/api/v1/assets/?ordering=-created"))[0] == "whisper-tiny"


def test_most_used_first_with_keyset_pages(alice_api, catalogue):
    Asset.objects.filter(slug="flowers").update(usage_count=3)
    Asset.objects.filter(slug="whisper-tiny").update(usage_count=1)
    first = alice_api.get("/api/v1/assets/?ordering=-used&page_size=2").json()
    assert slugs_of(first) == ["flowers", "whisper-tiny"]
    second = alice_api.get(first["next"]).json()
    assert {a["slug"] for a in second["results"]} == {"iris-classifier", "wine-quality"} and second["next"] is None


def test_bad_filter_values_are_400(alice_api, catalogue):
    response = alice_api.get("/api/v1/assets/?kind=notebook")
    assert response.status_code == 400 and "kind" in response.json()["detail"]
    assert alice_api.get("/api/v1/assets/?ordering=size").status_code == 400


@pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN index exists on PostgreSQL only")
def test_search_uses_the_gin_index_on_the_stored_vector(catalogue):
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM registry_asset a WHERE a.search_vector @@ to_tsquery('english', 'iris:*')"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert "asset_search_vector_gin" in plan
