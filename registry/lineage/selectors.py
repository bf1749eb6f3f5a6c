"""Reads of the lineage graph: walks up- and downstream, the graph a caller may see, and impact.

Walks run as one recursive CTE on PostgreSQL and as a breadth-first search, one query per level, on
other databases (the embedded SQLite default); both give the same answer (tests compare them).
Everything returned to a caller is scoped by `registry.kernel.access`: versions of assets the caller may
not see are left out and only counted, so the graph is honest without naming what is hidden.
"""

from collections import deque
from dataclasses import dataclass

from django.db import connection, models

from registry.kernel.access import Permission, restrict
from registry.kernel.errors import InvalidInput, NotFound
from registry.lineage.models import LineageEdge
from registry.versions.models import AssetVersion, VersionStatus

DEFAULT_DEPTH = 3
MAX_DEPTH = 20
# Impact follows dependants "transitively"; the graph is acyclic, so a walk ends at its longest path.
# The bound only keeps a walk finite should a cycle ever slip in.
IMPACT_MAX_DEPTH = 1000
# Versions whose breakage matters: the ones serving, or cleared to serve.
IMPACT_STATUSES = (VersionStatus.APPROVED,)
_BFS_CHUNK = 2000


class LineageDirection(models.TextChoices):
    UPSTREAM = "upstream", "What the version depends on"
    DOWNSTREAM = "downstream", "What depends on the version"
    BOTH = "both", "Both"


class WalkMethod(models.TextChoices):
    CTE = "cte", "Recursive CTE (PostgreSQL)"
    BFS = "bfs", "Breadth-first search in Python, one query per level"


# Following an edge upstream goes source -> target; downstream goes target -> source.
_STEP = {LineageDirection.UPSTREAM: ("source_id", "target_id"), LineageDirection.DOWNSTREAM: ("target_id", "source_id")}


def _method(method: str | None) -> str:
    if method:
        return method
    return WalkMethod.CTE if connection.vendor == "postgresql" else WalkMethod.BFS


def _cte_distances(start_id: int, direction: str, depth: int) -> dict[int, int]:
    here, there = _STEP[direction]
    table = connection.ops.quote_name(LineageEdge._meta.db_table)
    # UNION (not UNION ALL) drops a (node, distance) pair already produced, and the distance bound
    # ends the recursion even on a cycle; MIN keeps each node's shortest distance.
    sql = f"""
        WITH RECURSIVE walk(node, distance) AS (
            SELECT CAST(%s AS bigint), 0
          UNION
            SELECT e.{there}, w.distance + 1
            FROM {table} e JOIN walk w ON e.{here} = w.node
            WHERE w.distance < %s
        )
        SELECT node, MIN(distance) FROM walk GROUP BY node
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [start_id, depth])
        return dict(cursor.fetchall())


def _bfs_distances(start_id: int, direction: str, depth: int) -> dict[int, int]:
    here, there = _STEP[direction]
    distances = {start_id: 0}
    frontier = [start_id]
    for distance in range(1, depth + 1):
        if not frontier:
            break
        found = []
        for start in range(0, len(frontier), _BFS_CHUNK):
            rows = LineageEdge.objects.filter(**{f"{here}__in": frontier[start : start + _BFS_CHUNK]}).values_list(
                there, flat=True
            )
            for node in rows:
                if node not in distances:
                    distances[node] = distance
                    found.append(node)
        frontier = found
    return distances


def lineage_distances(*, start_id: int, direction: str, depth: int, method: str | None = None) -> dict[int, int]:
    """{version id: shortest distance} of every version within `depth` edges of `start_id` (itself at
    0), walking `direction` (upstream, downstream or both). Unscoped: callers filter by visibility."""
    if direction == LineageDirection.BOTH:
        merged = lineage_distances(start_id=start_id, direction=LineageDirection.UPSTREAM, depth=depth, method=method)
        down = lineage_distances(start_id=start_id, direction=LineageDirection.DOWNSTREAM, depth=depth, method=method)
        for node, distance in down.items():
            merged[node] = min(distance, merged.get(node, distance))
        return merged
    walk = _cte_distances if _method(method) == WalkMethod.CTE else _bfs_distances
    return walk(start_id, direction, depth)


def _cte_reachable(start_id: int) -> set[int]:
    table = connection.ops.quote_name(LineageEdge._meta.db_table)
    # No distance column: UNION alone stops the recursion, however long the paths or any cycle.
    sql = f"""
        WITH RECURSIVE walk(node) AS (
            SELECT CAST(%s AS bigint)
          UNION
            SELECT e.target_id FROM {table} e JOIN walk w ON e.source_id = w.node
        )
        SELECT node FROM walk
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [start_id])
        return {row[0] for row in cursor.fetchall()}


