"""The in-memory search backend (PostgreSQL): the catalogue's search columns held in each process as arrays,
so a search costs array operations over its matches instead of a heap visit per match in the database, and
facet counts stay exact however many assets a word matches (figures: registry/search/README.md).

What it holds, per asset: the id, facet values as integer codes (kind, task, licence, status, team, tags),
visibility, the sort keys (updated, created, usage), and an inverted index of the asset's *own PostgreSQL
lexemes*, read from the stored `search_vector` (so stemming, stop words and field weights are PostgreSQL's),
with each entry's `ts_rank` contribution and positions: a search ranks as `ts_rank` does, to the bit
(`calc_rank_or` for one word, `calc_rank_and`, from the words' positions, for several; in float32 as
PostgreSQL's C computes them). Orderings by name, searches the precomputed counts
answer (no words, at most one facet filter) and searches by a caller with uncommitted asset changes of its
own go to the PostgreSQL backend, which this one extends (it also keeps the precomputed counts).

Staying in step. A trigger logs every change of an asset row with its transaction id
(marketplace/migrations/0012_search_change_log.py). Each search first reads, in one statement, the log rows at
or above the previous read's snapshot xmin (the oldest transaction that read could not see), and loads those
assets again into an overlay that hides their base rows. The base is loaded over a connection of its own in
one REPEATABLE READ snapshot; when the overlay passes OVERLAY_REBUILD assets (or a 200th of the base) a thread
loads a new base while searches go on. A new epoch in `registry_searchstate` (`search_rebuild`) loads
everything again; without the row (a truncated catalogue) PostgreSQL answers until `search_rebuild` writes
one.
"""

from __future__ import annotations

import io
import logging
import math
import os
import re
import threading
import time
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg2
from django.db import connection

from registry.kernel.access import AssetScope
from registry.search.backends.base import WIDEN_BELOW, SearchResult
from registry.search.backends.postgres import PostgresSearchBackend, _tsquery_text
from registry.search.query import SearchQuery
from registry.search.vocabulary import FACET_LIMIT, FACETS

log = logging.getLogger(__name__)

# The overlay is rebuilt whole when assets change (about 30 ms for 1,000 assets here); past this many changed
# assets (or a 200th of the base) a thread loads a new base instead.
OVERLAY_REBUILD = 2_000
# `page=` offsets from which a page of the precomputed path comes from the index rather than PostgreSQL.
DEEP_OFFSET = 1_000
# ts_rank's default weights by label, float32 like PostgreSQL's.
_WEIGHT = {"A": np.float32(1.0), "B": np.float32(0.4), "C": np.float32(0.2), "D": np.float32(0.1)}
_LEXEME = re.compile(r"'((?:[^']|'')*)':\*")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# PostgreSQL's word_distance(d) for d = 0 .. 101 as its C computes it (in double, with the C library's exp, then
# float4); past 100 positions apart it is 1e-30.
_WORD_DISTANCE = np.array([1.0 / (1.005 + 0.05 * math.exp(d / 1.5 - 2)) for d in range(101)] + [1e-30], np.float32)
# A match whose several-word rank takes more position pairs than this is ranked by PostgreSQL instead.
MAX_PAIRS = 256
_ROWS_SQL = (
    "SELECT a.id, a.kind, a.task, a.license, a.status, a.framework, a.team_id, a.visibility = 'internal', "
    "a.tags_text, (extract(epoch FROM a.updated_at) * 1000000)::bigint, "
    "(extract(epoch FROM a.created_at) * 1000000)::bigint, a.usage_count FROM registry_asset a"
)
_POSTINGS_SQL = (
    "SELECT a.id, u.lexeme, array_to_string(u.weights, ''), array_to_string(u.positions, ' ') "
    "FROM registry_asset a CROSS JOIN LATERAL unnest(a.search_vector) u"
)


def entry_contribution(weights: str) -> float:
    """What `calc_rank_or` adds to a document's rank for one matching lexeme whose positions carry the weight
    labels `weights` (in position order): float32 arithmetic, then a division in double, as PostgreSQL's C."""
    resj, wjm, jm = np.float32(0.0), np.float32(-1.0), 0
    # resj, wjm and jm are the C's names.
    for position, label in enumerate(weights or "D"):  # a lexeme without positions counts as one of weight D
        weight = _WEIGHT[label]
        resj = np.float32(resj + np.float32(weight / np.float32((position + 1) * (position + 1))))
        if weight > wjm:
            wjm, jm = weight, position
    value = np.float32(np.float32(wjm + resj) - np.float32(wjm / np.float32((jm + 1) * (jm + 1))))
    return float(value) / 1.64493406685


