"""The PostgreSQL search backend: everything a page needs in a few statements whose cost is bounded by
the page size and the number of matches, never by the size of the catalogue.

- Words: a stored, weighted `search_vector` column (name A, tags B, summary C, description D;
  marketplace/migrations/0009_search.py) under a GIN index, matched with prefix queries (`word:*`) and
  ranked by `ts_rank`.
- Few matches: each word also matches the vocabulary words (`registry_searchterm`, trigram-indexed)
  most like it or containing it: `frud` finds fraud, `raud` finds fraud.
- Filters: equality on indexed columns (`task`, `upper(license)`, `upper(framework)`, `kind`, `team_id`)
  and tag containment on the `tag_array` column (GIN).
- Facets and the total: without words and with at most one kind, task, licence, status or team filter from
  the precomputed `registry_facetcount`; otherwise in one statement over the matches, each facet counted
  without its own filter (disjunctive facets).
- Pages: keyset (`cursor`) over an index per ordering, so page 10,000 costs what page 1 costs.
"""

import json
import uuid
from collections import defaultdict
from datetime import datetime

from django.db import connection, transaction

from registry.kernel.access import AssetScope
from registry.search.backends.base import (
    ALTERNATIVES_PER_TERM,
    LISTED_FIELDS,
    MARK_END,
    MARK_START,
    MIN_WIDENED_TERM,
    SIMILARITY_THRESHOLD,
    WIDEN_BELOW,
    AssetFacts,
    SearchBackend,
    SearchResult,
    highlight_html,
)
from registry.search.cursor import cursor_encode
from registry.search.query import SearchQuery
from registry.search.vocabulary import FACET_LIMIT, FACETS, PLAIN_FILTERS, TAG

CONFIG = "english"
_LISTED_SQL = (
    "SELECT a.id, a.kind, a.name, a.slug, a.summary, a.license, a.task, a.framework, a.visibility, t.slug, "
    "u.username, a.created_at, a.updated_at, a.tags_text, a.latest_version, a.version_count, a.status, "
    "a.usage_count FROM registry_asset a JOIN registry_team t ON t.id = a.team_id "
    "LEFT JOIN auth_user u ON u.id = a.created_by_id"
)  # LISTED_FIELDS' columns, in their order
# What the stored column holds; migration 0009 creates the column from this very expression.
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(tags_text, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(summary, '')), 'C') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'D')"
)
# Facet filters the precomputed counts are also kept under (one at a time); tags are not: a tag's row per
# co-occurring tag would multiply the table by the tag vocabulary.
_GROUPED = {"kind": "m.kind", "task": "m.task", "license": "m.license", "status": "m.status", "team": "tm.slug"}
PRECOMPUTED_FILTERS = frozenset(FACETS) - {TAG}
_HEADLINE = f"StartSel={MARK_START}, StopSel={MARK_END}, HighlightAll=true"
_COLUMNS = {
    "rank": "rank",
    "id": "id",
    "name": "name",
    "slug": "slug",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "usage_count": "usage_count",
}


def _tsquery_text(groups: list[list[str]]) -> str:
    """`(a:* | b:*) & c:*` from word groups; every word is letters and digits only (see search_terms)."""
    parts = []
    for group in groups:
        alternatives = " | ".join(f"{word}:*" for word in group)
        parts.append(f"({alternatives})" if len(group) > 1 else alternatives)
    return " & ".join(parts)


def _top_values(sql: str) -> str:
    """The FACET_LIMIT most frequent (facet, value, n) rows of `sql`, one facet's, in _top's order. For a facet
    with thousands of values (tags), a bounded top-N sort here spares the window in _top a full sort of them
    all (7 ms against 3 ms for 3,000 tags here)."""
    return f'(SELECT * FROM ({sql}) top(facet, value, n) ORDER BY n DESC, value COLLATE "C" LIMIT {int(FACET_LIMIT)})'


class _Sql:
    """A WHERE clause under construction: conditions joined by AND, with their parameters."""

    def __init__(self):
        self.parts: list[str] = []
        self.params: list = []

    def add(self, sql: str, *params) -> None:
        self.parts.append(sql)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.parts) or "TRUE"


