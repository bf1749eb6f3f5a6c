"""The catalogue search's vocabulary, declared once: its filters, its orderings and its facets.

Readers: AssetFilter (registry/search/filters.py: the form every search is validated with), parse_search and
SearchQuery (registry/search/query.py), the search backends (registry/search/backends/: which filters are facets,
which are not, the sort keys of each ordering), the API (marketplace/api/assets.py: the documented query
parameters and the accepted ones) and the portal (marketplace/pages/catalogue.py: the facet menus and the sort
menu). A filter, an ordering or a facet is added here first; tests/registry/test_search_vocabulary.py then fails
until every reader handles it (the FilterSet declares it, each backend has a condition for it, ...).
"""

from dataclasses import dataclass

from django.db import models

from registry.assets.models import AssetKind, ReleaseStatus
from registry.kernel.access import Visibility


@dataclass(frozen=True)
class SearchFilter:
    """A query parameter that narrows the matches."""

    name: str
    help_text: str = ""
    choices: type[models.TextChoices] | None = None
    # A facet: its values are counted with every page, each over the matches of every other filter but its own.
    facet: bool = False
    label: str = ""  # the facet's title in the portal's filter menus
    # Repeatable: every value given must hold (tags).
    many: bool = False
    # The SearchQuery attribute holding the parsed value.
    attribute: str = ""

    @property
    def field(self) -> str:
        return self.attribute or self.name


WORDS = "q"  # the words searched for
ORDERING = "ordering"
TAG = "tag"
TEAM = "team"

FILTERS: tuple[SearchFilter, ...] = (
    SearchFilter("kind", choices=AssetKind, facet=True, label="Kind"),
    SearchFilter(
        TAG,
        help_text="Repeat to require several tags.",
        facet=True,
        label="Tag",
        many=True,
        attribute="tags",
    ),
    SearchFilter("task", help_text="Case-insensitive.", facet=True, label="Task"),
    SearchFilter("license", help_text="SPDX identifier; case-insensitive.", facet=True, label="Licence"),
    SearchFilter("framework", help_text="Case-insensitive."),
    SearchFilter(
        "status",
        choices=ReleaseStatus,
        facet=True,
        label="Status",
        help_text=(
            "Release status: the furthest status among the asset's versions (approved if any version is approved, "
            "then in_review, validated, validating, draft, rejected, invalid, deprecated)."
        ),
    ),
    SearchFilter(TEAM, help_text="Slug of the owning team.", facet=True, label="Team"),
    SearchFilter("visibility", choices=Visibility),
)
FILTERS_BY_NAME = {f.name: f for f in FILTERS}
# Facets are filters too: a facet's own filter is left out of its counts (disjunctive facets). In this order
# in every answer.
FACETS: tuple[str, ...] = tuple(f.name for f in FILTERS if f.facet)
# The filters that are not facets: they narrow the matches the facets are counted over.
PLAIN_FILTERS: tuple[str, ...] = tuple(f.name for f in FILTERS if not f.facet)
FACET_LIMIT = 50
WORDS_HELP = (
    "Words over name, tags, summary and description (weighted in that order); every word must match as a "
    "prefix. With fewer than 5 matches, each word also matches the names' and tags' words most like it or "
    "containing it (typos, substrings)."
)


@dataclass(frozen=True)
class Ordering:
    """An `ordering` value: its sort keys, and how the portal's sort menu offers it (if it does)."""

    name: str
    # (key, descending), ending with the primary key, so the order is total and a keyset cursor never skips or
    # repeats a row among ties.
    keys: tuple[tuple[str, bool], ...]
    note: str = ""  # said of it in the API's documentation
    label: str = ""  # the portal's sort menu: the choice people see
    sort: str = ""  # the portal's sort menu: its `sort=` value (kept short in links people share)


RELEVANCE = "relevance"
# Without words there is no rank: parse_search turns "relevance" into the default ordering.
DEFAULT_ORDERING = "-updated"

# In the order the API documents them; those with a `sort` make the portal's sort menu, in this order too.
ORDERINGS: tuple[Ordering, ...] = (
    Ordering(
        RELEVANCE,
        (("rank", True), ("id", False)),
        note="default with q",
        label="Best match",
        sort="relevance",
    ),
    Ordering(
        DEFAULT_ORDERING,
        (("updated_at", True), ("id", True)),
        note="default without",
        label="Recently updated",
        sort="updated",
    ),
    Ordering("name", (("name", False), ("slug", False), ("id", False)), label="Name", sort="name"),
    Ordering("-name", (("name", True), ("slug", True), ("id", True))),
    Ordering("created", (("created_at", False), ("id", False))),
    Ordering("-created", (("created_at", True), ("id", True))),
    Ordering("updated", (("updated_at", False), ("id", False))),
    Ordering(
        "-used",
        (("usage_count", True), ("updated_at", True), ("id", True)),
        note="most live endpoints first",
        label="Most used",
        sort="used",
    ),
)
ORDERINGS_BY_NAME = {o.name: o for o in ORDERINGS}
ORDER_KEYS = {o.name: o.keys for o in ORDERINGS}
ORDERING_HELP = ", ".join(f"{o.name} ({o.note})" if o.note else o.name for o in ORDERINGS) + "."
# The portal's sort menu: its `sort=` value -> the ordering it asks for.
PORTAL_SORTS = {o.sort: o for o in ORDERINGS if o.sort}
# Every query parameter of a search but the paging ones (page, page_size, cursor: registry/search/query.py).
PARAMETERS: tuple[str, ...] = (WORDS, *FILTERS_BY_NAME, ORDERING)
