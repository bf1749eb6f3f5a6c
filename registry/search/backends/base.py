"""The interface every search backend implements, and what they share.

A backend answers a `SearchQuery` for a caller's `AssetScope` with asset ids in order, the exact total,
facet counts and highlights, and keeps its own index in step with the catalogue through
`asset_changed`. Nothing here assumes SQL: an external engine (OpenSearch) holding a copy of the
catalogue implements the same three methods, with `asset_changed` queueing the document update.
"""

import html
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from django.db.models import Q

from registry.assets.models import Asset
from registry.kernel.access import AssetScope, Visibility
from registry.search.query import SearchQuery

# Typo and substring widening: when the words match fewer of the assets the caller may see than this (and
# so does the search with its filters), each word also matches the vocabulary words most like it
# (trigram similarity, as pg_trgm computes it) or containing it.
WIDEN_BELOW = 5
SIMILARITY_THRESHOLD = 0.3
ALTERNATIVES_PER_TERM = 5
MIN_WIDENED_TERM = 3
# Highlight markers: control characters that cannot survive into a name or summary (they are removed
# before highlighting), replaced by <mark> after the text is HTML-escaped.
MARK_START, MARK_END = "\x02", "\x03"
# What a search result lists (the API's list items), read as plain rows: a hundred model instances with their
# team and creator cost twice what a hundred dicts do.
LISTED_FIELDS = (
    "id",
    "kind",
    "name",
    "slug",
    "summary",
    "license",
    "task",
    "framework",
    "visibility",
    "team__slug",
    "created_by__username",
    "created_at",
    "updated_at",
    "tags_text",
    "latest_version",
    "version_count",
    "status",
    "usage_count",
)


@dataclass(frozen=True)
class AssetFacts:
    """What the search index keeps of an asset: a snapshot taken by the service that changes it."""

    id: int
    team_id: int
    team_slug: str
    kind: str
    visibility: str
    task: str
    license: str
    framework: str
    status: str
    tags: tuple[str, ...]
    name: str
    summary: str
    description: str

    @classmethod
    def of(cls, asset) -> "AssetFacts":
        return cls(
            id=asset.pk,
            team_id=asset.team_id,
            team_slug=asset.team.slug,
            kind=asset.kind,
            visibility=asset.visibility,
            task=asset.task,
            license=asset.license,
            framework=asset.framework,
            status=asset.status,
            tags=tuple(asset.tags_text.split()),
            name=asset.name,
            summary=asset.summary,
            description=asset.description,
        )


@dataclass
class SearchResult:
    ids: list[int]
    count: int
    facets: dict[str, list[dict]]
    highlights: dict[int, dict[str, str]] = field(default_factory=dict)
    next_cursor: str | None = None
    previous_cursor: str | None = None
    widened: dict[str, list[str]] = field(default_factory=dict)


class SearchBackend(ABC):
    name: str

    @abstractmethod
    def search(self, *, scope: AssetScope, query: SearchQuery) -> SearchResult:
        """The page of assets `scope` may see that match `query`, with the total and facets over all of them."""

    @abstractmethod
    def asset_changed(self, *, before: AssetFacts | None, after: AssetFacts | None) -> None:
        """Keep the index in step: called in the transaction of every create (before=None), update and
        delete (after=None). Must not fail for reasons of its own once the change itself is valid."""

    def prepare(self) -> None:
        """Load what searching keeps in memory, if anything: the web server calls this once before it forks its
        workers (marketplace.gunicorn_conf). Nothing, unless a backend keeps something."""
        return None

    def listed(self, *, scope: AssetScope, ids: list[int]) -> dict[int, dict]:
        """The LISTED_FIELDS of the assets `ids` that `scope` may see, by id, read from the catalogue (the
        engine's copy may lag it: what a page shows, and whether the caller may see it, is the database's)."""
        if scope.nothing or not ids:
            return {}
        found = Asset.objects.filter(pk__in=ids)
        if not scope.everything:
            found = found.filter(Q(visibility=Visibility.INTERNAL) | Q(team_id__in=scope.team_ids))
        return {row["id"]: row for row in found.values(*LISTED_FIELDS)}

    @abstractmethod
    def rebuild(self) -> None:
        """Recompute everything the backend derives from the catalogue (after a bulk load or a restore)."""


def trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams of `text`: per word of letters and digits, lowercased, padded '  w '."""
    grams: set[str] = set()
    for word in re.findall(r"[^\W_]+", text.lower()):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def similarity(one: str, other: str) -> float:
    """pg_trgm's `similarity(one, other)`: shared trigrams over all trigrams."""
    first, second = trigrams(one), trigrams(other)
    union = len(first | second)
    return len(first & second) / union if union else 0.0


def vocabulary_words(facts: AssetFacts) -> set[str]:
    """The words of an asset's name and tags that go into the typo/substring vocabulary."""
    text = " ".join((facts.name, *facts.tags))
    return {word for word in re.findall(r"[^\W_]+", text.lower()) if 3 <= len(word) <= 64 and not word.isdigit()}


def highlight_html(marked: str) -> str:
    """HTML of text whose matches are wrapped in the markers: escaped, with <mark> around matches."""
    return html.escape(marked).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
