"""Full-text search over the catalogue.

On PostgreSQL the query is matched against a weighted tsvector expression (name and tags A,
summary B, description C) that a GIN expression index covers (migration 0002); the WHERE clause
must use the very same expression for the planner to pick the index, hence `asset_search_vector()`
is the single definition of it. On SQLite (the embedded default) a term-by-term `icontains`
fallback gives the same filtering semantics with a simple weighted rank.
"""

import re

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, FloatField, Q, QuerySet, Value, When

SEARCH_CONFIG = "english"
MAX_TERMS = 16
_WEIGHTED_FIELDS = (("name", "A", 1.0), ("tags_text", "A", 1.0), ("summary", "B", 0.4), ("description", "C", 0.1))


def asset_search_vector() -> SearchVector:
    vector = None
    for field, weight, _ in _WEIGHTED_FIELDS:
        part = SearchVector(field, weight=weight, config=SEARCH_CONFIG)
        vector = part if vector is None else vector + part
    return vector


def search_terms(q: str) -> list[str]:
    # Only word characters reach the query: user input never becomes tsquery syntax.
    return re.findall(r"\w+", (q or "").lower())[:MAX_TERMS]


def apply_search(qs: QuerySet, q: str) -> QuerySet:
    """Keep the assets matching every term of `q` (prefix match) and annotate a `rank`."""
    terms = search_terms(q)
    if not terms:
        return qs
    if connection.vendor == "postgresql":
        query = SearchQuery(" & ".join(f"{term}:*" for term in terms), search_type="raw", config=SEARCH_CONFIG)
        vector = asset_search_vector()
        return qs.annotate(search=vector).filter(search=query).annotate(rank=SearchRank(vector, query))
    rank = Value(0.0, output_field=FloatField())
    for term in terms:
        matches = Q()
        for field, _, weight in _WEIGHTED_FIELDS:
            matches |= Q(**{f"{field}__icontains": term})
            rank = rank + Case(When(**{f"{field}__icontains": term}, then=Value(weight)),
                               default=Value(0.0), output_field=FloatField())
        qs = qs.filter(matches)
    return qs.annotate(rank=rank)
