"""Lineage services and selectors: edge kinds, cycles (also under concurrency), visibility, walks."""

import random
import threading

import pytest
from django.db import IntegrityError, connection, transaction

from registry.kernel.audit.models import AuditEvent
from registry.kernel.errors import InvalidInput, NotFound, PermissionDenied
from registry.lineage.models import LineageEdge
from registry.lineage.selectors import (
    LineageDirection,
    WalkMethod,
    lineage_distances,
    lineage_edge_get,
    lineage_graph,
    lineage_impact,
    lineage_sides,
    lineage_upstream_path,
)
from registry.lineage.services import DuplicateLineage, LineageCycle, lineage_edge_add, lineage_edge_remove
from registry.versions.models import AssetVersion
from tests.factories import bare_versions, make_asset, make_team

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the CTE and the race need PostgreSQL")


def add(user, source, target, kind="derived_from"):
    return lineage_edge_add(user=user, source=source, kind=kind, asset=target.asset.full_slug, version=target.version)


def label(version) -> str:
    return f"{version.asset.full_slug}@{version.version}"


@pytest.fixture
def world(alice, team):
    """A dataset, two models and a solution of `team`, one version each."""
    assets = {kind: make_asset(alice, team, kind=kind, slug=f"{kind}-x") for kind in ("dataset", "model", "solution")}
    assets["model2"] = make_asset(alice, team, kind="model", slug="model-y")
    return {name: bare_versions(asset, 1)[0] for name, asset in assets.items()}


def test_edge_kinds_join_the_asset_kinds_they_name(alice, world):
    edge = add(alice, world["model"], world["dataset"], "trained_on")
    assert (edge.source, edge.target, edge.kind, edge.created_by) == (
        world["model"],
        world["dataset"],
        "trained_on",
        alice,
    )
    add(alice, world["model2"], world["model"], "derived_from")
    add(alice, world["solution"], world["model2"], "uses")
    add(alice, world["solution"], world["dataset"], "uses")
    refused = [
        ("model", "model2", "trained_on", "lead to a dataset version"),
        ("dataset", "model", "trained_on", "start at a model version"),
        ("model", "dataset", "derived_from", "lead to a model version"),
        ("solution", "model", "derived_from", "start at a model version"),
        ("model", "dataset", "uses", "start at a solution version"),
        ("solution", "model", "teleported_from", "must be one of trained_on, derived_from, uses"),
    ]
    for source, target, kind, message in refused:
        with pytest.raises(InvalidInput, match=message):
            add(alice, world[source], world[target], kind)
    assert LineageEdge.objects.count() == 4
    assert AuditEvent.objects.filter(action="lineage.added").count() == 4


def test_duplicate_and_self_edges_are_refused_by_service_and_database(alice, world):
    add(alice, world["model"], world["model2"])
    with pytest.raises(DuplicateLineage):
        add(alice, world["model"], world["model2"])
    with pytest.raises(LineageCycle, match="its own lineage"):
        add(alice, world["model"], world["model"])
    for source, target in ((world["model"], world["model2"]), (world["model"], world["model"])):
        with pytest.raises(IntegrityError), transaction.atomic():
            LineageEdge.objects.create(source=source, target=target, kind="derived_from")


def test_a_cycle_is_refused_naming_its_path(alice, world):
    a, b = world["model"], world["model2"]
    add(alice, a, b)
    with pytest.raises(LineageCycle) as refused:
        add(alice, b, a)
    assert refused.value.status_code == 409
    assert f"{label(b)} -> {label(a)} -> {label(b)}" in refused.value.message
    assert LineageEdge.objects.count() == 1


def test_a_cycle_through_a_hidden_version_does_not_name_it(alice, bob, charlie, team):
    """bob's a -> charlie's private h -> bob's b: b -> a is refused without naming h."""
    a, b = bare_versions(make_asset(alice, team, kind="model", slug="open"), 2)
    hidden = bare_versions(
        make_asset(charlie, make_team(charlie, slug="theirs"), kind="model", slug="h", visibility="private"), 1
    )[0]
    LineageEdge.objects.bulk_create(
        [
            LineageEdge(source=a, target=hidden, kind="derived_from"),
            LineageEdge(source=hidden, target=b, kind="derived_from"),
        ]
    )
    with pytest.raises(LineageCycle) as refused:
        add(bob, b, a)
    assert f"{label(b)} -> {label(a)} -> (a version you cannot see) -> {label(b)}" in refused.value.message
    assert "theirs" not in refused.value.message


def test_a_long_cycle_is_found_and_named_in_full(alice, team):
    chain = bare_versions(make_asset(alice, team, kind="model", slug="chain"), 40)
    for newer, older in zip(chain[1:], chain):
        add(alice, newer, older)
    with pytest.raises(LineageCycle) as refused:
        add(alice, chain[0], chain[-1])
    expected = " -> ".join(label(v) for v in [chain[0], chain[-1], *reversed(chain[:-1])])
    assert expected in refused.value.message
    # Far beyond any query depth limit, the walk still sees the whole chain.
    assert lineage_upstream_path(start_id=chain[-1].pk, goal_id=chain[0].pk) == [v.pk for v in reversed(chain)]


