"""Keyset pages (issue 8): following `next` (and `previous`) visits every match once, in order, even among
rows whose sort keys tie; numbered pages stay for shallow pages; bad cursors are 400s."""

import base64
import json

import pytest
from django.utils import timezone

from registry.assets.models import Asset
from tests.factories import make_asset

pytestmark = pytest.mark.django_db


@pytest.fixture
def ties(alice, team):
    """25 assets with one updated_at and one created_at, five names shared by five assets each."""
    for i in range(25):
        make_asset(
            alice,
            team,
            slug=f"same-{i:02d}",
            name=f"Fraud model {i % 5}",
            tags=["same"],
            summary="fraud " * (i % 3 + 1),
        )
    moment = timezone.now()
    Asset.objects.update(updated_at=moment, created_at=moment)


def walk(api, url: str) -> list[str]:
    seen, pages = [], 0
    while url:
        body = api.get(url).json()
        seen += [item["slug"] for item in body["results"]]
        url = body["next"]
        pages += 1
        assert pages < 30
    return seen


@pytest.mark.parametrize(
    "query",
    [
        "",
        "ordering=name",
        "ordering=-name",
        "ordering=created",
        "ordering=-updated",
        "q=fraud",
        "q=fraud&ordering=-created",
        "tag=same&ordering=updated",
    ],
)
def test_following_next_visits_every_match_once_in_order(alice_api, ties, query):
    everything = [item["slug"] for item in alice_api.get(f"/api/v1/assets/?page_size=100&{query}").json()["results"]]
    assert len(everything) == 25
    assert walk(alice_api, f"/api/v1/assets/?page_size=7&{query}") == everything


def test_previous_goes_back_to_the_same_pages(alice_api, ties):
    first = alice_api.get("/api/v1/assets/?page_size=7&q=fraud").json()
    assert first["previous"] is None
    second = alice_api.get(first["next"]).json()
    third = alice_api.get(second["next"]).json()
    back = alice_api.get(third["previous"]).json()
    assert [a["slug"] for a in back["results"]] == [a["slug"] for a in second["results"]]
    again = alice_api.get(back["previous"]).json()
    assert [a["slug"] for a in again["results"]] == [a["slug"] for a in first["results"]]
    assert again["previous"] is None
    assert second["count"] == third["count"] == 25


def test_numbered_pages_still_work_for_shallow_pages(alice_api, ties):
    everything = [a["slug"] for a in alice_api.get("/api/v1/assets/?page_size=100&ordering=name").json()["results"]]
    second = alice_api.get("/api/v1/assets/?page_size=10&page=2&ordering=name").json()
    assert [a["slug"] for a in second["results"]] == everything[10:20]
    assert "page=" not in second["previous"] and "cursor=" in second["next"]
    assert [a["slug"] for a in alice_api.get(second["next"]).json()["results"]] == everything[20:]
    third = alice_api.get("/api/v1/assets/?page_size=10&page=3&ordering=name").json()
    assert "page=2" in third["previous"]


def _cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "params, message",
    [
        ({"cursor": "not-base64!"}, "cursor"),
        ({"cursor": _cursor({"k": ["x", 1]})}, "cursor"),
        ({"cursor": _cursor({"k": [1.5]})}, "cursor"),
        ({"cursor": _cursor({"k": ["2026-01-01T00:00:00", 1]})}, "cursor"),  # no time zone
        ({"cursor": _cursor({"k": ["2026-01-01T00:00:00+00:00", 2**70]})}, "cursor"),
        ({"cursor": _cursor(["list"])}, "cursor"),
        ({"cursor": "a" * 1000}, "cursor"),
        ({"cursor": [_cursor({"k": []}), "x"]}, "cursor"),
        ({"q": "fraud", "cursor": _cursor({"k": [float("nan"), 1]})}, "cursor"),
        ({"page": "2", "cursor": _cursor({"k": ["2026-01-01T00:00:00+00:00", 1]})}, "page and cursor"),
        ({"page": "1000", "page_size": "100"}, "cursor"),
        ({"page": "0"}, "page"),
        ({"page_size": "101"}, "page_size"),
    ],
)
def test_bad_cursors_and_pages_are_400(alice_api, ties, params, message):
    response = alice_api.get("/api/v1/assets/", params)
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]


