"""Search semantics (issue 8) on PostgreSQL, through the API and the one selector: weighted ranking, prefixes,
typos, substrings, highlights, disjunctive facets, visibility in every count, and the fallback backend
(the embedded SQLite's) giving the same answers on the same rows."""

import pytest
from django.db import connection
from django.http import QueryDict

from registry.assets.models import Asset
from registry.assets.services import asset_delete, asset_update
from registry.kernel.access import asset_scope
from registry.search.backends.fallback import FallbackSearchBackend
from registry.search.backends.postgres import PostgresSearchBackend
from registry.search.query import parse_search
from registry.search.selectors import asset_search
from tests.factories import make_asset, make_search_catalogue

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend's semantics"),
]


@pytest.fixture
def catalogue(alice, team, charlie):
    return make_search_catalogue(alice, team, charlie)


def slugs(response):
    assert response.status_code == 200, response.content
    return [item["slug"] for item in response.json()["results"]]


def both_backends(user, params: dict):
    """The PostgreSQL and fallback backends' answers to the same search, as comparable data."""
    query = parse_search(_qd(params))
    answers = []
    for backend in (PostgresSearchBackend(), FallbackSearchBackend()):
        found = backend.search(scope=asset_scope(user), query=query)
        answers.append(
            {
                "ids": found.ids,
                "count": found.count,
                "facets": found.facets,
                "widened": found.widened,
                "highlights": found.highlights,
            }
        )
    return answers


def _qd(params: dict) -> QueryDict:
    qd = QueryDict(mutable=True)
    for key, value in params.items():
        qd.setlist(key, value if isinstance(value, list) else [value])
    return qd


def test_rank_weighs_name_over_tags_over_summary_over_description(charlie_api, catalogue):
    assert slugs(charlie_api.get("/api/v1/assets/?q=fraud")) == [
        "fraud-detector",
        "payments-risk",
        "txn-scorer",
        "ledger",
    ]


def test_prefix_matches_as_you_type(charlie_api, catalogue):
    assert slugs(charlie_api.get("/api/v1/assets/?q=fraud xgb")) == ["fraud-detector"]
    assert set(slugs(charlie_api.get("/api/v1/assets/?q=fraud det"))) == {"fraud-detector", "txn-scorer"}  # Detects
    assert set(slugs(charlie_api.get("/api/v1/assets/?q=transact"))) == {"txn-scorer", "payments-risk"}


def test_a_typo_finds_the_word_it_meant(charlie_api, catalogue):
    body = charlie_api.get("/api/v1/assets/?q=frud").json()
    assert [item["slug"] for item in body["results"]][:1] == ["fraud-detector"]
    assert {"fraud-detector", "payments-risk", "txn-scorer", "ledger"} <= {item["slug"] for item in body["results"]}
    page = asset_search(user=catalogue["whisper"].created_by, params={"q": "frud"})
    assert "fraud" in page.widened["frud"]


def test_a_substring_of_a_name_finds_it(charlie_api, catalogue):
    assert "fraud-detector" in slugs(charlie_api.get("/api/v1/assets/?q=raud"))
    assert "whisper" in slugs(charlie_api.get("/api/v1/assets/?q=hisper"))


def test_without_a_near_word_nothing_is_found(charlie_api, catalogue):
    response = charlie_api.get("/api/v1/assets/?q=zzqqxx")
    assert slugs(response) == [] and response.json()["count"] == 0


def test_highlights_mark_the_matched_words_and_escape_the_rest(alice, team, charlie_api, catalogue):
    make_asset(alice, team, slug="odd", name="Fraud <script>alert(1)</script>", summary="Spots fraud & more")
    body = charlie_api.get("/api/v1/assets/?q=fraud").json()
    found = {item["slug"]: item["highlights"] for item in body["results"]}
    assert found["fraud-detector"]["name"] == "<mark>Fraud</mark> detector xgboost"
    assert found["odd"]["name"] == "<mark>Fraud</mark> &lt;script&gt;alert(1)&lt;/script&gt;"
    assert found["odd"]["summary"] == "Spots <mark>fraud</mark> &amp; more"
    assert found["txn-scorer"]["summary"] == "Detects <mark>fraud</mark> in card transactions"
    assert charlie_api.get("/api/v1/assets/").json()["results"][0]["highlights"] is None


def test_facets_are_disjunctive(bob_api, catalogue):
    body = bob_api.get("/api/v1/assets/?q=fraud&tag=finance&kind=model").json()
    assert body["count"] == 3  # fraud-detector, payments-risk, secret-fraud
    # Each facet leaves its own filter out: other tags and kinds stay offered with their counts.
    assert {f["value"]: f["count"] for f in body["facets"]["tag"]} == {
        "finance": 3,
        "fraud": 1,
        "hidden-tag": 1,
        "accounting": 1,
    }
    assert {f["value"]: f["count"] for f in body["facets"]["kind"]} == {"model": 3}
    assert {f["value"]: f["count"] for f in body["facets"]["license"]} == {"MIT": 2, "Apache-2.0": 1}
    widened = bob_api.get("/api/v1/assets/?q=fraud&tag=finance").json()
    assert {f["value"]: f["count"] for f in widened["facets"]["kind"]} == {"model": 3}
    by_kind = bob_api.get("/api/v1/assets/?q=fraud&kind=dataset").json()
    assert {f["value"]: f["count"] for f in by_kind["facets"]["kind"]} == {"model": 4, "dataset": 1}
    assert by_kind["count"] == 1