def test_only_source_team_members_declare_and_remove_and_hidden_targets_do_not_exist(alice, bob, charlie, world):
    with pytest.raises(PermissionDenied):
        add(charlie, world["model"], world["dataset"], "trained_on")
    edge = add(bob, world["model"], world["dataset"], "trained_on")
    other = make_team(charlie, slug="elsewhere")
    secret = bare_versions(make_asset(charlie, other, kind="dataset", slug="secret", visibility="private"), 1)[0]
    with pytest.raises(NotFound) as hidden:
        add(alice, world["model"], secret, "trained_on")
    with pytest.raises(NotFound) as missing:
        lineage_edge_add(
            user=alice, source=world["model"], kind="trained_on", asset="elsewhere/nothing", version="0.0.0"
        )
    assert hidden.value.message == "No asset named 'elsewhere/secret'."
    assert missing.value.message == "No asset named 'elsewhere/nothing'."
    with pytest.raises(PermissionDenied):
        lineage_edge_remove(user=charlie, edge=edge)
    lineage_edge_remove(user=bob, edge=lineage_edge_get(version=world["model"], edge_id=edge.pk))
    assert not LineageEdge.objects.exists()
    removed = AuditEvent.objects.get(action="lineage.removed")
    assert removed.actor == bob and removed.data["kind"] == "trained_on"
    with pytest.raises(NotFound):
        lineage_edge_get(version=world["dataset"], edge_id=edge.pk)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_edges_closing_a_cycle_cannot_both_succeed(alice, team):
    """a -> b against b -> a; and, with a -> b and c -> d in place, b -> c against d -> a, which
    share no version (row locks alone would not order them)."""
    models = iter(bare_versions(make_asset(alice, team, kind="model", slug="racers"), 18))
    for round_ in range(6):
        if round_ % 2:
            a, b, c, d = (next(models) for _ in range(4))
            add(alice, a, b)
            add(alice, c, d)
            racing = ((b, c), (d, a))
        else:
            a, b = next(models), next(models)
            racing = ((a, b), (b, a))
        barrier = threading.Barrier(2)
        outcomes = []

        def attempt(source, target):
            try:
                barrier.wait()
                add(alice, source, target)
                outcomes.append("added")
            except LineageCycle:
                outcomes.append("cycle")
            finally:
                connection.close()

        threads = [threading.Thread(target=attempt, args=pair) for pair in racing]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["added", "cycle"], round_
    assert LineageEdge.objects.count() == 3 * 1 + 3 * 3


def random_dag(alice, team, *, nodes=150, edges=400, seed=7):
    """Random derived_from edges from later to earlier versions (acyclic), bulk inserted."""
    versions = bare_versions(make_asset(alice, team, kind="model", slug="dag"), nodes)
    rng = random.Random(seed)
    pairs = set()
    while len(pairs) < edges:
        i, j = sorted(rng.sample(range(nodes), 2))
        pairs.add((versions[j].pk, versions[i].pk))
    LineageEdge.objects.bulk_create(LineageEdge(source_id=s, target_id=t, kind="derived_from") for s, t in pairs)
    return versions


@postgres_only
def test_recursive_cte_and_python_bfs_give_the_same_answers(alice, team):
    versions = random_dag(alice, team)
    for start in versions[::15]:
        for direction in LineageDirection.values:
            for depth in (1, 3, 20):
                cte = lineage_distances(start_id=start.pk, direction=direction, depth=depth, method=WalkMethod.CTE)
                bfs = lineage_distances(start_id=start.pk, direction=direction, depth=depth, method=WalkMethod.BFS)
                assert cte == bfs, (start.pk, direction, depth)
    goal, start = versions[0], versions[-1]
    cte = lineage_upstream_path(start_id=start.pk, goal_id=goal.pk, method=WalkMethod.CTE)
    bfs = lineage_upstream_path(start_id=start.pk, goal_id=goal.pk, method=WalkMethod.BFS)
    assert cte is not None and len(cte) == len(bfs) and cte[0] == bfs[0] == start.pk and cte[-1] == goal.pk
    assert lineage_upstream_path(start_id=goal.pk, goal_id=start.pk, method=WalkMethod.CTE) is None
    AssetVersion.objects.filter(pk__in=[v.pk for v in versions[100:]]).update(status="approved")
    impacts = [lineage_impact(user=alice, version=goal, method=m) for m in WalkMethod.values]
    assert [[(n.version.pk, n.distance) for n in i.versions] for i in impacts][0] == [
        [(n.version.pk, n.distance) for n in i.versions] for i in impacts
    ][1]
    assert impacts[0].versions and all(n.version.status == "approved" for n in impacts[0].versions)


