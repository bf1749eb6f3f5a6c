"""The PostgreSQL search backend: everything a page needs in a few statements whose cost is bounded by
the page size and the number of matches, never by the size of the catalogue.

- Words: a stored, weighted `search_vector` column (name A, tags B, summary C, description D; migration
  0009) under a GIN index, matched with prefix queries (`word:*`) and ranked by `ts_rank`.
- Few matches: each word also matches the vocabulary words (`marketplace_searchterm`, trigram-indexed)
  most like it or containing it: `frud` finds fraud, `raud` finds fraud.
- Filters: equality on indexed columns (`task`, `upper(license)`, `upper(framework)`, `kind`, `team_id`)
  and tag containment on the `tag_array` column (GIN).
- Facets and the total: for the unfiltered catalogue (or one kind, or one visibility) from the
  precomputed `marketplace_facetcount`; otherwise in one statement over the matches, each facet counted
  without its own filter (disjunctive facets).
- Pages: keyset (`cursor`) over an index per ordering, so page 10,000 costs what page 1 costs.
"""

from collections import defaultdict

from django.db import connection, transaction

from marketplace.access import AssetScope
from marketplace.search.backends.base import (ALTERNATIVES_PER_TERM, MARK_END, MARK_START, MIN_WIDENED_TERM,
                                              SIMILARITY_THRESHOLD, WIDEN_BELOW, AssetFacts, SearchBackend,
                                              SearchResult, highlight_html)
from marketplace.search.cursor import cursor_encode
from marketplace.search.query import FACET_LIMIT, FACETS, SearchQuery

CONFIG = "english"
# What the stored column holds; migration 0009 creates the column from this very expression.
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(tags_text, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(summary, '')), 'C') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'D')"
)
PRECOMPUTED_FILTERS = frozenset({"kind", "visibility"})
_HEADLINE = f"StartSel={MARK_START}, StopSel={MARK_END}, HighlightAll=true"
_COLUMNS = {"rank": "rank", "id": "id", "name": "name", "slug": "slug", "created_at": "created_at",
            "updated_at": "updated_at"}