def lineage_upstream_path(*, start_id: int, goal_id: int, method: str | None = None) -> list[int] | None:
    """The shortest upstream path of version ids from `start_id` to `goal_id`, or None if there is none.

    Unbounded in depth (a cycle check must see the whole graph). On PostgreSQL one CTE finds what is
    reachable first, so the common answer, "no path", costs one query.
    """
    if start_id == goal_id:
        return [start_id]
    if _method(method) == WalkMethod.CTE:
        reachable = _cte_reachable(start_id)
        if goal_id not in reachable:
            return None
        edges = LineageEdge.objects.filter(source_id__in=reachable).values_list("source_id", "target_id")
        successors: dict[int, list[int]] = {}
        for source, target in edges:
            successors.setdefault(source, []).append(target)
        next_of = lambda nodes: [(n, t) for n in nodes for t in successors.get(n, ())]  # noqa: E731
    else:

        def next_of(nodes):
            return LineageEdge.objects.filter(source_id__in=nodes).values_list("source_id", "target_id")

    parents = {start_id: None}
    frontier = [start_id]
    while frontier:
        found = []
        for start in range(0, len(frontier), _BFS_CHUNK):
            for source, target in next_of(frontier[start : start + _BFS_CHUNK]):
                if target in parents:
                    continue
                parents[target] = source
                if target == goal_id:
                    path = deque([goal_id])
                    while parents[path[0]] is not None:
                        path.appendleft(parents[path[0]])
                    return list(path)
                found.append(target)
        frontier = found
    return None


# --- What a caller sees --------------------------------------------------------------------------


@dataclass(frozen=True)
class LineageNode:
    version: AssetVersion
    distance: int


@dataclass(frozen=True)
class LineageGraph:
    root: AssetVersion
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    hidden_nodes: int


@dataclass(frozen=True)
class LineageImpact:
    """What breaks if `root` changes: dependants in IMPACT_STATUSES, nearest first.

    Other kinds of dependants (live endpoints serving an impacted version) join as further lists,
    found from the same walk's version ids.
    """

    root: AssetVersion
    versions: list[LineageNode]
    hidden_versions: int

    @property
    def root_node(self) -> LineageNode:
        return LineageNode(self.root, 0)


def _visible_versions(user, ids) -> dict[int, AssetVersion]:
    rows = restrict(AssetVersion.objects.filter(pk__in=list(ids)), user, Permission.ASSET_VIEW)
    rows = rows.select_related("asset__team").order_by()
    return {row.pk: row for row in rows}


def lineage_check_walk(*, direction: str, depth) -> tuple[str, int]:
    """The walk parameters of a request, checked: a bad value is a 400 naming it."""
    if direction not in LineageDirection.values:
        raise InvalidInput(f"direction: must be one of {', '.join(LineageDirection.values)}.", field="direction")
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise InvalidInput(f"depth: must be a whole number from 1 to {MAX_DEPTH}.", field="depth")
    return direction, depth