class PostgresSearchBackend(SearchBackend):
    name = "postgres"

    # --- conditions -------------------------------------------------------------------------------

    @staticmethod
    def _filter_sql(name: str, query: SearchQuery) -> tuple[str, list]:
        if name == "kind":
            return "a.kind = %s", [query.kind]
        if name == "tag":
            return "a.tag_array @> %s::text[]", [list(query.tags)]
        if name == "task":
            return "a.task = %s", [query.task]  # the service stores tasks lowercased
        if name == "license":
            return "upper(a.license) = upper(%s)", [query.license]
        if name == "framework":
            return "upper(a.framework) = upper(%s)", [query.framework]
        if name == "team":
            return "a.team_id = (SELECT t.id FROM registry_team t WHERE t.slug = %s)", [query.team]
        if name == "status":
            return "a.status = %s", [query.status]
        if name == "visibility":
            return "a.visibility = %s", [query.visibility]
        raise ValueError(name)

    @staticmethod
    def _visible(where: _Sql, scope: AssetScope) -> None:
        """Only the assets `scope` may see: internal ones and its teams' (all of them for everything)."""
        if not scope.everything:
            where.add("(a.visibility = 'internal' OR a.team_id = ANY(%s))", list(scope.team_ids))

    @staticmethod
    def _base(scope: AssetScope, query: SearchQuery, tsquery: str | None) -> _Sql:
        """Visibility, words and the filters that are not facets."""
        where = _Sql()
        PostgresSearchBackend._visible(where, scope)
        if tsquery is not None:
            where.add("a.search_vector @@ to_tsquery('english', %s)", tsquery)
        for name in PLAIN_FILTERS:
            if getattr(query, name):
                sql, params = PostgresSearchBackend._filter_sql(name, query)
                where.add(sql, *params)
        return where

    # --- search -----------------------------------------------------------------------------------

    def search(self, *, scope: AssetScope, query: SearchQuery) -> SearchResult:
        if scope.nothing:
            return SearchResult(ids=[], count=0, facets={facet: [] for facet in FACETS})
        groups = [[term] for term in query.terms]
        tsquery = _tsquery_text(groups) if groups else None
        with transaction.atomic(), connection.cursor() as cursor:
            # JIT compiling these statements costs more (tens of ms) than it ever saves on them.
            cursor.execute("SET LOCAL jit = off")
            count, facets, rows = self._counts(cursor, scope, query, tsquery)
            widened: dict[str, list[str]] = {}
            if tsquery is not None and count < WIDEN_BELOW and self._few_word_matches(cursor, scope, query, tsquery):
                widened = self._alternatives(cursor, query.terms)
                if widened:
                    groups = [[term, *widened.get(term, [])] for term in query.terms]
                    tsquery = _tsquery_text(groups)
                    count, facets, rows = self._counts(cursor, scope, query, tsquery)
            if rows is None:  # counts came from the precomputed table: the page from its ordering's index
                rows = self._page(cursor, scope, query, tsquery)
            result = SearchResult(ids=[row[-1] for row in rows], count=count, facets=facets, widened=widened)
            self._cursors(result, query, rows)
            if tsquery is not None and result.ids:
                result.highlights = self._highlights(cursor, result.ids, tsquery)
        return result

    def _few_word_matches(self, cursor, scope: AssetScope, query: SearchQuery, tsquery: str) -> bool:
        """Whether the words themselves match fewer than WIDEN_BELOW visible assets: few results because
        facet filters narrowed plenty of matches are no reason to look for other words."""
        if not query.facet_filters():
            return True
        where = self._base(scope, query, tsquery)
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM registry_asset a WHERE {where.sql()} LIMIT %s) x",
            [*where.params, WIDEN_BELOW],
        )
        return cursor.fetchone()[0] < WIDEN_BELOW

    def _alternatives(self, cursor, terms) -> dict[str, list[str]]:
        found = {}
        for term in terms:
            if len(term) < MIN_WIDENED_TERM:
                continue
            cursor.execute(
                "SELECT term FROM registry_searchterm WHERE (term %% %s AND similarity(term, %s) >= %s) "
                'OR term LIKE %s ORDER BY similarity(term, %s) DESC, term COLLATE "C" LIMIT %s',
                [term, term, SIMILARITY_THRESHOLD, f"%{term}%", term, ALTERNATIVES_PER_TERM],
            )
            words = [row[0] for row in cursor.fetchall() if row[0] != term]
            if words:
                found[term] = words
        return found

    def _page(self, cursor, scope: AssetScope, query: SearchQuery, tsquery: str | None) -> list[tuple]:
        where = self._base(scope, query, tsquery)
        for name in query.facet_filters():
            sql, params = self._filter_sql(name, query)
            where.add(sql, *params)
        keys = query.order_keys
        backwards = bool(query.cursor and query.cursor.backwards)
        select = ", ".join(f"s.{_COLUMNS[name]}" for name, _ in keys if name != "id")
        rank = ", ts_rank(a.search_vector, to_tsquery('english', %s)) AS rank" if "rank" in dict(keys) else ""
        params = ([tsquery] if rank else []) + where.params
        keyset, keyset_params = self._keyset(keys, query, backwards)
        order = ", ".join(f"s.{_COLUMNS[name]} {'DESC' if desc != backwards else 'ASC'}" for name, desc in keys)
        sql = (
            f"SELECT {select}{', ' if select else ''}s.id FROM (SELECT a.id, a.name, a.slug, a.created_at, "
            f"a.updated_at, a.usage_count{rank} FROM registry_asset a WHERE {where.sql()}) s WHERE {keyset} "
            f"ORDER BY {order} LIMIT %s OFFSET %s"
        )
        cursor.execute(sql, params + keyset_params + [query.page_size + 1, query.offset])
        rows = cursor.fetchall()
        return rows[::-1] if backwards else rows

    @staticmethod
    def _keyset(keys, query: SearchQuery, backwards: bool) -> tuple[str, list]:
        if query.cursor is None:
            return "TRUE", []
        values = query.cursor.values
        directions = {desc != backwards for _, desc in keys}
        casts = {"rank": "::real", "created_at": "::timestamptz", "updated_at": "::timestamptz"}
        if len(directions) == 1:  # one direction: a row comparison, which a btree index answers directly
            columns = ", ".join(f"s.{_COLUMNS[name]}" for name, _ in keys)
            marks = ", ".join(f"%s{casts.get(name, '')}" for name, _ in keys)
            return f"({columns}) {'<' if directions.pop() else '>'} ({marks})", list(values)
        clauses, params = [], []
        for position, (name, desc) in enumerate(keys):
            equal = [f"s.{_COLUMNS[prior]} = %s{casts.get(prior, '')}" for prior, _ in keys[:position]]
            op = "<" if desc != backwards else ">"
            clauses.append("(" + " AND ".join([*equal, f"s.{_COLUMNS[name]} {op} %s{casts.get(name, '')}"]) + ")")
            params.extend([*values[:position], values[position]])
        return "(" + " OR ".join(clauses) + ")", params

    @staticmethod
    def _cursors(result: SearchResult, query: SearchQuery, rows: list[tuple]) -> None:
        size = query.page_size
        backwards = bool(query.cursor and query.cursor.backwards)
        more = len(rows) > size
        if more:
            rows = rows[1:] if backwards else rows[:size]
            result.ids = [row[-1] for row in rows]
        has_next = more if not backwards else True
        has_previous = (more if backwards else query.cursor is not None) or bool(query.page and query.page > 1)
        if rows and has_next:
            result.next_cursor = cursor_encode(rows[-1])
        if rows and has_previous and query.page is None:
            result.previous_cursor = cursor_encode(rows[0], backwards=True)

    def _highlights(self, cursor, ids: list[int], tsquery: str) -> dict[int, dict[str, str]]:
        strip = "E'\\x02\\x03'"
        cursor.execute(
            f"SELECT a.id, ts_headline('english', translate(a.name, {strip}, ''), q, %s), "
            f"ts_headline('english', translate(a.summary, {strip}, ''), q, %s) "
            "FROM registry_asset a, to_tsquery('english', %s) q WHERE a.id = ANY(%s)",
            [_HEADLINE, _HEADLINE, tsquery, ids],
        )
        return {
            pk: {"name": highlight_html(name), "summary": highlight_html(summary)}
            for pk, name, summary in cursor.fetchall()
        }

    def listed(self, *, scope: AssetScope, ids: list[int]) -> dict[int, dict]:
        # One statement written out: the ORM's query building for these joins cost more than running it.
        if scope.nothing or not ids:
            return {}
        where = _Sql()
        where.add("a.id = ANY(%s)", list(ids))
        self._visible(where, scope)
        with connection.cursor() as cursor:
            cursor.execute(f"{_LISTED_SQL} WHERE {where.sql()}", where.params)
            return {row[0]: dict(zip(LISTED_FIELDS, row, strict=True)) for row in cursor.fetchall()}

    # --- total and facets -------------------------------------------------------------------------

    def _counts(self, cursor, scope: AssetScope, query: SearchQuery, tsquery: str | None):
        """The total, every facet's counts (a facet's own filter left out of them) and, when the matches had
        to be read for them, the page too (else None): one pass over the matches, never two."""
        precomputed, computed = self._count_groups(query, tsquery)
        counts: dict[str, list[tuple[str, int]]] = {}
        rows = None
        if precomputed:
            counts.update(self._precomputed_counts(cursor, scope, query, precomputed))
        if computed:
            found, rows = self._computed_counts(cursor, scope, query, tsquery, computed)
            counts.update(found)
        total = counts.pop("_total", [("", 0)])
        return (
            (total[0][1] if total else 0),
            {facet: [{"value": v, "count": n} for v, n in counts.get(facet, [])] for facet in FACETS},
            rows,
        )

    def _count_groups(self, query: SearchQuery, tsquery: str | None) -> tuple[dict, dict]:
        """The facets (and "_total") grouped by the filters their counts apply (every active one but the facet's
        own), as two dicts of filters -> names: the groups the precomputed counts hold, and the others."""
        active = set(query.facet_filters())
        plain = self._plain(query)
        groups: dict[frozenset, list[str]] = defaultdict(list)
        for facet in FACETS:
            groups[frozenset(active - {facet})].append(facet)
        groups[frozenset(active)].append("_total")
        precomputed, computed = {}, {}
        for filters, facets in groups.items():
            precomputable = tsquery is None and self._precomputable(filters, plain)
            (precomputed if precomputable else computed)[filters] = facets
        return precomputed, computed

    @staticmethod
    def _plain(query: SearchQuery) -> set[str]:
        """The active filters that are not facets."""
        return {name for name in PLAIN_FILTERS if getattr(query, name)}

    @staticmethod
    def _precomputable(filters: frozenset, plain: set) -> bool:
        """Counts the precomputed table holds: no words, at most one facet filter, any visibility filter."""
        return "framework" not in plain and len(filters) <= 1 and filters <= PRECOMPUTED_FILTERS

    def _precomputed_counts(self, cursor, scope: AssetScope, query: SearchQuery, groups) -> dict:
        if query.visibility == "internal":
            scopes = [0]
        elif query.visibility == "private":
            scopes = None if scope.everything else list(scope.team_ids)
        else:
            scopes = None if scope.everything else [0, *scope.team_ids]
        parts, params = [], []
        for filters, facets in groups.items():
            where = _Sql()
            if scopes is not None:
                where.add("scope = ANY(%s)", scopes)
            elif query.visibility == "private":
                where.add("scope <> 0")
            where.add("filter = %s", self._filter_key(next(iter(filters)), query) if filters else "*")
            names = [facet for facet in facets if facet not in ("_total", "tag")]
            if "_total" in facets:
                parts.append(
                    f"SELECT '_total' AS facet, '' AS value, coalesce(sum(count), 0) AS n "
                    f"FROM registry_facetcount WHERE {where.sql()} AND facet = 'kind'"
                )
                params += where.params
            if "tag" in facets:
                parts.append(
                    _top_values(
                        f"SELECT 'tag', value, sum(count) AS n FROM registry_facetcount "
                        f"WHERE {where.sql()} AND facet = 'tag' GROUP BY value HAVING sum(count) > 0"
                    )
                )
                params += where.params
            if names:
                parts.append(
                    f"SELECT facet, value, sum(count) AS n FROM registry_facetcount WHERE {where.sql()} "
                    "AND facet = ANY(%s) GROUP BY facet, value HAVING sum(count) > 0"
                )
                params += [*where.params, names]
        return self._top(cursor, parts, params)

    def _computed_counts(self, cursor, scope: AssetScope, query: SearchQuery, tsquery, groups):
        """Counts over the matches, read once into a materialised CTE; the page comes from the same rows when
        the total is among the groups (it is the set of rows passing every filter)."""
        where = self._base(scope, query, tsquery)
        active = sorted(query.facet_filters())
        flags, flag_params = [], []
        for name in active:
            sql, params = self._filter_sql(name, query)
            flags.append(f"({sql}) AS p_{name}")
            flag_params += params
        # The rows any of the groups counts: OR over the groups of their facet filters.
        alternatives, alt_params = [], []
        for filters in groups:
            conditions = []
            for name in sorted(filters):
                sql, params = self._filter_sql(name, query)
                conditions.append(sql)
                alt_params += params
            alternatives.append(" AND ".join(conditions) or "TRUE")
        if "TRUE" not in alternatives:
            where.add("(" + " OR ".join(f"({alt})" for alt in alternatives) + ")", *alt_params)
        keys = query.order_keys
        columns = ", ".join(
            [
                "a.id",
                "a.kind",
                "a.task",
                "a.license",
                "a.status",
                "a.team_id",
                "a.tag_array",
                "a.name",
                "a.slug",
                "a.created_at",
                "a.updated_at",
                "a.usage_count",
                *flags,
            ]
        )
        if "rank" in dict(keys):
            columns += ", ts_rank(a.search_vector, to_tsquery('english', %s)) AS rank"
            flag_params = [*flag_params, tsquery]
        parts = []
        page_sql, page_params = "", []
        for filters, facets in groups.items():
            condition = " AND ".join(f"m.p_{name}" for name in sorted(filters)) or "TRUE"
            if "_total" in facets:
                page_sql, page_params = self._page_from_matches(query, condition.replace("m.", "s."))
            if "tag" in facets:
                parts.append(
                    _top_values(
                        "SELECT 'tag', t, count(*) FROM m CROSS JOIN LATERAL unnest(m.tag_array) t "
                        f"WHERE {condition} GROUP BY t"
                    )
                )
            single = [facet for facet in facets if facet != "tag"]
            if single:
                # The other facets of this group (and the total) in one pass: one grouping set each.
                sets = ", ".join("()" if facet == "_total" else f"({_GROUPED[facet]})" for facet in single)
                label = " ".join(
                    f"WHEN grouping({_GROUPED[facet]}) = 0 THEN '{facet}'" for facet in single if facet != "_total"
                )
                value = ", ".join(_GROUPED[facet] for facet in single if facet != "_total")
                parts.append(
                    f"SELECT * FROM (SELECT CASE {label} ELSE '_total' END AS facet, "
                    f"coalesce({value}{', ' if value else ''}'') AS value, count(*) AS n FROM m "
                    f"JOIN registry_team tm ON tm.id = m.team_id WHERE {condition} "
                    f"GROUP BY GROUPING SETS ({sets})) g WHERE g.value <> '' OR g.facet = '_total'"
                )
        prefix = f"WITH m AS MATERIALIZED (SELECT {columns} FROM registry_asset a WHERE {where.sql()}) "
        found = self._top(cursor, parts, flag_params + where.params, prefix=prefix, extra=(page_sql, page_params))
        rows = None
        if page_sql:
            page = found.pop("_page", [("[]", 0)])
            rows = [self._row(values, keys) for values in json.loads(page[0][0])]
            if query.cursor is not None and query.cursor.backwards:
                rows.reverse()
        return found, rows

    def _page_from_matches(self, query: SearchQuery, condition: str) -> tuple[str, list]:
        """The page's sort keys (id last) as one JSON text, from the materialised matches `m`."""
        keys = query.order_keys
        backwards = bool(query.cursor and query.cursor.backwards)
        keyset, keyset_params = self._keyset(keys, query, backwards)
        order = ", ".join(f"s.{_COLUMNS[name]} {'DESC' if desc != backwards else 'ASC'}" for name, desc in keys)
        values = ", ".join(f"p.{_COLUMNS[name]}" for name, _ in keys)
        return (
            f"SELECT '_page', coalesce(json_agg(json_build_array({values}) ORDER BY p.r), '[]')::text, 0, 0 "
            f"FROM (SELECT s.*, row_number() OVER (ORDER BY {order}) AS r FROM m s WHERE {condition} "
            f"AND {keyset} ORDER BY {order} LIMIT %s OFFSET %s) p",
            [*keyset_params, query.page_size + 1, query.offset],
        )

    @staticmethod
    def _row(values: list, keys) -> tuple:
        """A page row from JSON: the sort key values (timestamps parsed back), the id last."""
        return tuple(
            datetime.fromisoformat(value) if name in ("created_at", "updated_at") else value
            for value, (name, _) in zip(values, keys, strict=True)
        )

    @staticmethod
    def _top(cursor, parts: list[str], params: list, prefix: str = "", extra=("", ())) -> dict:
        """Run the UNION of (facet, value, count) queries: the top FACET_LIMIT values of each facet, most
        frequent first (ties by value in byte order, as the fallback sorts them). `extra` is one more
        (facet, value, n, r) query whose rows come back as they are."""
        extra_sql, extra_params = extra
        sql = (
            f"{prefix}SELECT facet, value, n, r FROM (SELECT facet, value, n, row_number() OVER (PARTITION BY "
            f'facet ORDER BY n DESC, value COLLATE "C") AS r FROM ({" UNION ALL ".join(parts)}) '
            f"u(facet, value, n)) x WHERE r <= %s{' UNION ALL ' + extra_sql if extra_sql else ''}"
        )
        cursor.execute(sql, [*params, FACET_LIMIT, *extra_params])
        found: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for facet, value, count, _ in sorted(cursor.fetchall(), key=lambda row: (row[0], row[3])):
            found[facet].append((value, int(count)))
        return found

    # --- the index ----------------------------------------------------------------------------------

    @staticmethod
    def _filter_key(name: str, query: SearchQuery) -> str:
        value = {
            "kind": query.kind,
            "task": query.task,
            "license": query.license.upper(),
            "status": query.status,
            "team": query.team,
        }[name]
        return f"{name}={value}"

    @staticmethod
    def _facet_keys(facts: AssetFacts) -> list[tuple]:
        """The (scope, filter, facet, value) rows an asset counts in: its facet values under no filter ("*")
        and under each of its own kind, task, licence, status and team (the filters a search may apply alone)."""
        scope = 0 if facts.visibility == "internal" else facts.team_id
        optional = (
            ("task", facts.task, facts.task),
            ("license", facts.license, facts.license.upper()),
            ("status", facts.status, facts.status),
        )
        keys = [("kind", facts.kind), ("team", facts.team_slug), *(("tag", tag) for tag in facts.tags)]
        keys += [(facet, value) for facet, value, _ in optional if value]
        filters = ["*", f"kind={facts.kind}", f"team={facts.team_slug}"]
        filters += [f"{name}={key}" for name, value, key in optional if value]
        return [(scope, key, facet, value) for key in filters for facet, value in keys]

    def asset_changed(self, *, before: AssetFacts | None, after: AssetFacts | None) -> None:
        deltas: dict[tuple, int] = defaultdict(int)
        for facts, sign in ((before, -1), (after, 1)):
            if facts is not None:
                for key in self._facet_keys(facts):
                    deltas[key] += sign
        changes = sorted((key, delta) for key, delta in deltas.items() if delta)
        if not changes:
            return
        values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(changes))
        params = [item for key, delta in changes for item in (*key, delta)]
        with connection.cursor() as cursor:
            # Rows in key order, so two writers never lock the same rows in opposite orders.
            cursor.execute(
                f"INSERT INTO registry_facetcount (scope, filter, facet, value, count) VALUES {values} "
                "ON CONFLICT (scope, filter, facet, value) DO UPDATE "
                "SET count = registry_facetcount.count + EXCLUDED.count",
                params,
            )

    def rebuild(self) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("LOCK TABLE registry_facetcount IN EXCLUSIVE MODE")
            cursor.execute("DELETE FROM registry_facetcount")
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(FACET_COUNTS_SQL)
            cursor.execute(VOCABULARY_SQL)
            change_log_reset(cursor)