def _tsquery_text(groups: list[list[str]]) -> str:
    """`(a:* | b:*) & c:*` from word groups; every word is letters and digits only (see search_terms)."""
    parts = []
    for group in groups:
        alternatives = " | ".join(f"{word}:*" for word in group)
        parts.append(f"({alternatives})" if len(group) > 1 else alternatives)
    return " & ".join(parts)


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
            return "a.team_id = (SELECT t.id FROM marketplace_team t WHERE t.slug = %s)", [query.team]
        if name == "visibility":
            return "a.visibility = %s", [query.visibility]
        raise ValueError(name)

    @staticmethod
    def _base(scope: AssetScope, query: SearchQuery, tsquery: str | None) -> _Sql:
        """Visibility, words and the filters that are not facets."""
        where = _Sql()
        if not scope.everything:
            where.add("(a.visibility = 'internal' OR a.team_id = ANY(%s))", list(scope.team_ids))
        if tsquery is not None:
            where.add("a.search_vector @@ to_tsquery('english', %s)", tsquery)
        for name in ("framework", "visibility"):
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
        with connection.cursor() as cursor:
            count, facets = self._counts(cursor, scope, query, tsquery)
            widened: dict[str, list[str]] = {}
            if tsquery is not None and count < WIDEN_BELOW:
                widened = self._alternatives(cursor, query.terms)
                if widened:
                    groups = [[term, *widened.get(term, [])] for term in query.terms]
                    tsquery = _tsquery_text(groups)
                    count, facets = self._counts(cursor, scope, query, tsquery)
            rows = self._page(cursor, scope, query, tsquery)
            result = SearchResult(ids=[row[-1] for row in rows], count=count, facets=facets, widened=widened)
            self._cursors(result, query, rows)
            if tsquery is not None and result.ids:
                result.highlights = self._highlights(cursor, result.ids, tsquery)
        return result

    def _alternatives(self, cursor, terms) -> dict[str, list[str]]:
        found = {}
        for term in terms:
            if len(term) < MIN_WIDENED_TERM:
                continue
            cursor.execute(
                "SELECT term FROM marketplace_searchterm WHERE (term %% %s AND similarity(term, %s) >= %s) "
                "OR term LIKE %s ORDER BY similarity(term, %s) DESC, term COLLATE \"C\" LIMIT %s",
                [term, term, SIMILARITY_THRESHOLD, f"%{term}%", term, ALTERNATIVES_PER_TERM])
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
        sql = (f"SELECT {select}{', ' if select else ''}s.id FROM (SELECT a.id, a.name, a.slug, a.created_at, "
               f"a.updated_at{rank} FROM marketplace_asset a WHERE {where.sql()}) s WHERE {keyset} "
               f"ORDER BY {order} LIMIT %s OFFSET %s")
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
        for i, (name, desc) in enumerate(keys):
            equal = [f"s.{_COLUMNS[prior]} = %s{casts.get(prior, '')}" for prior, _ in keys[:i]]
            op = "<" if desc != backwards else ">"
            clauses.append("(" + " AND ".join([*equal, f"s.{_COLUMNS[name]} {op} %s{casts.get(name, '')}"]) + ")")
            params.extend([*values[:i], values[i]])
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
            "FROM marketplace_asset a, to_tsquery('english', %s) q WHERE a.id = ANY(%s)",
            [_HEADLINE, _HEADLINE, tsquery, ids])
        return {pk: {"name": highlight_html(name), "summary": highlight_html(summary)}
                for pk, name, summary in cursor.fetchall()}

    # --- total and facets -------------------------------------------------------------------------

    def _counts(self, cursor, scope: AssetScope, query: SearchQuery, tsquery: str | None):
        """The total and every facet's counts; a facet's own filter is left out of its counts."""
        active = set(query.facet_filters())
        plain = {"framework", "visibility"} & {name for name in ("framework", "visibility") if getattr(query, name)}
        groups: dict[frozenset, list[str]] = defaultdict(list)
        for facet in FACETS:
            groups[frozenset(active - {facet})].append(facet)
        groups[frozenset(active)].append("_total")
        precomputed, computed = {}, {}
        for filters, facets in groups.items():
            if tsquery is None and filters | plain <= PRECOMPUTED_FILTERS:
                precomputed[filters] = facets
            else:
                computed[filters] = facets
        counts: dict[str, list[tuple[str, int]]] = {}
        if precomputed:
            counts.update(self._precomputed_counts(cursor, scope, query, precomputed))
        if computed:
            counts.update(self._computed_counts(cursor, scope, query, tsquery, computed))
        total = counts.pop("_total", [("", 0)])
        return (total[0][1] if total else 0), {facet: [{"value": v, "count": n} for v, n in counts.get(facet, [])]
                                               for facet in FACETS}

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
            if "kind" in filters:
                where.add("kind = %s", query.kind)
            names = [facet for facet in facets if facet != "_total"]
            if "_total" in facets:
                parts.append(f"SELECT '_total' AS facet, '' AS value, coalesce(sum(count), 0) AS n "
                             f"FROM marketplace_facetcount WHERE {where.sql()} AND facet = 'kind'")
                params += where.params
            if names:
                parts.append(f"SELECT facet, value, sum(count) AS n FROM marketplace_facetcount WHERE {where.sql()} "
                             "AND facet = ANY(%s) GROUP BY facet, value HAVING sum(count) > 0")
                params += [*where.params, names]
        return self._top(cursor, parts, params)

    def _computed_counts(self, cursor, scope: AssetScope, query: SearchQuery, tsquery, groups) -> dict:
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
        columns = ", ".join(["a.kind", "a.task", "a.license", "a.team_id", "a.tag_array", *flags])
        parts = []
        for filters, facets in groups.items():
            condition = " AND ".join(f"m.p_{name}" for name in sorted(filters)) or "TRUE"
            for facet in facets:
                if facet == "_total":
                    parts.append(f"SELECT '_total', '', count(*) FROM m WHERE {condition}")
                elif facet == "tag":
                    parts.append("SELECT 'tag', t, count(*) FROM m CROSS JOIN LATERAL unnest(m.tag_array) t "
                                 f"WHERE {condition} GROUP BY t")
                elif facet == "team":
                    parts.append("SELECT 'team', tm.slug, c.n FROM (SELECT team_id, count(*) AS n FROM m "
                                 f"WHERE {condition} GROUP BY team_id) c JOIN marketplace_team tm ON tm.id = c.team_id")
                else:
                    parts.append(f"SELECT '{facet}', m.{facet}, count(*) FROM m WHERE {condition} AND m.{facet} <> '' "
                                 f"GROUP BY m.{facet}")
        prefix = (f"WITH m AS MATERIALIZED (SELECT {columns} FROM marketplace_asset a WHERE {where.sql()}) ")
        return self._top(cursor, parts, flag_params + where.params, prefix=prefix)

    @staticmethod
    def _top(cursor, parts: list[str], params: list, prefix: str = "") -> dict:
        """Run the UNION of (facet, value, count) queries; the top FACET_LIMIT values of each facet."""
        sql = (f"{prefix}SELECT facet, value, n FROM (SELECT facet, value, n, row_number() OVER (PARTITION BY facet "
               f"ORDER BY n DESC, value COLLATE \"C\") AS r FROM ({' UNION ALL '.join(parts)}) u(facet, value, n)) x "
               f"WHERE r <= %s ORDER BY facet, r")
        cursor.execute(sql, params + [FACET_LIMIT])
        found: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for facet, value, n in cursor.fetchall():
            found[facet].append((value, int(n)))
        return found

    # --- the index ----------------------------------------------------------------------------------

    @staticmethod
    def _facet_keys(facts: AssetFacts) -> list[tuple]:
        scope = 0 if facts.visibility == "internal" else facts.team_id
        keys = [("kind", facts.kind), ("team", facts.team_slug), *(("tag", tag) for tag in facts.tags)]
        keys += [(facet, value) for facet, value in (("task", facts.task), ("license", facts.license)) if value]
        return [(scope, facts.kind, facet, value) for facet, value in keys]

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
            cursor.execute(f"INSERT INTO marketplace_facetcount (scope, kind, facet, value, count) VALUES {values} "
                           "ON CONFLICT (scope, kind, facet, value) DO UPDATE "
                           "SET count = marketplace_facetcount.count + EXCLUDED.count", params)

    def rebuild(self) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("LOCK TABLE marketplace_facetcount IN EXCLUSIVE MODE")
            cursor.execute("DELETE FROM marketplace_facetcount")
            cursor.execute(FACET_COUNTS_SQL)
            cursor.execute(VOCABULARY_SQL)