@pytest.mark.parametrize(
    "query",
    [
        "",
        "q=fraud",
        "kind=model",
        "tag=finance",
        "task=secret-task",
        "license=apache-2.0",
        "visibility=private",
        "q=frud",
        "team=vision",
        "kind=model&tag=hidden-tag",
    ],
)
def test_an_outsider_learns_nothing_of_private_assets_from_counts(charlie_api, bob_api, catalogue, query):
    outsider = charlie_api.get(f"/api/v1/assets/?{query}").json()
    assert "secret-fraud" not in {item["slug"] for item in outsider["results"]}
    for facet, values in outsider["facets"].items():
        names = {value["value"] for value in values}
        assert not names & {"hidden-tag", "secret-task", "Apache-2.0"}, (facet, names)
    assert sum(v["count"] for v in outsider["facets"]["kind"]) >= outsider["count"]
    member = bob_api.get(f"/api/v1/assets/?{query}").json()
    secret_counted = any(v["value"] == "vision" and v["count"] for v in member["facets"]["team"])
    if "secret-fraud" in {item["slug"] for item in member["results"]}:
        assert member["count"] == outsider["count"] + 1 and secret_counted


def test_counts_of_the_unfiltered_catalogue_follow_every_change(alice, bob, charlie, catalogue):
    """The precomputed counts (no words, no filter or only kind) equal counts made from the rows."""
    asset_update(
        user=alice, asset=catalogue["by-tag"], fields={"tags": ["fraud", "new-tag"], "license": "BSD-3-Clause"}
    )
    asset_update(user=alice, asset=catalogue["secret"], fields={"visibility": "internal"})
    asset_update(user=alice, asset=catalogue["by-name"], fields={"visibility": "private", "task": "other-task"})
    asset_delete(user=alice, asset=catalogue["by-description"])
    for user in (alice, bob, charlie):
        for params in ({}, {"kind": "model"}, {"visibility": "private"}, {"visibility": "internal", "kind": "dataset"}):
            postgres, fallback = both_backends(user, params)
            assert postgres["count"] == fallback["count"], (user, params)
            assert postgres["facets"] == fallback["facets"], (user, params)


@pytest.mark.parametrize(
    "params",
    [
        {"q": "fraud"},
        {"q": "fraud det"},
        {"q": "frud"},
        {"q": "raud"},
        {"q": "zzqqxx"},
        {"tag": "finance"},
        {"q": "fraud", "tag": "finance", "kind": "model"},
        {"q": "fraud", "ordering": "name"},
        {"license": "mit"},
        {"task": "TABULAR-classification"},
        {"team": "speech"},
        {"q": "fraud", "page_size": "2"},
        {"q": "balancing"},
        {"q": "detects transaction"},
        {"q": "the fraud"},
        {"q": "the"},
        {"q": "happiness"},
    ],
)
def test_the_fallback_backend_gives_the_same_answers(alice, charlie, catalogue, params):
    for user in (alice, charlie):
        postgres, fallback = both_backends(user, params)
        assert postgres == fallback, (user.username, params)


def test_listed_rows_are_alike_in_both_backends_and_only_what_the_caller_may_see(alice, charlie, catalogue):
    ids = sorted(asset.pk for asset in catalogue.values())
    for user, secret_seen in ((alice, True), (charlie, False)):
        scope = asset_scope(user)
        postgres = PostgresSearchBackend().listed(scope=scope, ids=ids)
        assert postgres == FallbackSearchBackend().listed(scope=scope, ids=ids)
        assert (catalogue["secret"].pk in postgres) is secret_seen and len(postgres) == len(ids) - (not secret_seen)
        row = postgres[catalogue["secret" if secret_seen else "by-name"].pk]
        assert row["team__slug"] == catalogue["by-name"].team.slug and row["created_by__username"] == "alice"


def test_words_match_by_their_stems_in_both_backends(alice, team, charlie, catalogue):
    make_asset(alice, team, slug="mood", name="Happy customers", summary="Hoping for the best")
    for backend in (PostgresSearchBackend(), FallbackSearchBackend()):

        def found(q):
            result = backend.search(scope=asset_scope(charlie), query=parse_search(_qd({"q": q})))
            return {Asset.objects.get(pk=pk).slug for pk in result.ids}, result.highlights

        assert found("balancing")[0] == {"ledger"}, backend.name  # Balances: both stem to "balanc"
        slugs_, highlights = found("happiness hope")  # happi..., hope: "Happy", "Hoping"
        assert slugs_ == {"mood"}, backend.name
        marked = next(iter(highlights.values()))
        assert (marked["name"], marked["summary"]) == (
            "<mark>Happy</mark> customers",
            "<mark>Hoping</mark> for the best",
        ), backend.name
        assert found("the fraud")[0] == found("fraud")[0], backend.name  # a stop word is no condition


