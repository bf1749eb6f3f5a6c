"""The fallback search backend, for databases without PostgreSQL's full-text search (the embedded SQLite).

Same interface and the same semantics as the PostgreSQL backend, at the speed of a small catalogue: the
database narrows the candidates with `icontains` on each word, and Python does the rest over the
candidate rows (word-prefix matching on stems, the weighted rank, typo and substring widening with pg_trgm's
similarity, disjunctive facets, ordering and keyset pages). Words are compared as PostgreSQL's `english`
configuration compares them: stemmed with the same Snowball stemmer (`wines` finds wine, `fraudulent` finds
fraudulently) and without its stop words (`the` matches nothing). Differences that remain: the words are
letters and digits (PostgreSQL's parser also keeps hyphenated compounds, e-mail addresses and the like whole)
and a rank that weighs the fields as `ts_rank` does (name 1.0, tags 0.4, summary 0.2, description 0.1)
without counting repetitions. Its cost grows with the number of candidates; it is not meant for large
catalogues.
"""

import re
import threading
from collections import Counter
from functools import cmp_to_key

import snowballstemmer
from django.db.models import Q

from registry.assets.models import Asset
from registry.kernel.access import AssetScope, Visibility
from registry.search.backends.base import (
    ALTERNATIVES_PER_TERM,
    MARK_END,
    MARK_START,
    MIN_WIDENED_TERM,
    SIMILARITY_THRESHOLD,
    WIDEN_BELOW,
    AssetFacts,
    SearchBackend,
    SearchResult,
    highlight_html,
    similarity,
    vocabulary_words,
)
from registry.search.cursor import cursor_encode
from registry.search.models import SearchTerm
from registry.search.query import SearchQuery
from registry.search.vocabulary import FACET_LIMIT, FACETS

_WORD = re.compile(r"[^\W_]+")
_FIELDS = (("name", 1.0), ("tags_text", 0.4), ("summary", 0.2), ("description", 0.1))
_ROW_FIELDS = (
    "id",
    "kind",
    "task",
    "license",
    "status",
    "framework",
    "team_id",
    "team__slug",
    "tags_text",
    "name",
    "summary",
    "description",
    "slug",
    "created_at",
    "updated_at",
    "usage_count",
)


# PostgreSQL's english stop words (share/tsearch_data/english.stop): not indexed, dropped from queries.
STOP_WORDS = frozenset(
    """
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself
it its itself they them their theirs themselves what which who whom this that these those am is are was were be
been being have has had having do does did doing a an the and but if or because as until while of at by for with
about against between into through during before after above below to from up down in out on off over under
again further then once here there when where why how all any both each few more most other some such no nor not
only own same so than too very s t can will just don should now""".split()
)
_stemmers = threading.local()  # a Snowball stemmer keeps state while it works: one per thread


def _stem(word: str) -> str:
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return stemmer.stemWord(word)


def _words(text: str) -> list[str]:
    return _WORD.findall((text or "").lower())


def _lexemes(text: str) -> list[str]:
    """What `to_tsvector('english', text)` keeps of the text's words: stems, without stop words."""
    return [_stem(word) for word in _words(text) if word not in STOP_WORDS]


def _stem_groups(groups: list[list[str]]) -> list[list[str]]:
    """The query's word groups as `to_tsquery('english', ...)` keeps them: each word stemmed (a prefix of the
    stems it matches), stop words dropped, and a group left with no word dropped."""
    stemmed = [[_stem(word) for word in group if word not in STOP_WORDS] for group in groups]
    return [group for group in stemmed if group]


def _narrowing(stem: str) -> str:
    """A substring every word whose stem starts with `stem` contains: the stemmer may rewrite a word's last
    letter (happy -> happi) or add one (hoping -> hope), so the stem without its last letter."""
    return stem[:-1] if len(stem) > 2 else stem


def _facet_passes(row: dict, name: str, query: SearchQuery) -> bool:
    if name == "kind":
        return row["kind"] == query.kind
    if name == "tag":
        return set(query.tags) <= set(row["tags_text"].split())
    if name == "task":
        return row["task"] == query.task
    if name == "license":
        return row["license"].upper() == query.license.upper()
    if name == "status":
        return row["status"] == query.status
    if name == "team":
        return row["team__slug"] == query.team
    raise ValueError(name)


def _values(row: dict, facet: str) -> list[str]:
    if facet == "tag":
        return row["tags_text"].split()
    if facet == "team":
        return [row["team__slug"]]
    return [row[facet]] if row[facet] else []