def _micros(value: datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _datetime(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(micros))


_COLUMNS = (
    "id",
    "kind",
    "task",
    "license",
    "status",
    "framework",
    "team_id",
    "internal",
    "tags_text",
    "updated",
    "created",
    "usage",
)


def _column_types() -> dict:
    import pyarrow as pa

    return dict(
        zip(
            _COLUMNS,
            [pa.int64(), *[pa.string()] * 5, pa.int64(), pa.bool_(), pa.string(), *[pa.int64()] * 3],
            strict=True,
        )
    )


def _table(rows: list[tuple]):
    """Asset rows (as _ROWS_SQL selects them) as a pyarrow table, in id order."""
    import pyarrow as pa

    rows = sorted(rows)
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(_COLUMNS)
    return pa.table(
        {
            name: pa.array(list(values), kind)
            for (name, kind), values in zip(_column_types().items(), columns, strict=True)
        }
    )


def _csv_reader(data: io.BytesIO):
    """A pyarrow reader of what `data` holds, without copying it."""
    import pyarrow as pa

    return pa.BufferReader(pa.py_buffer(data.getbuffer()))


def _table_from_csv(data: io.BytesIO):
    """The output of `COPY (_ROWS_SQL ORDER BY a.id) TO STDOUT (FORMAT csv)` as a pyarrow table."""
    from pyarrow import csv

    if not data.getbuffer().nbytes:
        return _table([])  # an empty catalogue (pyarrow refuses an empty file)
    return csv.read_csv(
        _csv_reader(data),
        read_options=csv.ReadOptions(column_names=list(_COLUMNS)),
        convert_options=csv.ConvertOptions(
            column_types=_column_types(),
            true_values=["t"],
            false_values=["f"],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


class _Codes:
    """A column as integer codes over its distinct values (a pyarrow array, dictionary-encoded)."""

    def __init__(self, column):
        encoded = column.dictionary_encode() if len(column) else None
        self.values: list = encoded.dictionary.to_pylist() if encoded is not None else []
        self.index = {value: i for i, value in enumerate(self.values)}
        self.codes = (
            encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32)
            if encoded is not None
            else np.zeros(0, np.int32)
        )


def _csr(owner: np.ndarray, items: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(pointers, items grouped by owner, stable): owner i's items are items[pointers[i]:pointers[i + 1]]."""
    order = np.argsort(owner, kind="stable")
    pointers = np.zeros(size + 1, np.int64)
    np.cumsum(np.bincount(owner, minlength=size), out=pointers[1:])
    return pointers, items[order]


def _gather(pointers: np.ndarray, items: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """The items of every owner in `owners`, concatenated."""
    counts = pointers[owners + 1] - pointers[owners]
    total = int(counts.sum())
    if total == 0:
        return items[:0]
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return items[np.repeat(pointers[owners], counts) + offsets]


def _small(codes: np.ndarray, distinct: int) -> np.ndarray:
    return codes.astype(np.uint16 if distinct <= 1 << 16 else np.int32)


@dataclass
class Postings:
    """Lexeme entries: per entry its asset id, lexeme (an index into the sorted `lexemes`) and the weight labels
    of its positions (an index into `weights`, the distinct label strings: "A", "DD", "BD", ...); `positions`
    holds every entry's positions (as many as its labels, ascending), entry after entry."""

    ids: np.ndarray
    terms: np.ndarray
    lexemes: list[str]
    codes: np.ndarray
    weights: list[str]
    positions: np.ndarray

    @classmethod
    def from_rows(cls, rows) -> Postings:
        """From (asset id, lexeme, weight labels, positions as text: "1 7") rows."""
        rows = list(rows)
        lexemes = sorted({row[1] for row in rows})
        weights = sorted({row[2] for row in rows})
        lexeme_index = {lexeme: i for i, lexeme in enumerate(lexemes)}
        weight_index = {w: i for i, w in enumerate(weights)}
        positions = np.array([int(p) for row in rows for p in row[3].split()], np.uint16)
        return cls(
            np.array([row[0] for row in rows], np.int64),
            np.array([lexeme_index[row[1]] for row in rows], np.int64),
            lexemes,
            _small(np.array([weight_index[row[2]] for row in rows], np.int64), len(weights)),
            weights,
            positions,
        )

    @classmethod
    def concat(cls, parts: list[Postings]) -> Postings:
        """Several parts' entries, one after the other, over one lexeme list and one weight list."""
        lexemes = sorted({lexeme for part in parts for lexeme in part.lexemes})
        weights = sorted({w for part in parts for w in part.weights})
        lexeme_index = {lexeme: i for i, lexeme in enumerate(lexemes)}
        weight_index = {w: i for i, w in enumerate(weights)}

        def joined(arrays: list[np.ndarray], dtype) -> np.ndarray:
            return np.concatenate(arrays).astype(dtype) if arrays else np.zeros(0, dtype)

        terms = [np.array([lexeme_index[x] for x in part.lexemes], np.int64)[part.terms] for part in parts]
        codes = [np.array([weight_index[w] for w in part.weights], np.int64)[part.codes] for part in parts]
        return cls(
            joined([part.ids for part in parts], np.int64),
            joined(terms, np.int64),
            lexemes,
            _small(joined(codes, np.int64), len(weights)),
            weights,
            joined([part.positions for part in parts], np.uint16),
        )

    def pointers(self) -> np.ndarray:
        """Where each entry's positions start in `positions` (and, last, their end)."""
        lengths = np.array([len(w) for w in self.weights], np.int64)
        pointers = np.zeros(len(self.codes) + 1, np.int64)
        np.cumsum(lengths[self.codes] if len(self.codes) else lengths[:0], out=pointers[1:])
        return pointers

    @classmethod
    def from_csv(cls, parts: list[io.BytesIO | None]) -> Postings:
        """From the outputs of `COPY (_POSTINGS_SQL ...) TO STDOUT (FORMAT csv)`, parsed by pyarrow (millions of
        entries a second). Each part is dropped from `parts` once parsed, so its memory can go."""
        import pyarrow as pa
        import pyarrow.compute as pc
        from pyarrow import csv

        tables = []
        for index, data in enumerate(parts):
            parts[index] = None
            if data.getbuffer().nbytes:
                tables.append(
                    csv.read_csv(
                        _csv_reader(data),
                        read_options=csv.ReadOptions(column_names=["id", "lexeme", "w", "p"]),
                        convert_options=csv.ConvertOptions(
                            column_types={"id": pa.int64(), "lexeme": pa.string(), "w": pa.string(), "p": pa.string()},
                            strings_can_be_null=False,
                            quoted_strings_can_be_null=False,
                        ),
                    )
                )
            del data
        if not tables:
            return cls.from_rows([])
        table = pa.concat_tables(tables)
        del tables
        lexemes = sorted(pc.unique(table["lexeme"]).to_pylist())
        terms = pc.index_in(table["lexeme"], value_set=pa.array(lexemes, pa.string())).to_numpy().astype(np.int64)
        patterns = table["w"].combine_chunks().dictionary_encode()
        weights = patterns.dictionary.to_pylist()
        positions = pc.cast(pc.list_flatten(pc.utf8_split_whitespace(table["p"].combine_chunks())), pa.uint16())
        return cls(
            table["id"].to_numpy().astype(np.int64),
            terms,
            lexemes,
            _small(patterns.indices.to_numpy(zero_copy_only=False), len(weights)),
            weights,
            positions.to_numpy(zero_copy_only=False),
        )

    def by_asset(self) -> dict[int, Postings]:
        """These entries split by asset."""
        order = np.argsort(self.ids, kind="stable")
        ids, pointers = self.ids[order], self.pointers()
        positions = _gather(pointers, self.positions, order)  # in the new order of the entries
        at = np.zeros(len(order) + 1, np.int64)
        np.cumsum((pointers[1:] - pointers[:-1])[order], out=at[1:])
        assets, starts = np.unique(ids, return_index=True)
        ends = [*starts[1:], len(ids)]
        return {
            int(asset): Postings(
                ids[a:b],
                self.terms[order[a:b]],
                self.lexemes,
                self.codes[order[a:b]],
                self.weights,
                positions[at[a] : at[b]],
            )
            for asset, a, b in zip(assets, starts, ends, strict=True)
        }


class Segment:
    """Immutable arrays over some assets: the base, or an overlay of assets changed since the base."""

    def __init__(self, table, postings: Postings):
        """`table`: asset rows as `_table` or `_table_from_csv` give them (id order)."""
        import pyarrow.compute as pc

        column = {name: table[name].combine_chunks() for name in _COLUMNS}
        size = self.size = table.num_rows
        self.ids = column["id"].to_numpy(zero_copy_only=False).astype(np.int64)
        self.kind, self.task, self.status = _Codes(column["kind"]), _Codes(column["task"]), _Codes(column["status"])
        self.license = _Codes(column["license"])
        self.license_upper = _Codes(pc.utf8_upper(column["license"]))
        self.framework_upper = _Codes(pc.utf8_upper(column["framework"]))
        self.team = _Codes(column["team_id"])
        self.internal = column["internal"].to_numpy(zero_copy_only=False).astype(bool)
        self.updated, self.created, self.usage = (
            column[name].to_numpy(zero_copy_only=False).astype(np.int64) for name in ("updated", "created", "usage")
        )
        split = pc.utf8_split_whitespace(column["tags_text"])
        owner = pc.list_parent_indices(split).to_numpy(zero_copy_only=False).astype(np.int64)
        names = pc.list_flatten(split)
        present = pc.not_equal(names, "")
        tags = _Codes(names.filter(present))
        self.tag_names, self.tag_index = tags.values, tags.index
        codes = tags.codes.astype(np.int64)
        owner = owner[present.to_numpy(zero_copy_only=False)]
        self.tag_ptr, self.tag_codes = _csr(owner, codes.astype(np.int32), size)
        self.tag_rows_ptr, self.tag_rows = _csr(codes, owner.astype(np.int32), len(self.tag_names))
        # The inverted index: lexeme i's rows and weight codes are post_rows/post_codes[post_ptr[i]:post_ptr[i + 1]];
        # a code's contribution to the rank is weight_score[code].
        self.lexemes = postings.lexemes
        found = np.searchsorted(self.ids, postings.ids)
        keep = found < size
        keep[keep] = self.ids[found[keep]] == postings.ids[keep]
        rows_of, terms = found[keep], postings.terms[keep]
        order = np.lexsort((rows_of, terms))
        self.post_ptr = np.zeros(len(self.lexemes) + 1, np.int64)
        np.cumsum(np.bincount(terms, minlength=len(self.lexemes)), out=self.post_ptr[1:])
        self.post_rows = rows_of[order].astype(np.int32)
        self.post_codes = postings.codes[keep][order]
        self.weight_score = np.array([entry_contribution(w) for w in postings.weights], np.float64)
        # Positions in the order of the entries: lexeme i's entries' positions start at term_pos_ptr[i]; a label
        # pattern's weights (float32, as ts_rank's) are pattern_weights[pattern_ptr[code]:pattern_ptr[code + 1]].
        lengths = np.array([len(w) for w in postings.weights], np.int64)
        self.post_positions = _gather(postings.pointers(), postings.positions, np.flatnonzero(keep)[order])
        cumulative = np.zeros(len(self.post_codes) + 1, np.int64)
        np.cumsum(lengths[self.post_codes] if len(self.post_codes) else lengths[:0], out=cumulative[1:])
        self.term_pos_ptr = cumulative[self.post_ptr]
        self.pattern_len = lengths
        self.pattern_ptr = np.zeros(len(lengths) + 1, np.int64)
        np.cumsum(lengths, out=self.pattern_ptr[1:])
        self.pattern_weights = np.array([_WEIGHT[label] for w in postings.weights for label in w], np.float32)

    def term_range(self, prefix: str) -> tuple[int, int]:
        """The lexemes starting with `prefix` (PostgreSQL's `prefix:*`): a range of the sorted vocabulary."""
        start = bisect_left(self.lexemes, prefix)
        end = bisect_left(self.lexemes, prefix + "\U0010ffff", lo=start)
        return start, end

    def word_rows(self, prefix: str) -> np.ndarray:
        start, end = self.term_range(prefix)
        return self.post_rows[self.post_ptr[start] : self.post_ptr[end]]

    def rows_with_tag(self, tag: str) -> np.ndarray:
        code = self.tag_index.get(tag)
        if code is None:
            return np.zeros(0, np.int64)
        return self.tag_rows[self.tag_rows_ptr[code] : self.tag_rows_ptr[code + 1]]

    def rank_or(self, items: list[str], rows: np.ndarray) -> np.ndarray:
        """`ts_rank` of `rows` for an OR of prefix items (`calc_rank_or`): per item, per matching lexeme in
        order, the entry's contribution added to a float32 sum; the sum divided by the number of items."""
        rank = np.zeros(self.size, np.float32)
        for item in sorted(set(items)):
            start, end = self.term_range(item)
            for term in range(start, end):
                at = slice(self.post_ptr[term], self.post_ptr[term + 1])
                hit = self.post_rows[at]
                rank[hit] = (rank[hit].astype(np.float64) + self.weight_score[self.post_codes[at]]).astype(np.float32)
        size = np.float32(len(set(items)))
        return (rank[rows] / size).astype(np.float32)

    def rank_and(self, items: list[str], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`ts_rank` of `rows` for an AND of words (`calc_rank_and` over the query's distinct prefix lexemes,
        `items`), to the bit, and which rows have it: a row whose rank takes more than MAX_PAIRS position pairs is
        left to PostgreSQL. PostgreSQL's C, for the items in byte order: for each entry of item i (its lexemes
        matching the prefix, in order), each earlier item k (its last matching entry), each position of the entry
        and each of k's: the pair at distance d > 0 folds sqrt(w1 * w2 * word_distance(d)) into the rank r as
        1 - (1 - r) * (1 - that), the first pair giving r; no pair: 1e-20."""
        items = sorted(set(items))
        if len(items) < 2:
            return self.rank_or(items, rows), np.ones(len(rows), bool)
        at = np.full(self.size, -1, np.int64)
        at[rows] = np.arange(len(rows))
        found = []  # per item, its entries among `rows` by (row, lexeme): row index, first position, label pattern
        for item in items:
            start, end = self.term_range(item)
            lo, hi = self.post_ptr[start], self.post_ptr[end]
            where = at[self.post_rows[lo:hi]]
            lengths = self.pattern_len[self.post_codes[lo:hi]]
            first = self.term_pos_ptr[start] + np.cumsum(lengths) - lengths
            codes = self.post_codes[lo:hi]
            hit = np.flatnonzero(where >= 0)
            terms = np.searchsorted(self.post_ptr, lo + hit, side="right")
            order = hit[np.lexsort((terms, where[hit]))]
            found.append((where[order], first[order], codes[order]))
        parts = []  # per pair of entries: row index, item i, entry order, item k, first position and pattern of both
        for i in range(1, len(items)):
            row_i, first_i, code_i = found[i]
            for k in range(i):
                row_k, first_k, code_k = found[k]
                last = np.full(len(rows), -1, np.int64)  # item k's last entry per row
                if len(row_k):
                    ends = np.flatnonzero(np.r_[row_k[1:] != row_k[:-1], True])
                    last[row_k[ends]] = ends
                pick = last[row_i]
                both = np.flatnonzero(pick >= 0)
                parts.append(
                    (
                        row_i[both],
                        np.full(len(both), i),
                        both,
                        np.full(len(both), k),
                        first_i[both],
                        code_i[both],
                        first_k[pick[both]],
                        code_k[pick[both]],
                    )
                )
        row, item_i, entry, item_k, first_i, code_i, first_k, code_k = (
            np.concatenate(column) for column in zip(*parts)
        )
        count_i, count_k = self.pattern_len[code_i], self.pattern_len[code_k]
        pairs = count_i * count_k
        spread = np.repeat(np.arange(len(row)), pairs)
        within = np.arange(int(pairs.sum())) - np.repeat(np.cumsum(pairs) - pairs, pairs)
        nth_i, nth_k = within // count_k[spread], within % count_k[spread]
        pos_i = self.post_positions[first_i[spread] + nth_i].astype(np.int64)
        pos_k = self.post_positions[first_k[spread] + nth_k].astype(np.int64)
        w_i = self.pattern_weights[self.pattern_ptr[code_i[spread]] + nth_i]
        w_k = self.pattern_weights[self.pattern_ptr[code_k[spread]] + nth_k]
        distance = np.abs(pos_i - pos_k)
        counted = distance > 0
        weight = (w_i * w_k * _WORD_DISTANCE[np.minimum(distance, 101)]).astype(np.float32)  # float32, as C
        term = np.sqrt(weight.astype(np.float64)).astype(np.float32)
        # In C's order: by row, item, entry, earlier item, then the two positions. Each block (i, k) came out by
        # row and entry, positions innermost, so only several blocks need a (stable) sort, by row, item and entry.
        by_row = row[spread]
        if len(parts) > 1:
            width = max(len(found_rows) for found_rows, _, _ in found) + 1
            order = np.argsort((by_row * len(items) + item_i[spread]) * width + entry[spread], kind="stable")
            by_row, term, counted = by_row[order], term[order], counted[order]
        by_row, term = by_row[counted], term[counted]
        rank = np.full(len(rows), -1.0, np.float32)
        exact = np.ones(len(rows), bool)
        if len(by_row):
            starts = np.flatnonzero(np.r_[True, by_row[1:] != by_row[:-1]])
            lengths = np.diff(np.r_[starts, len(by_row)])
            exact[by_row[starts[lengths > MAX_PAIRS]]] = False
            longest_first = np.argsort(-lengths, kind="stable")
            starts, lengths = starts[longest_first], lengths[longest_first]
            for step in range(min(int(lengths[0]), MAX_PAIRS)):
                live = int(np.searchsorted(-lengths, -step, side="left"))  # how many have more than `step` pairs
                target, value = by_row[starts[:live]], term[starts[:live] + step]
                current = rank[target]
                rank[target] = np.where(
                    current < 0,
                    value,
                    (1.0 - (1.0 - current.astype(np.float64)) * (1.0 - value.astype(np.float64))).astype(np.float32),
                )
        rank[rank < 0] = np.float32(1e-20)
        return rank, exact


@dataclass(frozen=True)
class _View:
    """What one search reads: the base with the rows the overlays replace hidden, and the overlays."""

    base: Segment
    alive: np.ndarray
    overlays: tuple[Segment, ...]


def _copy_both(*jobs: tuple) -> None:
    """Two `COPY ... TO STDOUT` at once, each (cursor, statement, file) on a connection of its own, the second in a
    thread: the server reads the catalogue's search vectors with two processes, in half the time."""
    failed: list[BaseException] = []

    def run(cursor, statement: bytes, target) -> None:
        try:
            cursor.copy_expert(statement.decode(), target)
        except BaseException as error:  # re-raised by the caller's thread
            failed.append(error)

    thread = threading.Thread(target=run, args=jobs[1], name="search-load")
    thread.start()
    try:
        run(*jobs[0])
    finally:
        thread.join()
    if failed:
        raise failed[0]


class _Loader:
    """Loads segments: the whole catalogue over a connection of its own, or some assets over the caller's."""

    @staticmethod
    def everything(params: dict) -> tuple[Segment, str | None, int]:
        """(base segment, epoch, snapshot xmin), read in one REPEATABLE READ snapshot of committed data."""
        connections = []
        try:
            for _ in range(2):
                connections.append(psycopg2.connect(**params))
                connections[-1].set_session(isolation_level="REPEATABLE READ", readonly=True)
            cursor, other = (raw.cursor() for raw in connections)
            cursor.execute(
                "SELECT (SELECT epoch FROM registry_searchstate WHERE id = 1), "
                "pg_snapshot_xmin(pg_current_snapshot())::text::bigint, pg_export_snapshot(), "
                "(SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY id) FROM registry_asset)"
            )
            epoch, xmin, snapshot, middle = cursor.fetchone()
            other.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])  # the same data, read by a second server process
            rows, postings = io.BytesIO(), [io.BytesIO(), io.BytesIO()]
            half = f"COPY ({_POSTINGS_SQL} WHERE a.id {{}} %s) TO STDOUT (FORMAT csv)"
            _copy_both(
                (cursor, cursor.mogrify(half.format("<"), [middle or 0]), postings[0]),
                (other, other.mogrify(half.format(">="), [middle or 0]), postings[1]),
            )
            cursor.copy_expert(f"COPY ({_ROWS_SQL} ORDER BY a.id) TO STDOUT (FORMAT csv)", rows)
            for raw in connections:
                raw.commit()
        finally:
            for raw in connections:
                raw.close()
        import pyarrow as pa

        # pyarrow's own allocator keeps what a load frees (hundreds of MiB at 100,000 assets); malloc gives it back.
        pa.set_memory_pool(pa.system_memory_pool())
        table = _table_from_csv(rows)
        del rows
        parsed = Postings.from_csv(postings)
        del postings
        segment = Segment(table, parsed)
        del table, parsed
        pa.system_memory_pool().release_unused()
        return segment, epoch, xmin

    @staticmethod
    def assets(cursor, ids: list[int]) -> tuple[list[tuple], Postings]:
        cursor.execute(f"{_ROWS_SQL} WHERE a.id = ANY(%s)", [ids])
        rows = cursor.fetchall()
        cursor.execute(f"{_POSTINGS_SQL} WHERE a.id = ANY(%s)", [ids])
        return rows, Postings.from_rows(cursor.fetchall())


class _Index:
    """One process's index: a base segment, the assets changed since (an overlay) and where the log was read."""

    def __init__(self):
        # Held while the log is read and applied: reads in lock order see ever newer snapshots, so an overlay row
        # is never replaced by an older version of itself read by a slower thread.
        self.lock = threading.RLock()
        self.epoch: str | None = None
        self.base: Segment | None = None
        self.xmin = 0
        self.applied: dict[int, int] = {}  # log row id -> its transaction id, for rows at or above xmin
        self.changed: dict[int, tuple[list[tuple], Postings]] = {}  # asset id -> its rows (none: deleted)
        self.view: _View | None = None
        self.rebuilding = False

    def view_for(self, cursor) -> tuple[_View | None, set[int]]:
        """The view to search and the assets the caller's own open transaction changed; no view when the
        caller's own transaction holds a new epoch, or there is no epoch (PostgreSQL answers then)."""
        with self.lock:
            return self._refresh(cursor)

    def _refresh(self, cursor) -> tuple[_View | None, set[int]]:
        for attempt in range(2):
            cursor.execute(
                "SELECT s.epoch, pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
                "pg_current_xact_id_if_assigned()::text::bigint, s.pruned_below, c.id, c.asset_id, "
                "c.xid::text::bigint FROM (SELECT 1) one LEFT JOIN registry_searchstate s ON s.id = 1 "
                "LEFT JOIN registry_searchchange c ON c.xid >= %s::text::xid8",
                [str(self.xmin)],
            )
            found = cursor.fetchall()
            epoch, xmin, own_xid, pruned_below = found[0][:4]
            if epoch is None:
                # No state row: the catalogue was truncated under us (or never migrated); until `search_rebuild`
                # writes one, nothing tells a reload apart from a second truncation, so PostgreSQL answers.
                return None, set()
            if self.base is not None and self.xmin < pruned_below:
                self.base = None  # rows this index had not read yet may be pruned: load afresh
            if epoch != self.epoch or self.base is None:
                if attempt == 0:
                    self._load_everything(epoch)
                    continue
                return None, set()  # the caller's own transaction changed the epoch: PostgreSQL answers
            log_rows = [(row[4], row[5], row[6]) for row in found if row[4] is not None]
            own = {asset for _, asset, xid in log_rows if xid == own_xid}
            fresh = sorted(
                {
                    asset
                    for entry, asset, xid in log_rows
                    if xid != own_xid and entry not in self.applied and asset not in own
                }
            )
            if fresh:
                self._apply(cursor, fresh, log_rows, own_xid, xmin)
            elif xmin > self.xmin:
                self.xmin = xmin
                self.applied = {k: v for k, v in self.applied.items() if v >= xmin}
            return self.view, own
        return None, set()

    def _load_everything(self, seen: str | None) -> None:
        if self.base is not None and self.epoch == seen:
            return  # another thread has loaded it meanwhile
        started = time.monotonic()
        base, epoch, xmin = _Loader.everything(connection.get_connection_params())
        log.info(
            "in-memory search index loaded: %d assets in %.1f s (process %d)",
            base.size,
            time.monotonic() - started,
            os.getpid(),
        )
        self.base, self.epoch, self.xmin, self.applied, self.changed = base, epoch, xmin, {}, {}
        self.view = _View(base, np.ones(base.size, bool), ())

    def _apply(self, cursor, assets: list[int], log_rows, own_xid, xmin: int) -> None:
        rows, postings = _Loader.assets(cursor, assets)
        by_asset, empty = postings.by_asset(), Postings.from_rows([])
        for asset in assets:
            self.changed[asset] = ([row for row in rows if row[0] == asset], by_asset.get(asset, empty))
        for entry, asset, xid in log_rows:
            if xid != own_xid and asset in assets:
                self.applied[entry] = xid
        self.xmin = max(self.xmin, xmin)
        self.applied = {k: v for k, v in self.applied.items() if v >= self.xmin}
        self.view = self._view()
        big = len(self.changed) > max(OVERLAY_REBUILD, self.base.size // 200)
        if big and not self.rebuilding:
            self.rebuilding = True
            threading.Thread(
                target=self._rebuild, args=(connection.get_connection_params(),), daemon=True, name="search-rebuild"
            ).start()

    def _view(self) -> _View:
        base = self.base
        alive = np.ones(base.size, bool)
        hidden = np.fromiter(self.changed, np.int64, len(self.changed))
        at = np.searchsorted(base.ids, hidden)
        inside = at < base.size
        alive[at[inside][base.ids[at[inside]] == hidden[inside]]] = False
        rows = [row for found, _ in self.changed.values() for row in found]
        return _View(base, alive, (overlay_segment(rows, [p for _, p in self.changed.values()]),) if rows else ())

    def _rebuild(self, params: dict) -> None:
        try:
            base, epoch, xmin = _Loader.everything(params)
            with self.lock:
                if epoch == self.epoch:
                    # Changes since the new base's snapshot come back from the log: its xmin is where to read.
                    self.base, self.xmin, self.applied, self.changed = base, xmin, {}, {}
                    self.view = _View(base, np.ones(base.size, bool), ())
        except Exception:
            log.exception("rebuilding the in-memory search index failed; the overlay goes on growing")
        finally:
            self.rebuilding = False


# The sort keys the index holds a column for; an ordering by any other key (name) is PostgreSQL's.
_SORT_COLUMNS = frozenset({"rank", "id", "updated_at", "created_at", "usage_count"})


def _index_sorts(query: SearchQuery) -> bool:
    """Whether the index can put the matches in the query's order."""
    return all(name in _SORT_COLUMNS for name, _ in query.order_keys)


def overlay_segment(rows: list[tuple], parts: list[Postings]) -> Segment:
    """One segment from several assets' rows and postings (each with its own lexeme and weight lists)."""
    return Segment(_table(rows), Postings.concat(parts))


# --- searching a segment ------------------------------------------------------------------------------------


class _Matches:
    """One segment's rows that match a search, with a flag per active facet filter."""

    def __init__(self, segment: Segment, rows: np.ndarray, flags: dict[str, np.ndarray]):
        self.segment, self.rows, self.flags = segment, rows, flags

    def passing(self, skip: str | None = None) -> np.ndarray:
        keep = np.ones(len(self.rows), bool)
        for name, flag in self.flags.items():
            if name != skip:
                keep &= flag
        return keep


def _word_mask(segment: Segment, groups: list[list[str]] | None) -> np.ndarray | None:
    """Rows matching every group (a group: any of its prefixes); None when there are no words. Words that
    parsed to no lexeme at all (stop words) match nothing, as PostgreSQL's empty query."""
    if groups is None:
        return None
    mask = np.full(segment.size, bool(groups))
    for group in groups:
        mask &= _marked(segment.size, [segment.word_rows(prefix) for prefix in group])
    return mask


def _marked(size: int, row_lists: list[np.ndarray]) -> np.ndarray:
    """A mask of `size` rows, true at every row of any of the lists."""
    mask = np.zeros(size, bool)
    for rows in row_lists:
        mask[rows] = True
    return mask


def _matches(
    segment: Segment,
    alive: np.ndarray | None,
    scope: AssetScope,
    query: SearchQuery,
    groups: list[list[str]],
    team_ids: dict[str, int | None],
) -> _Matches:
    mask = np.ones(segment.size, bool) if alive is None else alive.copy()
    if not scope.everything:
        mine = np.zeros(len(segment.team.values) + 1, bool)
        mine[[segment.team.index[t] for t in scope.team_ids if t in segment.team.index]] = True
        mask &= segment.internal | mine[segment.team.codes]
    words = _word_mask(segment, groups)
    if words is not None:
        mask &= words
    if query.framework:
        mask &= _equals(segment.framework_upper, query.framework.upper())
    if query.visibility:
        mask &= segment.internal == (query.visibility == "internal")
    rows = np.flatnonzero(mask)
    flags = {}
    for name in sorted(query.facet_filters()):
        if name == "tag":
            has = np.ones(segment.size, bool)
            for tag in query.tags:
                has &= _marked(segment.size, [segment.rows_with_tag(tag)])
            flags[name] = has[rows]
            continue
        column, value = {
            "kind": (segment.kind, query.kind),
            "task": (segment.task, query.task),
            "license": (segment.license_upper, query.license.upper()),
            "status": (segment.status, query.status),
            "team": (segment.team, team_ids.get(query.team)),
        }[name]
        flags[name] = _equals(column, value)[rows]
    return _Matches(segment, rows, flags)


def _equals(column: _Codes, value) -> np.ndarray:
    code = column.index.get(value)
    return column.codes == code if code is not None else np.zeros(len(column.codes), bool)


def _tally(matches: _Matches, facet: str) -> tuple[np.ndarray, list]:
    """How many of a segment's matches (passing every filter but the facet's own) carry each value, by code."""
    segment = matches.segment
    rows = matches.rows[matches.passing(skip=facet)]
    if facet == "tag":
        codes, names = _gather(segment.tag_ptr, segment.tag_codes, rows), segment.tag_names
    else:
        column = {
            "kind": segment.kind,
            "task": segment.task,
            "license": segment.license,
            "status": segment.status,
            "team": segment.team,
        }[facet]
        codes, names = column.codes[rows], column.values
    return np.bincount(codes, minlength=len(names)), names


def _counts(found: list[_Matches], facet: str) -> dict:
    """The values that can be among the facet's FACET_LIMIT most frequent over all segments, with their counts.
    Only values whose count in the base reaches the base's FACET_LIMIT-th largest, less everything the
    overlays add, can be: thousands of tags cost an array partition, not a dictionary each."""
    (base_tally, base_names), *others = [_tally(matches, facet) for matches in found]
    counts: dict = {}
    added = 0
    for tally, names in others:
        for code in np.flatnonzero(tally):
            counts[names[code]] = counts.get(names[code], 0) + int(tally[code])
            added += int(tally[code])
    candidates = np.flatnonzero(base_tally)
    if len(candidates) > FACET_LIMIT:
        threshold = np.partition(base_tally[candidates], len(candidates) - FACET_LIMIT)[len(candidates) - FACET_LIMIT]
        candidates = candidates[base_tally[candidates] >= threshold - added]
    for code in candidates:
        counts[base_names[code]] = counts.get(base_names[code], 0) + int(base_tally[code])
    counts.pop("", None)
    return counts


class MemorySearchBackend(PostgresSearchBackend):
    """Searches with words or several filters from the in-memory index; everything else as PostgreSQL does."""

    name = "memory"

    def __init__(self):
        self.index = _Index()

    def prepare(self) -> None:
        with connection.cursor() as cursor:
            self.index.view_for(cursor)

    def search(self, *, scope: AssetScope, query: SearchQuery) -> SearchResult:
        if scope.nothing:
            return SearchResult(ids=[], count=0, facets={facet: [] for facet in FACETS})
        plain = self._plain(query)
        precomputable = not query.terms and self._precomputable(frozenset(query.facet_filters()), plain)
        if precomputable or not _index_sorts(query):
            return super().search(scope=scope, query=query)
        with connection.cursor() as cursor:
            view, own = self.index.view_for(cursor)
            if view is None or own:
                # Uncommitted changes of the caller's own transaction: PostgreSQL sees them as the caller does.
                return super().search(scope=scope, query=query)
            return self._search(cursor, view, scope, query)

    def _search(self, cursor, view: _View, scope: AssetScope, query: SearchQuery) -> SearchResult:
        words = [[term] for term in query.terms]
        groups = self._lexeme_groups(cursor, words) if words else None
        team_ids = self._team_ids(cursor, query)
        matched = self._match(view, scope, query, groups, team_ids)
        widened: dict[str, list[str]] = {}
        total = sum(int(m.passing().sum()) for m in matched)
        if words and total < WIDEN_BELOW and self._few(view, scope, query, groups):
            widened = self._alternatives(cursor, query.terms)
            if widened:
                words = [[term, *widened.get(term, [])] for term in query.terms]
                groups = self._lexeme_groups(cursor, words)
                matched = self._match(view, scope, query, groups, team_ids)
                total = sum(int(m.passing().sum()) for m in matched)
        facets = {}
        tsquery = _tsquery_text(words) if words else None
        # A facet whose counts leave out every filter but one of kind, task, licence, status or team (a single tag
        # filter's tag facet: the whole visible catalogue) comes from the precomputed counts, as PostgreSQL's would.
        precomputed, _ = self._count_groups(query, tsquery)
        from_table = self._precomputed_counts(cursor, scope, query, precomputed) if precomputed else {}
        for facet in FACETS:
            if any(facet in names for names in precomputed.values()):
                facets[facet] = [{"value": value, "count": n} for value, n in from_table.get(facet, [])]
                continue
            counts = _counts(matched, facet)
            if facet == "team" and counts:
                cursor.execute("SELECT id, slug FROM registry_team WHERE id = ANY(%s)", [list(counts)])
                slugs = dict(cursor.fetchall())
                counts = {slugs[team]: n for team, n in counts.items() if team in slugs}
            top = sorted(counts.items(), key=lambda item: (-item[1], item[0].encode()))[:FACET_LIMIT]
            facets[facet] = [{"value": value, "count": n} for value, n in top]
        rows = self._page_rows(cursor, matched, query, groups, tsquery)
        result = SearchResult(ids=[row[-1] for row in rows], count=total, facets=facets, widened=widened)
        self._cursors(result, query, rows)
        if tsquery is not None and result.ids:
            result.highlights = self._highlights(cursor, result.ids, tsquery)
        return result

    def _page(self, cursor, scope: AssetScope, query: SearchQuery, tsquery: str | None) -> list[tuple]:
        """The page of a search the precomputed counts answered: deep `page=` offsets from the index (PostgreSQL
        reads every row before the page: 10 ms for an offset of 4,900 here), the rest by PostgreSQL's indexes."""
        if tsquery is None and query.offset >= DEEP_OFFSET and _index_sorts(query):
            view, own = self.index.view_for(cursor)
            if view is not None and not own:
                matched = self._match(view, scope, query, None, self._team_ids(cursor, query))
                return self._page_rows(cursor, matched, query, None, None)
        return super()._page(cursor, scope, query, tsquery)

    @staticmethod
    def _team_ids(cursor, query: SearchQuery) -> dict[str, int | None]:
        if not query.team:
            return {}
        cursor.execute("SELECT id FROM registry_team WHERE slug = %s", [query.team])
        found = cursor.fetchone()
        return {query.team: found[0] if found else None}

    @staticmethod
    def _match(view: _View, scope, query, groups, team_ids) -> list[_Matches]:
        found = [_matches(view.base, view.alive, scope, query, groups, team_ids)]
        found += [_matches(overlay, None, scope, query, groups, team_ids) for overlay in view.overlays]
        return found

    @staticmethod
    def _few(view: _View, scope, query, groups) -> bool:
        """Whether the words alone (what the caller may see, the framework and visibility filters) match fewer than
        WIDEN_BELOW assets: few results because facet filters narrowed plenty of matches widen nothing."""
        plain = SearchQuery(terms=query.terms, framework=query.framework, visibility=query.visibility)
        return sum(len(m.rows) for m in MemorySearchBackend._match(view, scope, plain, groups, {})) < WIDEN_BELOW

    @staticmethod
    def _lexeme_groups(cursor, words: list[list[str]]) -> list[list[str]]:
        """The query's groups of prefix lexemes as `to_tsquery('english', ...)` parses the words (stemmed, stop
        words gone; none left: an empty list, which matches nothing)."""
        cursor.execute("SELECT to_tsquery('english', %s)::text", [_tsquery_text(words)])
        text = cursor.fetchone()[0]
        groups = []
        for part in text.split(" & ") if text else []:
            lexemes = [m.replace("''", "'") for m in _LEXEME.findall(part)]
            if lexemes:
                groups.append(lexemes)
        return groups

    def _page_rows(self, cursor, matched: list[_Matches], query: SearchQuery, groups, tsquery) -> list[tuple]:
        """The page's rows as the PostgreSQL backend's `_page` gives them: sort key values with the id last,
        one more than the page when there is more, in display order."""
        keys = query.order_keys
        backwards = bool(query.cursor and query.cursor.backwards)
        ids, columns, inexact = [], {name: [] for name, _ in keys}, []
        for matches in matched:
            segment = matches.segment
            rows = matches.rows[matches.passing()]
            ids.append(segment.ids[rows])
            for name, _ in keys:
                if name == "rank" and groups and len(groups) > 1:  # an AND: positions decide
                    rank, exact = segment.rank_and([lexeme for group in groups for lexeme in group], rows)
                    columns[name].append(rank)
                    inexact.append(segment.ids[rows[~exact]])
                elif name == "rank":
                    columns[name].append(
                        segment.rank_or(groups[0], rows) if groups else np.zeros(len(rows), np.float32)
                    )
                elif name != "id":
                    columns[name].append(
                        {"updated_at": segment.updated, "created_at": segment.created, "usage_count": segment.usage}[
                            name
                        ][rows]
                    )
        all_ids = np.concatenate(ids)
        values = {name: np.concatenate(parts) for name, parts in columns.items() if name != "id"}
        values["id"] = all_ids
        if inexact and sum(map(len, inexact)):
            self._ts_ranks(cursor, tsquery, values, np.concatenate(inexact))
        keep = np.ones(len(all_ids), bool)
        if query.cursor is not None:
            keep &= self._beyond(values, keys, query.cursor.values, backwards)
        candidates = np.flatnonzero(keep)
        wanted = query.offset + query.page_size + 1

        def sort_key(name: str, desc: bool, at: np.ndarray) -> np.ndarray:
            column = values[name][at].astype(np.float64 if name == "rank" else np.int64)
            return -column if desc != backwards else column  # ascending either way

        if len(candidates) > 4 * wanted:
            # Only rows whose first sort key reaches the wanted-th smallest can be on the page (ties included):
            # a partition, linear, then a full sort of those few instead of every match.
            first = sort_key(*keys[0], candidates)
            candidates = candidates[first <= np.partition(first, wanted - 1)[wanted - 1]]
        # lexsort: the last key is the primary one.
        order = candidates[np.lexsort([sort_key(name, desc, candidates) for name, desc in reversed(keys)])]
        window = order[query.offset : query.offset + query.page_size + 1]
        rows = [tuple(self._value(name, values[name][i]) for name, _ in keys) for i in window]
        return rows[::-1] if backwards else rows

    @staticmethod
    def _ts_ranks(cursor, tsquery: str, values: dict, ids: np.ndarray) -> None:
        """PostgreSQL's `ts_rank` into values["rank"] for the matches `ids` (the few whose positions make too many
        pairs to fold here)."""
        cursor.execute(
            "SELECT id, ts_rank(search_vector, to_tsquery('english', %s)) FROM registry_asset WHERE id = ANY(%s)",
            [tsquery, ids.tolist()],
        )
        found = dict(cursor.fetchall())
        at = np.flatnonzero(np.isin(values["id"], ids))
        values["rank"][at] = [found.get(int(i), 0.0) for i in values["id"][at]]

    @staticmethod
    def _beyond(values: dict, keys, cursor_values, backwards: bool) -> np.ndarray:
        """Rows after the cursor in the order of `keys` (before it, going backwards)."""
        beyond = np.zeros(len(values["id"]), bool)
        for position in range(len(keys) - 1, -1, -1):
            name, desc = keys[position]
            column, mark = values[name], cursor_values[position]
            if name in ("created_at", "updated_at"):
                mark = _micros(mark)
            elif name == "rank":
                column, mark = column.astype(np.float64), float(np.float32(mark))
            after = column < mark if desc != backwards else column > mark
            beyond = after | ((column == mark) & beyond) if position < len(keys) - 1 else after
        return beyond

    @staticmethod
    def _value(name: str, value):
        if name in ("created_at", "updated_at"):
            return _datetime(value)
        if name == "rank":
            return float(str(value))  # the shortest text of the float32, as PostgreSQL sends a real
        return int(value)
