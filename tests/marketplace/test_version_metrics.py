"""Metrics as data (registry/versions/metrics.py): the card's model-index kept in step, metrics set directly, and
the version list filtered by them (`?metric=accuracy>0.9`)."""

import pytest

from registry.cards.services import card_update
from registry.versions.metrics import metrics_from_model_index
from registry.versions.models import VersionMetric
from tests.factories import bare_versions, complete_card_fields, make_asset

pytestmark = pytest.mark.django_db
VERSIONS = "/api/v1/assets/vision/clf/versions/"


def index(**metrics_by_dataset) -> list:
    return [
        {
            "name": "clf",
            "results": [
                {"task": {"type": "tabular-classification"}, "dataset": {"name": dataset},
                 "metrics": [{"type": name, "value": value} for name, value in metrics.items()]}
                for dataset, metrics in metrics_by_dataset.items()
            ],
        }
    ]  # fmt: skip


def test_the_model_index_is_read_for_numbers_only():
    found = metrics_from_model_index(
        index(iris={"accuracy": 0.97, "f1": "0.95", "notes": "good", "nan": float("nan")}, wine={"accuracy": 0.81})
    )
    assert sorted(found) == [("accuracy", "iris", 0.97), ("accuracy", "wine", 0.81), ("f1", "iris", 0.95)]
    assert metrics_from_model_index("nonsense") == [] and metrics_from_model_index([{"results": [7]}]) == []


def test_card_metrics_follow_the_card_and_filter_the_list(alice, team, alice_api, bob_api, charlie_api):
    asset = make_asset(alice, team, slug="clf", kind="model", visibility="private")
    old, new, other = bare_versions(asset, 3)
    for version, accuracy in ((old, 0.82), (new, 0.93), (other, 0.91)):
        fields = complete_card_fields("model")
        fields["model_index"] = index(iris={"accuracy": accuracy})
        card_update(user=alice, version=version, fields=fields)
    fields["model_index"] = index(iris={"accuracy": 0.88}, wine={"f1": 0.7})  # the card changes: so do its metrics
    card_update(user=alice, version=other, fields=fields)
    assert sorted(VersionMetric.objects.filter(version=other).values_list("name", "dataset", "value")) == [
        ("accuracy", "iris", 0.88),
        ("f1", "wine", 0.7),
    ]

    def versions(query: str) -> list[str]:
        body = alice_api.get(f"{VERSIONS}?{query}").json()
        assert body["count"] == len(body["results"]), body
        return sorted(v["version"] for v in body["results"])

    assert versions("metric=accuracy>0.9") == [new.version]
    assert versions("metric=accuracy>=0.88") == sorted([new.version, other.version])
    assert versions("metric=accuracy@iris<0.85") == [old.version]
    assert versions("metric=f1@wine=0.7&metric=accuracy>0.8") == [other.version]
    assert versions("metric=accuracy@wine>0") == []
    for bad in ("accuracy", "accuracy>>1", "accuracy>high", "acc uracy>inf"):
        assert alice_api.get(f"{VERSIONS}?metric={bad}").status_code == 400, bad

    url = f"{VERSIONS}{old.version}/metrics"
    put = bob_api.put(url, [{"name": "latency_ms", "value": 3.5}, {"name": "accuracy", "value": 0.9, "dataset": "x"}],
                      format="json")  # fmt: skip
    assert put.status_code == 200, put.json()
    assert {(m["name"], m["source"]) for m in put.json()} == {
        ("accuracy", "card"),
        ("latency_ms", "api"),
        ("accuracy", "api"),
    }
    assert alice_api.get(f"{VERSIONS}{old.version}/").json()["metrics"][0]["name"] == "accuracy"
    assert versions("metric=latency_ms<5") == [old.version]
    assert bob_api.put(url, [{"name": "x", "value": "high"}], format="json").status_code == 400
    assert bob_api.put(url, {"name": "x"}, format="json").status_code == 400
    assert charlie_api.get(url).status_code == 404 and charlie_api.put(url, [], format="json").status_code == 404
    assert bob_api.put(url, [], format="json").json() == [m for m in put.json() if m["source"] == "card"]


def test_the_compare_page_charts_metrics_and_diffs_two_versions(alice, team, client, charlie):
    asset = make_asset(alice, team, slug="clf", kind="model", visibility="private")
    old, new = bare_versions(asset, 2)
    for version, accuracy, intended in ((old, 0.82, "Sorting flowers."), (new, 0.93, "Sorting flowers and weeds.")):
        fields = complete_card_fields("model")
        fields["model_index"] = index(iris={"accuracy": accuracy})
        fields["sections"]["intended_use"] = intended
        card_update(user=alice, version=version, fields=fields)
    client.force_login(alice)
    page = client.get("/assets/vision/clf/compare").content.decode()
    assert "<strong>accuracy</strong> on iris" in page and "latest 0.9300" in page and "best 0.9300" in page
    assert "Sorting flowers and weeds." in page and 'class="add"' in page and 'class="del"' in page
    chosen = client.get(f"/assets/vision/clf/compare?a={new.version}&b={new.version}").content.decode()
    assert "The cards are the same." in chosen
    assert 'href="/assets/vision/clf/compare"' in client.get("/assets/vision/clf/").content.decode()
    client.force_login(charlie)
    assert client.get("/assets/vision/clf/compare").status_code == 404