def test_versions_list_is_light_and_keyset_paged(alice, team, alice_api, charlie_api):
    from tests.factories import bare_versions

    asset = make_asset(alice, team, slug="many")
    bare_versions(asset, 23)
    from registry.versions.models import AssetVersion

    AssetVersion.objects.bulk_create(
        [
            AssetVersion(
                asset=asset,
                version=v,
                major=0,
                minor=0,
                patch=22,
                prerelease=v.split("-")[1],
                is_prerelease=True,
                status="validated",
                filename="none",
                sha256="0" * 64,
                size=0,
            )
            for v in ("0.0.22-rc.1", "0.0.22-beta")
        ]
    )
    Asset.objects.filter(pk=asset.pk).update(version_count=25)
    url = "/api/v1/assets/vision/many/versions/?page_size=6"
    seen, pages = [], []
    while url:
        body = alice_api.get(url).json()
        assert body["count"] == 25
        pages.append(body)
        seen += [item["version"] for item in body["results"]]
        url = body["next"]
    assert seen == ["0.0.22", "0.0.22-rc.1", "0.0.22-beta", *[f"0.0.{n}" for n in range(21, -1, -1)]]
    item = pages[0]["results"][0]
    assert {"files", "validation", "signature", "metadata"}.isdisjoint(item)
    assert item["url"].endswith("/api/v1/assets/vision/many/versions/0.0.22/")
    back = alice_api.get(pages[2]["previous"]).json()
    assert back["results"] == pages[1]["results"]
    assert alice_api.get("/api/v1/assets/vision/many/versions/?cursor=nonsense").status_code == 400
    assert alice_api.get("/api/v1/assets/vision/many/versions/?page=2").status_code == 400
    asset.visibility = "private"
    asset.save()
    assert charlie_api.get("/api/v1/assets/vision/many/versions/").status_code == 404


def test_versions_list_runs_a_fixed_number_of_queries(alice, team, alice_api, django_assert_max_num_queries):
    from tests.factories import bare_versions

    asset = make_asset(alice, team, slug="counted")
    bare_versions(asset, 3)
    with django_assert_max_num_queries(8) as captured:
        alice_api.get("/api/v1/assets/vision/counted/versions/")
    bare_versions(asset, 60, start=3)
    with django_assert_max_num_queries(len(captured)):
        assert len(alice_api.get("/api/v1/assets/vision/counted/versions/?page_size=100").json()["results"]) == 63


def test_the_release_below_a_version_is_found_by_precedence(alice, team):
    """`version_below` (the review page's "compared with"): the newest version under the given one whose status
    is among those asked for, in semver precedence (a release above its pre-releases), not upload order."""
    from registry.versions.models import AssetVersion
    from registry.versions.selectors import version_below

    asset = make_asset(alice, team, slug="ranked")
    made = {}
    for number, status in (
        ("2.0.0", "approved"),
        ("1.0.0", "approved"),
        ("2.1.0-rc.1", "approved"),
        ("2.1.0", "in_review"),
        ("1.5.0", "deprecated"),
        ("2.0.1", "rejected"),
    ):
        major, minor, rest = number.split(".", 2)
        patch, _, pre = rest.partition("-")
        made[number] = AssetVersion.objects.create(
            asset=asset,
            version=number,
            major=int(major),
            minor=int(minor),
            patch=int(patch),
            prerelease=pre,
            is_prerelease=bool(pre),
            status=status,
            filename="m.onnx",
            sha256="0" * 64,
            size=1,
        )

    def below(number, statuses=("approved", "deprecated")):
        found = version_below(version=made[number], statuses=statuses)
        return found.version if found else None

    assert below("2.1.0") == "2.1.0-rc.1"
    assert below("2.1.0-rc.1") == "2.0.0"  # 2.0.1 is rejected
    assert below("2.0.0") == "1.5.0"
    assert below("2.0.0", statuses=("approved",)) == "1.0.0"
    assert below("1.0.0") is None