def change_log_reset(cursor) -> None:
    """Start the asset change log again under a new epoch: every in-memory index (backends/memory.py) loads the
    catalogue afresh, and what the log held (a bulk load logs every row) is gone."""
    cursor.execute("TRUNCATE registry_searchchange")
    cursor.execute(
        "INSERT INTO registry_searchstate (id, epoch) VALUES (1, %s) ON CONFLICT (id) DO UPDATE "
        "SET epoch = EXCLUDED.epoch",
        [str(uuid.uuid4())],
    )


def change_log_prune(cursor) -> int:
    """Remove the asset change log's rows that every in-memory index has had a whole period (the time since the
    previous call) to read: those of transactions below the horizon the previous call recorded. The horizon
    becomes the oldest transaction running now. Returns how many rows went. Run in a transaction."""
    cursor.execute("SELECT prune_next FROM registry_searchstate WHERE id = 1 FOR UPDATE")
    found = cursor.fetchone()
    if found is None:
        return 0  # no log to follow until a rebuild writes the state row
    cursor.execute("DELETE FROM registry_searchchange WHERE xid < %s::text::xid8", [str(found[0])])
    removed = cursor.rowcount
    cursor.execute(
        "UPDATE registry_searchstate SET pruned_below = GREATEST(pruned_below, prune_next), "
        "prune_next = pg_snapshot_xmin(pg_current_snapshot())::text::bigint WHERE id = 1"
    )
    return removed