class FallbackSearchBackend(SearchBackend):
    name = "fallback"

    def _candidates(self, scope: AssetScope, query: SearchQuery, groups: list[list[str]]) -> list[dict]:
        qs = Asset.objects.all()
        if not scope.everything:
            qs = qs.filter(Q(visibility=Visibility.INTERNAL) | Q(team_id__in=scope.team_ids))
        if query.framework:
            qs = qs.filter(framework__iexact=query.framework)
        if query.visibility:
            qs = qs.filter(visibility=query.visibility)
        stems = _stem_groups(groups)
        if groups and not stems:
            return []  # only stop words: PostgreSQL's query is empty and matches nothing
        for group in stems:
            matches = Q()
            for stem in group:
                for field, _ in _FIELDS:
                    matches |= Q(**{f"{field}__icontains": _narrowing(stem)})
            qs = qs.filter(matches)
        rows = list(qs.values(*_ROW_FIELDS))
        if not groups:
            return rows
        matched = []
        for row in rows:
            fields = {field: _lexemes(row[field]) for field, _ in _FIELDS}
            rank, ok = 0.0, True
            for group in stems:
                weights = [
                    weight
                    for field, weight in _FIELDS
                    if any(lexeme.startswith(stem) for lexeme in fields[field] for stem in group)
                ]
                if not weights:
                    ok = False
                    break
                rank += sum(weights)
            if ok:
                row["rank"] = rank
                matched.append(row)
        return matched

    def _alternatives(self, terms) -> dict[str, list[str]]:
        vocabulary = list(SearchTerm.objects.values_list("term", flat=True))
        found = {}
        for term in terms:
            if len(term) < MIN_WIDENED_TERM:
                continue
            scored = [
                (similarity(term, word), word)
                for word in vocabulary
                if term in word or similarity(term, word) >= SIMILARITY_THRESHOLD
            ]
            scored.sort(key=lambda pair: (-pair[0], pair[1]))
            words = [word for _, word in scored[:ALTERNATIVES_PER_TERM] if word != term]
            if words:
                found[term] = words
        return found

    def search(self, *, scope: AssetScope, query: SearchQuery) -> SearchResult:
        if scope.nothing:
            return SearchResult(ids=[], count=0, facets={facet: [] for facet in FACETS})
        groups = [[term] for term in query.terms]
        rows = self._candidates(scope, query, groups)
        active = query.facet_filters()
        passes = [{name: _facet_passes(row, name, query) for name in active} for row in rows]
        matches = [row for row, flags in zip(rows, passes, strict=True) if all(flags.values())]
        widened: dict[str, list[str]] = {}
        # Widen only when the words themselves (before facet filters) match too few.
        if groups and len(matches) < WIDEN_BELOW and len(rows) < WIDEN_BELOW:
            widened = self._alternatives(query.terms)
            if widened:
                groups = [[term, *widened.get(term, [])] for term in query.terms]
                rows = self._candidates(scope, query, groups)
                passes = [{name: _facet_passes(row, name, query) for name in active} for row in rows]
                matches = [row for row, flags in zip(rows, passes, strict=True) if all(flags.values())]
        facets = {}
        for facet in FACETS:
            counter: Counter = Counter()
            for row, flags in zip(rows, passes, strict=True):
                if all(ok for name, ok in flags.items() if name != facet):
                    counter.update(_values(row, facet))
            ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:FACET_LIMIT]
            facets[facet] = [{"value": value, "count": count} for value, count in ranked]
        page, result_rows, more = self._page(matches, query)
        result = SearchResult(ids=[row["id"] for row in page], count=len(matches), facets=facets, widened=widened)
        if groups:
            flat = [stem for group in _stem_groups(groups) for stem in group]
            result.highlights = {
                row["id"]: {"name": self._mark(row["name"], flat), "summary": self._mark(row["summary"], flat)}
                for row in page
            }
        self._cursors(result, query, page, more)
        return result

    @staticmethod
    def _key(row: dict, keys) -> tuple:
        return tuple(row[name] for name, _ in keys)

    @staticmethod
    def _compare(left: tuple, right: tuple, keys, backwards: bool) -> int:
        for mine, theirs, (_, desc) in zip(left, right, keys, strict=True):
            if mine != theirs:
                smaller = mine < theirs
                return -1 if smaller != (desc != backwards) else 1
        return 0

    def _page(self, matches: list[dict], query: SearchQuery):
        keys = query.order_keys
        backwards = bool(query.cursor and query.cursor.backwards)
        ordered = sorted(
            matches, key=cmp_to_key(lambda a, b: self._compare(self._key(a, keys), self._key(b, keys), keys, backwards))
        )
        if query.cursor is not None:
            ordered = [
                row for row in ordered if self._compare(self._key(row, keys), query.cursor.values, keys, backwards) > 0
            ]
        window = ordered[query.offset : query.offset + query.page_size + 1]
        more = len(window) > query.page_size
        page = window[: query.page_size]
        if backwards:
            page.reverse()
        return page, ordered, more

    @staticmethod
    def _cursors(result: SearchResult, query: SearchQuery, page: list[dict], more: bool) -> None:
        keys = query.order_keys
        backwards = bool(query.cursor and query.cursor.backwards)
        has_next = more if not backwards else True
        has_previous = more if backwards else query.cursor is not None
        if page and has_next:
            result.next_cursor = cursor_encode(tuple(page[-1][name] for name, _ in keys))
        if page and has_previous and query.page is None:
            result.previous_cursor = cursor_encode(tuple(page[0][name] for name, _ in keys), backwards=True)

    @staticmethod
    def _mark(text: str, stems: list[str]) -> str:
        """Mark the words that match, as ts_headline does: those whose stem starts with one of `stems`."""
        text = (text or "").replace(MARK_START, "").replace(MARK_END, "")

        def mark(found) -> str:
            word = found.group(0).lower()
            matches = word not in STOP_WORDS and any(_stem(word).startswith(stem) for stem in stems)
            return f"{MARK_START}{found.group(0)}{MARK_END}" if matches else found.group(0)

        return highlight_html(_WORD.sub(mark, text))

    def asset_changed(self, *, before: AssetFacts | None, after: AssetFacts | None) -> None:
        """Nothing to keep: this backend reads the asset table itself."""

    def rebuild(self) -> None:
        """Add every name and tag word of the catalogue to the vocabulary (words are never removed): what the
        PostgreSQL backend's VOCABULARY_SQL does, in Python."""
        words: set[str] = set()
        for name, tags_text in Asset.objects.values_list("name", "tags_text").iterator(chunk_size=2000):
            words |= vocabulary_words(
                AssetFacts(id=0, team_id=0, team_slug="", kind="", visibility="", task="", license="", framework="",
                           status="", tags=tuple(tags_text.split()), name=name, summary="", description="")
            )  # fmt: skip
        SearchTerm.objects.bulk_create(
            [SearchTerm(term=word) for word in sorted(words)], ignore_conflicts=True, batch_size=1000
        )
