"""Keeping search in step with the catalogue: `asset_indexed` runs in the transaction of every asset change
(subscribed to the assets area's AssetChanged in `subscribers.py`), and `search_rebuild` recomputes everything
derived (after a bulk load or a restore)."""

from registry.search.backends import search_backend
from registry.search.backends.base import AssetFacts, vocabulary_words
from registry.search.models import SearchTerm


def asset_indexed(*, before: AssetFacts | None, after: AssetFacts | None) -> None:
    """Record an asset change for search: new name and tag words join the typo/substring vocabulary, and
    the backend updates its own index (facet counts on PostgreSQL). Call inside the change's transaction,
    with `before` read from the locked row (None on create) and `after` as saved (None on delete)."""
    if after is not None:
        words = vocabulary_words(after) - (vocabulary_words(before) if before is not None else set())
        if words:
            SearchTerm.objects.bulk_create([SearchTerm(term=word) for word in sorted(words)], ignore_conflicts=True)
    search_backend().asset_changed(before=before, after=after)


def search_rebuild() -> None:
    """Recompute the vocabulary and the backend's derived data from the asset table."""
    search_backend().rebuild()