_SCOPE = "CASE WHEN a.visibility = 'internal' THEN 0 ELSE a.team_id END"
# Every asset counts its facet values under no filter ("*") and under each of its kind, team, task, licence and
# status. Migration 0011 holds a copy (what it computed when it ran).
FACET_COUNTS_SQL = f"""
INSERT INTO registry_facetcount (scope, filter, facet, value, count)
SELECT a.scope, f.key, v.facet, v.value, count(*)
FROM (SELECT {_SCOPE} AS scope, a.kind, a.task, a.license, a.status, t.slug AS team, a.tag_array
      FROM registry_asset a JOIN registry_team t ON t.id = a.team_id) a
CROSS JOIN LATERAL (VALUES ('*'), ('kind=' || a.kind), ('team=' || a.team),
                           (CASE WHEN a.task <> '' THEN 'task=' || a.task END),
                           (CASE WHEN a.license <> '' THEN 'license=' || upper(a.license) END),
                           (CASE WHEN a.status <> '' THEN 'status=' || a.status END)) f(key)
CROSS JOIN LATERAL (SELECT 'kind', a.kind UNION ALL SELECT 'team', a.team
                    UNION ALL SELECT 'task', a.task WHERE a.task <> ''
                    UNION ALL SELECT 'license', a.license WHERE a.license <> ''
                    UNION ALL SELECT 'status', a.status WHERE a.status <> ''
                    UNION ALL SELECT 'tag', unnest(a.tag_array)) v(facet, value)
WHERE f.key IS NOT NULL
GROUP BY 1, 2, 3, 4
"""
VOCABULARY_SQL = """
INSERT INTO registry_searchterm (term)
SELECT DISTINCT word FROM registry_asset a
CROSS JOIN LATERAL regexp_split_to_table(lower(a.name || ' ' || a.tags_text), '[^[:alnum:]]+') word
WHERE length(word) BETWEEN 3 AND 64 AND word !~ '^[0-9]+$'
ON CONFLICT (term) DO NOTHING
"""