@postgres_only
def test_walks_end_on_a_cycle_that_bypassed_the_services(alice, team):
    a, b, c = bare_versions(make_asset(alice, team, kind="model", slug="loop"), 3)
    LineageEdge.objects.bulk_create(
        LineageEdge(source=s, target=t, kind="derived_from") for s, t in ((a, b), (b, c), (c, a))
    )
    for method in WalkMethod.values:
        assert lineage_distances(start_id=a.pk, direction="upstream", depth=20, method=method) == {
            a.pk: 0,
            b.pk: 1,
            c.pk: 2,
        }
        assert lineage_upstream_path(start_id=a.pk, goal_id=c.pk, method=method) == [a.pk, b.pk, c.pk]


def test_graph_shows_what_the_caller_may_see_and_counts_the_rest(alice, charlie, team):
    """dataset <- model (private team) <- derived (charlie's internal) : charlie sees both ends only."""
    dataset = bare_versions(make_asset(alice, team, kind="dataset", slug="data"), 1)[0]
    model = bare_versions(make_asset(alice, team, kind="model", slug="secret-model", visibility="private"), 1)[0]
    add(alice, model, dataset, "trained_on")
    other = make_team(charlie, slug="outside")
    derived = bare_versions(make_asset(charlie, other, kind="model", slug="derived"), 1)[0]
    LineageEdge.objects.create(source=derived, target=model, kind="derived_from")  # declared while visible

    mine = lineage_graph(user=alice, version=dataset, direction="downstream", depth=3)
    assert {n.version.pk: n.distance for n in mine.nodes} == {dataset.pk: 0, model.pk: 1, derived.pk: 2}
    assert len(mine.edges) == 2 and mine.hidden_nodes == 0
    theirs = lineage_graph(user=charlie, version=derived, direction="upstream", depth=3)
    assert [(n.version.pk, n.distance) for n in theirs.nodes] == [(derived.pk, 0), (dataset.pk, 2)]
    assert theirs.edges == [] and theirs.hidden_nodes == 1
    shallow = lineage_graph(user=charlie, version=derived, direction="upstream", depth=1)
    assert [n.version.pk for n in shallow.nodes] == [derived.pk] and shallow.hidden_nodes == 1
    for direction, depth in (("sideways", 3), ("both", 0), ("both", 21), ("both", "3")):
        with pytest.raises(InvalidInput):
            lineage_graph(user=alice, version=dataset, direction=direction, depth=depth)


def test_both_sides_at_once_are_the_two_one_sided_graphs(alice, charlie, team):
    versions = random_dag(alice, team, nodes=40, edges=90)
    hidden = bare_versions(make_asset(alice, team, kind="model", slug="hidden", visibility="private"), 3)
    for i, version in enumerate(hidden):
        LineageEdge.objects.create(source=version, target=versions[i * 10], kind="derived_from")
        LineageEdge.objects.create(source=versions[35 + i], target=version, kind="derived_from")

    def shape(graph):
        return ([(n.version.pk, n.distance) for n in graph.nodes], [e.pk for e in graph.edges], graph.hidden_nodes)

    for user in (alice, charlie):
        for start in (versions[0], versions[10], versions[20], versions[39]):
            up, down = lineage_sides(user=user, version=start, depth=4)
            assert shape(up) == shape(lineage_graph(user=user, version=start, direction="upstream", depth=4))
            assert shape(down) == shape(lineage_graph(user=user, version=start, direction="downstream", depth=4))


def test_impact_lists_approved_dependants_with_path_length(alice, charlie, team):
    dataset = bare_versions(make_asset(alice, team, kind="dataset", slug="base"), 1)[0]
    model, tuned = bare_versions(make_asset(alice, team, kind="model", slug="m"), 2)
    solution = bare_versions(make_asset(alice, team, kind="solution", slug="app"), 1)[0]
    hidden = bare_versions(make_asset(alice, team, kind="solution", slug="inner", visibility="private"), 1)[0]
    add(alice, model, dataset, "trained_on")
    add(alice, tuned, model)
    add(alice, solution, tuned, "uses")
    add(alice, hidden, dataset, "uses")
    AssetVersion.objects.filter(pk__in=[tuned.pk, solution.pk, hidden.pk]).update(status="approved")

    impact = lineage_impact(user=alice, version=dataset)
    assert [(n.version.pk, n.distance) for n in impact.versions] == [(hidden.pk, 1), (tuned.pk, 2), (solution.pk, 3)]
    assert impact.hidden_versions == 0
    outsider = lineage_impact(user=charlie, version=dataset)
    assert [n.version.pk for n in outsider.versions] == [tuned.pk, solution.pk] and outsider.hidden_versions == 1


def test_deleting_a_version_removes_its_edges(alice, world):
    add(alice, world["model"], world["dataset"], "trained_on")
    world["dataset"].delete()
    assert not LineageEdge.objects.exists()
