"""The search vocabulary (registry/search/vocabulary.py) is the one list every reader follows."""

import dataclasses

import pytest

from registry.search.backends.fallback import _facet_passes, _values
from registry.search.backends.postgres import _GROUPED, PRECOMPUTED_FILTERS, PostgresSearchBackend
from registry.search.cursor import _TYPES
from registry.search.filters import AssetFilter
from registry.search.query import SearchQuery, parse_search
from registry.search.vocabulary import (
    DEFAULT_ORDERING,
    FACETS,
    FILTERS,
    ORDER_KEYS,
    ORDERINGS,
    PARAMETERS,
    PLAIN_FILTERS,
    PORTAL_SORTS,
    RELEVANCE,
)


def test_the_filterset_declares_the_vocabulary_and_nothing_else():
    filters = AssetFilter.base_filters
    assert list(filters) == list(PARAMETERS)
    for declared in FILTERS:
        extra = filters[declared.name].extra
        assert extra.get("help_text", "") == declared.help_text
        if declared.choices:
            assert list(extra["choices"]) == list(declared.choices.choices)
    assert [name for name, _ in filters["ordering"].extra["choices"]] == [o.name for o in ORDERINGS]


def test_the_facets_and_plain_filters_split_the_filters():
    assert FACETS == ("kind", "tag", "task", "license", "status", "team")  # the order of every answer's facets
    assert set(FACETS) | set(PLAIN_FILTERS) == {f.name for f in FILTERS}
    assert not set(FACETS) & set(PLAIN_FILTERS)


def test_a_search_query_holds_every_filter():
    fields = {field.name for field in dataclasses.fields(SearchQuery)}
    assert {f.field for f in FILTERS} <= fields
    every = {
        "kind": "model",
        "tag": "vision",
        "task": "Detection",
        "license": "MIT",
        "framework": "onnx",
        "status": "approved",
        "team": "vision",
        "visibility": "internal",
    }
    assert set(every) == {f.name for f in FILTERS}
    query = parse_search(every)
    assert all(getattr(query, f.field) for f in FILTERS)
    assert list(query.facet_filters()) == list(FACETS)


def test_orderings_are_total_and_their_keys_can_be_in_a_cursor():
    assert set(ORDER_KEYS) == {o.name for o in ORDERINGS}
    for ordering in ORDERINGS:
        assert ordering.keys[-1][0] == "id"
        assert {name for name, _ in ordering.keys} <= set(_TYPES)
    assert parse_search({}).ordering == DEFAULT_ORDERING
    assert parse_search({"q": "fraud"}).ordering == RELEVANCE


def test_the_portal_sorts_are_orderings():
    from marketplace.pages.catalogue import FACET_MENUS, SORT_WITH_WORDS, SORT_WITHOUT

    assert list(PORTAL_SORTS) == ["relevance", "updated", "name", "used"]  # links people keep use these
    assert {o.name for o in PORTAL_SORTS.values()} == {RELEVANCE, DEFAULT_ORDERING, "name", "-used"}
    assert all(o.label for o in PORTAL_SORTS.values())
    assert (SORT_WITH_WORDS, SORT_WITHOUT) == ("relevance", "updated")
    assert sorted(FACET_MENUS) == sorted(FACETS)


@pytest.mark.parametrize("name", [f.name for f in FILTERS])
def test_every_backend_has_a_condition_for_every_filter(name):
    query = parse_search({"q": "x"})
    PostgresSearchBackend._filter_sql(name, query)  # ValueError for a filter it does not know
    if name in FACETS:
        row = {"kind": "", "tags_text": "", "task": "", "license": "", "status": "", "team__slug": ""}
        _facet_passes(row, name, query)
        _values(row, name)


def test_the_precomputed_counts_cover_the_single_valued_facets():
    assert PRECOMPUTED_FILTERS == set(_GROUPED) == set(FACETS) - {"tag"}


def test_the_api_takes_the_vocabulary():
    from marketplace.api.assets import AssetListView

    assert AssetListView().known_query_params() == {"format", *PARAMETERS, "cursor", "page", "page_size"}
