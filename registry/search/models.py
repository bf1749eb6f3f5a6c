from django.db import models


class SearchTerm(models.Model):
    """A word of some asset's name or tags: the vocabulary typo and substring matching look in.

    Words are only added (by `registry.search.index.asset_indexed`); a word whose assets are gone
    stays and simply matches nothing, so the table stays small (bounded by the catalogue's vocabulary,
    not its size).
    """

    term = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return self.term


class FacetCount(models.Model):
    """How many assets of one scope (and, optionally, passing one filter) carry a facet value: the facet counts
    of the unfiltered catalogue, or of one filter, without reading the assets (PostgreSQL backend; see
    `backends/postgres.py`).

    `scope` is 0 for internal assets (every signed-in user sees them) and the owning team's id for that
    team's private assets, so a caller's counts are the sum over scope 0 and the scopes of their teams.
    `filter` is "*" (the counts of the whole scope) or one filter a search may apply alone ("kind=model",
    "task=...", "license=" + the licence upper-cased, "team=" + slug): the counts of the assets passing it.
    Maintained in the transaction of every asset change by `PostgresSearchBackend.asset_changed`.
    """

    scope = models.BigIntegerField()
    filter = models.CharField(max_length=120)
    facet = models.CharField(max_length=16)
    value = models.CharField(max_length=100)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "filter", "facet", "value"],
                name="facetcount_unique_key",
                violation_error_message="One row per scope, filter, facet and value.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope}/{self.filter}/{self.facet}={self.value}: {self.count}"


class XactIdField(models.BigIntegerField):
    """A transaction id: PostgreSQL's `xid8` (64-bit, never wraps), a bigint elsewhere (nothing writes it there)."""

    def db_type(self, connection):
        return "xid8" if connection.vendor == "postgresql" else super().db_type(connection)


class SearchState(models.Model):
    """One row (id 1): the epoch of the asset change log. A new epoch (a rebuild, or the row gone with a
    truncated table) tells every process's in-memory index (`backends/memory.py`) to load the catalogue again.

    The log is pruned in two steps a period apart (`change_log_prune`, a periodic task): the rows of transactions
    below `prune_next` go, `pruned_below` says so, and `prune_next` becomes the oldest transaction running now.
    An index that has not read the log since before the previous prune (its horizon is below `pruned_below`)
    may have lost rows it needed, so it loads the catalogue again."""

    epoch = models.CharField(max_length=36)
    pruned_below = models.BigIntegerField(default=0, db_default=0)
    prune_next = models.BigIntegerField(default=0, db_default=0)

    def __str__(self) -> str:
        return f"epoch {self.epoch}, pruned below {self.pruned_below}"


class SearchChange(models.Model):
    """The asset change log the in-memory index follows: a row per inserted, updated or deleted asset row,
    written by a trigger on the asset table (PostgreSQL; marketplace 0012, registry 0011), with the writing transaction's id.
    A reader takes every row whose transaction id is at or above the oldest transaction its previous read
    could not see yet (its snapshot's xmin), so no change is missed however transactions interleave.
    `search_rebuild` empties it; `change_log_prune` removes what every reader has had a period to read."""

    asset_id = models.BigIntegerField()
    xid = XactIdField(db_index=True)

    def __str__(self) -> str:
        return f"asset {self.asset_id} in transaction {self.xid}"