def test_most_used_orders_alike_in_both_backends(alice, charlie, catalogue):
    Asset.objects.filter(pk=catalogue["by-tag"].pk).update(usage_count=5)
    Asset.objects.filter(pk=catalogue["by-name"].pk).update(usage_count=2)
    for params in ({"ordering": "-used"}, {"ordering": "-used", "page_size": "2"}, {"q": "fraud", "ordering": "-used"}):
        for user in (alice, charlie):
            postgres, fallback = both_backends(user, params)
            assert postgres == fallback, (user.username, params)
    postgres, _ = both_backends(alice, {"ordering": "-used"})
    assert postgres["ids"][:2] == [catalogue["by-tag"].pk, catalogue["by-name"].pk]


def test_list_queries_stay_fixed_with_words_and_filters(alice, team, alice_api, django_assert_max_num_queries):
    for i in range(3):
        make_asset(alice, team, slug=f"fraud-{i}", tags=["a", "b"])
    with django_assert_max_num_queries(12) as captured:
        alice_api.get("/api/v1/assets/?q=fraud&tag=a")
    few = len(captured)
    for i in range(3, 30):
        make_asset(alice, team, slug=f"fraud-{i}", tags=["a", "b", f"t{i}"])
    with django_assert_max_num_queries(few):
        assert len(alice_api.get("/api/v1/assets/?q=fraud&tag=a&page_size=100").json()["results"]) == 30


def test_filters_narrowing_plenty_of_matches_do_not_widen_the_words(alice, team, charlie, catalogue):
    make_asset(alice, team, slug="fraud-extra", name="Fraud extra", tags=["finance"])
    for backend in (PostgresSearchBackend(), FallbackSearchBackend()):
        query = parse_search(_qd({"q": "fraud", "license": "CC-BY-4.0"}))
        found = backend.search(scope=asset_scope(charlie), query=query)
        assert (found.count, found.widened) == (1, {}), backend.name
        few = backend.search(scope=asset_scope(charlie), query=parse_search(_qd({"q": "frud", "license": "MIT"})))
        assert few.widened and few.count >= 1, backend.name


def test_the_setting_selects_the_fallback_backend_for_the_api(settings, charlie_api, catalogue):
    on_postgres = charlie_api.get("/api/v1/assets/?q=frud").json()
    settings.MODELHUB_SEARCH_BACKEND = "fallback"
    on_fallback = charlie_api.get("/api/v1/assets/?q=frud").json()
    assert on_fallback == on_postgres
    from registry.search.backends import search_backend

    assert search_backend().name == "fallback"


def test_a_facet_lists_its_fifty_most_frequent_values_ties_in_byte_order(alice, team, charlie):
    """More tags than a facet shows: the 50 most frequent, ties broken by value in byte order ("one-b" before
    "one-c00" before "onea"; a locale's order, which skips the hyphen, would put "onea" first), the same from the
    precomputed counts (no words), from the matches (words, a filter) and in the fallback."""
    common = [f"tag-{n:02}" for n in range(30)]  # three assets each
    for i in range(6):
        make_asset(alice, team, slug=f"common-{i}", name=f"Fraud common {i}", tags=common[15 * (i // 3) :][:15])
    singles = ["onea", "one-b", *(f"one-c{n:02}" for n in range(38))]  # one asset each
    for n in range(0, len(singles), 20):
        make_asset(alice, team, slug=f"single-{n}", name=f"Fraud single {n}", tags=singles[n : n + 20])
    ranked = common + sorted(singles)[:20]
    assert "onea" not in ranked and "one-b" in ranked
    for params in ({}, {"q": "fraud"}, {"kind": "model", "q": "fraud"}, {"team": team.slug}):
        postgres, fallback = both_backends(charlie, params)
        assert postgres["facets"] == fallback["facets"], params
        tags = postgres["facets"]["tag"]
        assert [entry["value"] for entry in tags] == ranked, params
        assert [entry["count"] for entry in tags] == [3] * 30 + [1] * 20, params


def test_the_fallback_rebuild_restores_the_vocabulary_from_the_assets(alice, team):
    """What `search_rebuild` runs on SQLite: every name and tag word is a vocabulary word again."""
    from registry.search.models import SearchTerm

    make_asset(alice, team, slug="fraud", name="Fraud detector", tags=["payments"])
    SearchTerm.objects.all().delete()
    FallbackSearchBackend().rebuild()
    assert {"fraud", "detector", "payments"} <= set(SearchTerm.objects.values_list("term", flat=True))
