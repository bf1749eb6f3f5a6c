"""Lineage API: declare, list, remove and impact, as owner, teammate and outsider; lineage at upload."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from registry.artifacts.models import Blob
from registry.kernel.audit.models import AuditEvent
from registry.lineage.models import LineageEdge
from registry.versions.models import AssetVersion
from tests.factories import bare_versions, make_asset, make_team, onnx_bytes

pytestmark = pytest.mark.django_db
BASE = "/api/v1/assets/vision"


@pytest.fixture
def iris(alice, team):
    """vision/iris-data 1.0.0 (dataset), vision/iris 0.0.0 (model), vision/app 0.0.0 (solution), all internal."""
    data = make_asset(alice, team, kind="dataset", slug="iris-data")
    dataset = AssetVersion.objects.create(
        asset=data,
        version="1.0.0",
        major=1,
        minor=0,
        patch=0,
        status="validated",
        filename="iris.csv",
        sha256="0" * 64,
        size=0,
    )
    model = bare_versions(make_asset(alice, team, kind="model", slug="iris"), 1)[0]
    solution = bare_versions(make_asset(alice, team, kind="solution", slug="app"), 1)[0]
    return {"dataset": dataset, "model": model, "solution": solution}


def declare(client, url, kind, asset, version):
    return client.post(f"{url}/lineage", {"kind": kind, "asset": asset, "version": version}, format="json")


MODEL = f"{BASE}/iris/versions/0.0.0"
APP = f"{BASE}/app/versions/0.0.0"


def test_owner_and_teammate_declare_and_everyone_who_sees_it_reads_the_graph(alice_api, bob_api, charlie_api, iris):
    response = declare(alice_api, MODEL, "trained_on", "vision/iris-data", "1.0.0")
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "id": response.json()["id"],
        "source": iris["model"].pk,
        "target": iris["dataset"].pk,
        "kind": "trained_on",
    }
    assert declare(bob_api, APP, "uses", "vision/iris", "0.0.0").status_code == 201

    graph = charlie_api.get(f"{MODEL}/lineage").json()
    assert graph["root"] == iris["model"].pk and graph["hidden_nodes"] == 0
    assert graph["nodes"][0] == {
        "id": iris["model"].pk,
        "asset": "vision/iris",
        "version": "0.0.0",
        "kind": "model",
        "status": "validated",
    }
    assert {n["asset"] for n in graph["nodes"]} == {"vision/iris", "vision/iris-data", "vision/app"}
    assert {(e["source"], e["target"], e["kind"]) for e in graph["edges"]} == {
        (iris["model"].pk, iris["dataset"].pk, "trained_on"),
        (iris["solution"].pk, iris["model"].pk, "uses"),
    }
    upstream = alice_api.get(f"{MODEL}/lineage?direction=upstream&depth=1").json()
    assert [n["asset"] for n in upstream["nodes"]] == ["vision/iris", "vision/iris-data"]
    downstream = alice_api.get(f"{BASE}/iris-data/versions/1.0.0/lineage?direction=downstream&depth=2").json()
    assert [n["asset"] for n in downstream["nodes"]] == ["vision/iris-data", "vision/iris", "vision/app"]


def test_outsider_cannot_declare_or_remove_and_private_versions_are_404(alice, alice_api, charlie_api, iris):
    assert declare(charlie_api, MODEL, "trained_on", "vision/iris-data", "1.0.0").status_code == 403
    edge = declare(alice_api, MODEL, "trained_on", "vision/iris-data", "1.0.0").json()
    assert charlie_api.delete(f"{MODEL}/lineage/{edge['id']}").status_code == 403

    secret = bare_versions(
        make_asset(alice, iris["model"].asset.team, kind="model", slug="secret", visibility="private"), 1
    )[0]
    LineageEdge.objects.create(source=secret, target=iris["dataset"], kind="trained_on")
    url = f"{BASE}/secret/versions/0.0.0"
    for response in (
        charlie_api.get(f"{url}/lineage"),
        charlie_api.get(f"{url}/impact"),
        declare(charlie_api, url, "trained_on", "vision/iris-data", "1.0.0"),
        charlie_api.delete(f"{url}/lineage/1"),
    ):
        assert response.status_code == 404
        assert response.json()["detail"] == "No asset named 'vision/secret'."
    # Charlie's own model cannot point at the private one: it does not exist for him.
    mine = bare_versions(
        make_asset(charlie_api.user, make_team(charlie_api.user, slug="charlies"), kind="model", slug="mine"), 1
    )[0]
    refused = declare(
        charlie_api, "/api/v1/assets/charlies/mine/versions/0.0.0", "derived_from", "vision/secret", "0.0.0"
    )
    assert refused.status_code == 404 and refused.json()["detail"] == "No asset named 'vision/secret'."
    # The walk goes on past what he may not see; it is counted, not named.
    graph = charlie_api.get(f"{BASE}/iris-data/versions/1.0.0/lineage?direction=downstream").json()
    assert [n["asset"] for n in graph["nodes"]] == ["vision/iris-data", "vision/iris"]
    assert graph["hidden_nodes"] == 1 and "secret" not in json.dumps(graph)
    assert not LineageEdge.objects.filter(source=mine).exists()


def test_bad_kinds_cycles_and_duplicates_are_4xx(alice_api, iris, alice):
    assert declare(alice_api, MODEL, "uses", "vision/iris-data", "1.0.0").status_code == 400
    assert declare(alice_api, MODEL, "trained_on", "vision/app", "0.0.0").status_code == 400
    assert declare(alice_api, MODEL, "trained_on", "vision/iris-data", "9.9.9").status_code == 404
    assert declare(alice_api, MODEL, "trained_on", "not-a-name", "1.0.0").status_code == 400
    assert (
        alice_api.post(
            f"{MODEL}/lineage",
            {"kind": "trained_on", "asset": "vision/iris-data", "version": "1.0.0", "extra": 1},
            format="json",
        ).status_code
        == 400
    )
    assert declare(alice_api, MODEL, "trained_on", "vision/iris-data", "1.0.0").status_code == 201
    duplicate = declare(alice_api, MODEL, "trained_on", "vision/iris-data", "1.0.0")
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate_lineage"
    tuned = bare_versions(iris["model"].asset, 1, start=1)[0]
    assert declare(alice_api, f"{BASE}/iris/versions/0.0.1", "derived_from", "vision/iris", "0.0.0").status_code == 201
    cycle = declare(alice_api, MODEL, "derived_from", "vision/iris", "0.0.1")
    assert cycle.status_code == 409 and cycle.json()["code"] == "lineage_cycle"
    assert "vision/iris@0.0.0 -> vision/iris@0.0.1 -> vision/iris@0.0.0" in cycle.json()["detail"]
    assert LineageEdge.objects.filter(source=tuned).count() == 1


@pytest.mark.parametrize(
    "query",
    [
        "direction=sideways",
        "depth=0",
        "depth=21",
        "depth=abc",
        "depth=1e3",
        "depth=99999999999999999999999",
        "direction=",
        "depth=",
        "colour=red",
    ],
)
def test_bad_walk_parameters_are_400(alice_api, iris, query):
    response = alice_api.get(f"{MODEL}/lineage?{query}")
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_remove_an_edge(alice_api, bob_api, iris):
    edge = declare(alice_api, MODEL, "trained_on", "vision/iris-data", "1.0.0").json()
    assert bob_api.delete(f"{APP}/lineage/{edge['id']}").status_code == 404  # not the app's edge
    assert bob_api.delete(f"{MODEL}/lineage/{edge['id']}").status_code == 204
    assert bob_api.delete(f"{MODEL}/lineage/{edge['id']}").status_code == 404
    assert not LineageEdge.objects.exists()
    assert AuditEvent.objects.filter(action="lineage.removed", actor_name="bob").count() == 1


def test_impact_lists_approved_dependants(alice_api, charlie_api, iris):
    declare(alice_api, MODEL, "trained_on", "vision/iris-data", "1.0.0")
    declare(alice_api, APP, "uses", "vision/iris", "0.0.0")
    AssetVersion.objects.filter(pk=iris["solution"].pk).update(status="approved")
    impact = charlie_api.get(f"{BASE}/iris-data/versions/1.0.0/impact").json()
    assert impact["root"]["asset"] == "vision/iris-data" and impact["hidden_versions"] == 0
    assert impact["versions"] == [
        {
            "id": iris["solution"].pk,
            "asset": "vision/app",
            "version": "0.0.0",
            "kind": "solution",
            "status": "approved",
            "distance": 2,
        }
    ]


# --- Lineage declared at upload -------------------------------------------------------------------


def upload(client, lineage, *, version="1.0.0"):
    data = {"version": version, "file": SimpleUploadedFile("model.onnx", onnx_bytes())}
    if lineage is not None:
        data["lineage"] = lineage if isinstance(lineage, str) else json.dumps(lineage)
    return client.post(f"{BASE}/tuned/versions/", data, format="multipart")


@pytest.fixture
def tuned(alice, team, iris):
    return make_asset(alice, team, kind="model", slug="tuned")


def test_upload_declares_lineage_in_the_same_transaction(bob_api, tuned, iris):
    response = upload(
        bob_api,
        [
            {"kind": "trained_on", "asset": "vision/iris-data", "version": "1.0.0"},
            {"kind": "derived_from", "asset": "vision/iris", "version": "0.0.0"},
        ],
    )
    assert response.status_code == 202, response.json()
    version = AssetVersion.objects.get(asset=tuned)
    assert set(LineageEdge.objects.filter(source=version).values_list("target_id", "kind")) == {
        (iris["dataset"].pk, "trained_on"),
        (iris["model"].pk, "derived_from"),
    }
    assert AuditEvent.objects.filter(action="lineage.added", actor_name="bob").count() == 2


@pytest.mark.parametrize(
    "lineage, status",
    [
        ([{"kind": "trained_on", "asset": "vision/iris", "version": "0.0.0"}], 400),  # a model is no dataset
        ([{"kind": "trained_on", "asset": "vision/nothing", "version": "1.0.0"}], 404),
        ([{"kind": "trained_on", "asset": "vision/iris-data", "version": "2.0.0"}], 404),
        ([{"kind": "trained_on", "asset": "vision/iris-data", "version": "1.0.0"}] * 2, 400),
        ([{"kind": "trained_on", "asset": "vision/iris-data", "version": "1.0.0", "note": "x"}], 400),
        ([{"kind": "trained_on", "asset": "vision/iris-data", "version": "1.0.0"}] * 101, 400),
        ({"kind": "trained_on"}, 400),
        ("[{", 400),
        ('[{"kind": "trained_on", "asset": "vision/iris-data", "version": NaN}]', 400),
        ([1], 400),
    ],
)
def test_a_bad_lineage_refuses_the_whole_upload_and_leaves_nothing(alice_api, tuned, iris, lineage, status):
    events = AuditEvent.objects.count()
    response = upload(alice_api, lineage)
    assert response.status_code == status, response.json()
    assert response.json()["detail"]
    assert not AssetVersion.objects.filter(asset=tuned).exists()
    assert not Blob.objects.exists() and not LineageEdge.objects.exists()
    assert AuditEvent.objects.count() == events


def test_outsider_lineage_at_upload_names_no_private_asset(alice, alice_api, charlie, team, tuned):
    other = make_team(charlie, slug="charlies")
    bare_versions(make_asset(charlie, other, kind="dataset", slug="hidden", visibility="private"), 1)
    response = upload(alice_api, [{"kind": "trained_on", "asset": "charlies/hidden", "version": "0.0.0"}])
    assert response.status_code == 404 and response.json()["detail"] == "No asset named 'charlies/hidden'."
    assert not AssetVersion.objects.filter(asset=tuned).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one CTE per walk on PostgreSQL")
def test_graph_and_impact_take_a_fixed_number_of_queries(alice, alice_api, team, django_assert_max_num_queries):
    """However wide and deep the graph: a 20-deep chain of models, each also used by a solution."""
    chain = bare_versions(make_asset(alice, team, kind="model", slug="chain"), 21)
    apps = bare_versions(make_asset(alice, team, kind="solution", slug="apps"), 21, status="approved")
    LineageEdge.objects.bulk_create(
        [LineageEdge(source=newer, target=older, kind="derived_from") for newer, older in zip(chain[1:], chain)]
        + [LineageEdge(source=app, target=model, kind="uses") for app, model in zip(apps, chain)]
    )
    with django_assert_max_num_queries(13):
        graph = alice_api.get(f"{BASE}/chain/versions/0.0.0/lineage?direction=both&depth=20").json()
    assert len(graph["nodes"]) == 21 + 20 and len(graph["edges"]) == 20 + 20
    with django_assert_max_num_queries(11):
        impact = alice_api.get(f"{BASE}/chain/versions/0.0.0/impact").json()
    assert [v["distance"] for v in impact["versions"]] == list(range(1, 22))
