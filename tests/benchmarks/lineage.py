"""Benchmark: lineage walks over a 10,000-version graph, recursive CTE against Python BFS.

    .venv/bin/python tests/benchmarks/lineage.py [--nodes 10000] [--runs 7] [--keep]

Creates a fresh PostgreSQL database (named after DATABASE_URL's, default
postgres://postgres@127.0.0.1:5432/modelhub_bench_lineage, with a unique suffix), migrates it and
bulk-inserts a layered graph: datasets <- base models (trained_on) <- ten levels of derived models
(derived_from, one to three parents each) <- solutions (use a model of the last level, one of any
level and a dataset), about 2 edges per version, with a third of the versions approved. It then times, as a team member
through the same selectors as the API, the median of --runs calls of: upstream of a solution,
downstream of a dataset and of a mid-level model (depth 20), and impact of a dataset; each with the
recursive CTE and with the per-level Python BFS (the SQLite fallback), and prints the ratio.
It fails (exit status 1) if the two methods disagree. The database is dropped unless --keep.

Not collected by pytest (tests/ only collects test_*.py).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.scratch import scratch_database

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/modelhub_bench_lineage"
DERIVED_LEVELS = 10


def build_graph(nodes: int, seed: int = 0) -> dict[str, list[int]]:
    """Bulk-insert the layered graph; returns version ids per layer."""
    from django.contrib.auth import get_user_model

    from registry.assets.models import Asset
    from registry.lineage.models import LineageEdge
    from registry.teams.services import team_create
    from registry.versions.models import AssetVersion

    rng = random.Random(seed)
    user = get_user_model().objects.create_user(username="bench", password="bench")
    team = team_create(user=user, slug="bench", name="Bench")
    sizes = {"dataset": nodes // 10, "base": nodes * 8 // 100, "solution": nodes * 12 // 100}
    per_level = (nodes - sum(sizes.values())) // DERIVED_LEVELS
    sizes["solution"] += nodes - sum(sizes.values()) - per_level * DERIVED_LEVELS
    layers: dict[str, list[int]] = {}
    plan = [
        ("dataset", "dataset", sizes["dataset"]),
        ("base", "model", sizes["base"]),
        *((f"derived{i}", "model", per_level) for i in range(1, DERIVED_LEVELS + 1)),
        ("solution", "solution", sizes["solution"]),
    ]
    for layer, kind, count in plan:
        # Ten versions per asset, as a registry holds them.
        assets = Asset.objects.bulk_create(
            Asset(kind=kind, team=team, name=f"{layer} {i}", slug=f"{layer}-{i}") for i in range((count + 9) // 10)
        )
        versions = AssetVersion.objects.bulk_create(
            AssetVersion(
                asset=assets[i // 10],
                version=f"0.0.{i % 10}",
                major=0,
                minor=0,
                patch=i % 10,
                status="approved" if rng.random() < 1 / 3 else "validated",
                filename="x",
                sha256="0" * 64,
                size=0,
                created_by=user,
            )
            for i in range(count)
        )
        layers[layer] = [v.pk for v in versions]
    edges: set[tuple[int, int, str]] = set()
    for source in layers["base"]:
        for target in rng.sample(layers["dataset"], 2):
            edges.add((source, target, "trained_on"))
    previous = layers["base"]
    for level in range(1, DERIVED_LEVELS + 1):
        for source in layers[f"derived{level}"]:
            for target in rng.sample(previous, rng.choice((1, 2, 3))):
                edges.add((source, target, "derived_from"))
        previous = layers[f"derived{level}"]
    models = layers["base"] + [pk for level in range(1, DERIVED_LEVELS + 1) for pk in layers[f"derived{level}"]]
    for source in layers["solution"]:
        deepest = layers[f"derived{DERIVED_LEVELS}"]
        for target in [rng.choice(deepest), rng.choice(models), rng.choice(layers["dataset"])]:
            edges.add((source, target, "uses"))
    LineageEdge.objects.bulk_create(
        (LineageEdge(source_id=s, target_id=t, kind=k, created_by=user) for s, t, k in edges), batch_size=5000
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    layers["_user"] = [user.pk]
    return layers


def _median_seconds(call, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def run(nodes: int, runs: int) -> int:
    from django.contrib.auth import get_user_model

    from registry.lineage.models import LineageEdge
    from registry.lineage.selectors import (
        IMPACT_MAX_DEPTH,
        MAX_DEPTH,
        WalkMethod,
        lineage_distances,
        lineage_graph,
        lineage_impact,
    )
    from registry.versions.models import AssetVersion

    started = time.perf_counter()
    layers = build_graph(nodes)
    print(
        f"graph: {AssetVersion.objects.count()} versions, {LineageEdge.objects.count()} edges, "
        f"{2 + DERIVED_LEVELS + 1} layers, built in {time.perf_counter() - started:.1f} s"
    )
    user = get_user_model().objects.get(pk=layers["_user"][0])
    versions = dict(
        AssetVersion.objects.select_related("asset__team")
        .in_bulk([layers["solution"][0], layers["dataset"][0], layers["derived5"][0]])
        .items()
    )
    solution, dataset, middle = (
        versions[layers["solution"][0]],
        versions[layers["dataset"][0]],
        versions[layers["derived5"][0]],
    )
    cases = [
        (
            "upstream of a solution",
            lambda m: lineage_graph(user=user, version=solution, direction="upstream", depth=MAX_DEPTH, method=m),
        ),
        (
            "downstream of a dataset",
            lambda m: lineage_graph(user=user, version=dataset, direction="downstream", depth=MAX_DEPTH, method=m),
        ),
        (
            "both ways of a mid model",
            lambda m: lineage_graph(user=user, version=middle, direction="both", depth=MAX_DEPTH, method=m),
        ),
        ("impact of a dataset", lambda m: lineage_impact(user=user, version=dataset, method=m)),
        # The walks alone, without loading versions, visibility and edges:
        (
            "walk: up from solution",
            lambda m: lineage_distances(start_id=solution.pk, direction="upstream", depth=MAX_DEPTH, method=m),
        ),
        (
            "walk: down from dataset",
            lambda m: lineage_distances(start_id=dataset.pk, direction="downstream", depth=IMPACT_MAX_DEPTH, method=m),
        ),
    ]
    print(f"median of {runs} runs, depth {MAX_DEPTH}, as a team member (visibility applied)")
    print(f"{'query':<26} {'nodes':>6} {'edges':>6} {'CTE ms':>9} {'BFS ms':>9} {'BFS/CTE':>8}")
    failed = False
    for name, call in cases:
        cte_s, cte = _median_seconds(lambda: call(WalkMethod.CTE), runs)
        bfs_s, bfs = _median_seconds(lambda: call(WalkMethod.BFS), runs)
        if hasattr(cte, "nodes"):
            shape = (len(cte.nodes), len(cte.edges))
            same = [(n.version.pk, n.distance) for n in cte.nodes] == [
                (n.version.pk, n.distance) for n in bfs.nodes
            ] and [e.pk for e in cte.edges] == [e.pk for e in bfs.edges]
        elif isinstance(cte, dict):
            shape, same = (len(cte), 0), cte == bfs
        else:
            shape = (len(cte.versions), 0)
            same = [(n.version.pk, n.distance) for n in cte.versions] == [
                (n.version.pk, n.distance) for n in bfs.versions
            ]
        failed |= not same
        print(
            f"{name:<26} {shape[0]:>6} {shape[1]:>6} {cte_s * 1000:>9.1f} {bfs_s * 1000:>9.1f} "
            f"{bfs_s / cte_s:>7.2f}x{'' if same else '  MISMATCH'}"
        )
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    base_url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not base_url.startswith("postgres"):
        print("DATABASE_URL must name a PostgreSQL server (the CTE is PostgreSQL's)", file=sys.stderr)
        return 2
    with scratch_database(base_url, keep=args.keep):
        return run(args.nodes, args.runs)


if __name__ == "__main__":
    sys.exit(main())