def lineage_graph(
    *,
    user,
    version: AssetVersion,
    direction: str = LineageDirection.BOTH,
    depth: int = DEFAULT_DEPTH,
    method: str | None = None,
) -> LineageGraph:
    """The versions within `depth` edges of `version` (which the caller can already see) and the edges
    between them, as far as `user` may see them. Walks continue through hidden versions (a visible
    grandparent stays in the graph); hidden ones and their edges are left out and counted."""
    direction, depth = lineage_check_walk(direction=direction, depth=depth)
    distances = lineage_distances(start_id=version.pk, direction=direction, depth=depth, method=method)
    visible = _visible_versions(user, distances)
    visible[version.pk] = version
    return _graph(version, distances, visible, _edges_between(visible))


def _edges_between(versions: dict) -> list[LineageEdge]:
    """Every edge between two of these versions: within one direction's walk each is itself a lineage step of
    that direction (the graph is acyclic), and with both it may join the two sides."""
    ids = list(versions)
    return list(LineageEdge.objects.filter(source_id__in=ids, target_id__in=ids).order_by("pk"))


def _graph(root: AssetVersion, distances: dict[int, int], visible: dict, edges: list[LineageEdge]) -> LineageGraph:
    """The graph of one walk (`distances`) as far as the caller sees it (`visible`, which may hold more)."""
    shown = {pk: v for pk, v in visible.items() if pk in distances or pk == root.pk}
    nodes = sorted(
        (LineageNode(v, distances.get(pk, 0)) for pk, v in shown.items()),
        key=lambda n: (n.distance, n.version.asset.full_slug, n.version.pk),
    )
    return LineageGraph(
        root=root,
        nodes=nodes,
        hidden_nodes=len(distances) - len(shown),
        edges=[e for e in edges if e.source_id in shown and e.target_id in shown],
    )


def lineage_sides(*, user, version: AssetVersion, depth: int = DEFAULT_DEPTH) -> tuple[LineageGraph, LineageGraph]:
    """The upstream and the downstream graph of `version`, as two `lineage_graph` calls would give them, with
    one visibility read and one edges read for both (a page that draws both sides)."""
    _, depth = lineage_check_walk(direction=LineageDirection.BOTH, depth=depth)
    walks = [
        lineage_distances(start_id=version.pk, direction=direction, depth=depth)
        for direction in (LineageDirection.UPSTREAM, LineageDirection.DOWNSTREAM)
    ]
    visible = _visible_versions(user, set(walks[0]) | set(walks[1]))
    visible[version.pk] = version
    edges = _edges_between(visible)
    return _graph(version, walks[0], visible, edges), _graph(version, walks[1], visible, edges)


def lineage_impact(*, user, version: AssetVersion, method: str | None = None) -> LineageImpact:
    """Versions in IMPACT_STATUSES that depend on `version`, directly or transitively, each with the
    length of its shortest path to it; those `user` may not see are only counted."""
    distances = lineage_distances(
        start_id=version.pk, direction=LineageDirection.DOWNSTREAM, depth=IMPACT_MAX_DEPTH, method=method
    )
    distances.pop(version.pk, None)
    impacted = set(
        AssetVersion.objects.filter(pk__in=list(distances), status__in=IMPACT_STATUSES).values_list("pk", flat=True)
    )
    visible = _visible_versions(user, impacted)
    nodes = sorted(
        (LineageNode(v, distances[pk]) for pk, v in visible.items()),
        key=lambda n: (n.distance, n.version.asset.full_slug, n.version.pk),
    )
    return LineageImpact(root=version, versions=nodes, hidden_versions=len(impacted) - len(visible))


def lineage_edge_get(*, version: AssetVersion, edge_id: int) -> LineageEdge:
    """An edge declared by `version` (its source), which the caller can already see."""
    edge = (
        LineageEdge.objects.filter(pk=edge_id, source=version)
        .select_related("source__asset__team", "target__asset__team")
        .first()
    )
    if edge is None:
        raise NotFound(f"Version {version.version} has no lineage edge {edge_id}.")
    return edge