_SCOPE = "CASE WHEN a.visibility = 'internal' THEN 0 ELSE a.team_id END"
FACET_COUNTS_SQL = f"""
INSERT INTO marketplace_facetcount (scope, kind, facet, value, count)
SELECT scope, kind, facet, value, count(*) FROM (
    SELECT {_SCOPE} AS scope, a.kind, 'kind' AS facet, a.kind AS value FROM marketplace_asset a
    UNION ALL SELECT {_SCOPE}, a.kind, 'task', a.task FROM marketplace_asset a WHERE a.task <> ''
    UNION ALL SELECT {_SCOPE}, a.kind, 'license', a.license FROM marketplace_asset a WHERE a.license <> ''
    UNION ALL SELECT {_SCOPE}, a.kind, 'team', t.slug FROM marketplace_asset a JOIN marketplace_team t ON t.id = a.team_id
    UNION ALL SELECT {_SCOPE}, a.kind, 'tag', tag FROM marketplace_asset a CROSS JOIN LATERAL unnest(a.tag_array) tag
) rows GROUP BY scope, kind, facet, value
"""
VOCABULARY_SQL = """
INSERT INTO marketplace_searchterm (term)
SELECT DISTINCT word FROM marketplace_asset a
CROSS JOIN LATERAL regexp_split_to_table(lower(a.name || ' ' || a.tags_text), '[^[:alnum:]]+') word
WHERE length(word) BETWEEN 3 AND 64 AND word !~ '^[0-9]+$'
ON CONFLICT (term) DO NOTHING
"""
