"""An asset's release status (`Asset.status`, the catalogue's "status" facet) follows its versions through every
service that moves them, is filtered and counted like the other facets by both search backends, and stays
right when two versions of one asset change at the same moment."""

import io
import threading
from importlib import import_module

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from registry.assets.models import Asset, ReleaseStatus
from registry.governance.services import review_submit, version_deprecate, version_submit
from registry.validation.services import validation_claim, validation_finish
from registry.versions.models import VersionStatus
from registry.versions.release import asset_lock, asset_release_refresh, release_status
from tests.factories import make_asset, make_validated_version, make_version, onnx_bytes
from tests.registry.test_search_semantics import both_backends

pytestmark = pytest.mark.django_db


def status_of(asset) -> str:
    return Asset.objects.values_list("status", flat=True).get(pk=asset.pk)


def validated(version, *, passed: bool = True) -> None:
    """What the validation task does with a version: claim it, then record the outcome."""
    assert validation_claim(version_id=version.pk, task_id=f"t-{version.pk}") is not None
    assert validation_finish(
        version_id=version.pk,
        task_id=f"t-{version.pk}",
        passed=passed,
        reason="checked" if passed else "broken",
        failed_check="" if passed else "checker",
    )


def facet(body, name="status") -> dict:
    return {row["value"]: row["count"] for row in body["facets"][name]}


def test_the_release_statuses_are_the_version_statuses():
    assert set(ReleaseStatus.values) == set(VersionStatus.values)


def test_the_furthest_status_wins():
    assert release_status([]) == ""
    assert release_status(["deprecated", "invalid"]) == "invalid"
    assert release_status(["validating", "approved", "rejected"]) == "approved"
    assert release_status(["rejected", "in_review"]) == "in_review"


def test_the_status_follows_uploads_validation_reviews_and_deprecation(alice, bob, dave, team, tmp_path):
    asset = make_asset(alice, team, slug="clf", license="MIT")
    assert status_of(asset) == ""
    first = make_version(alice, asset, tmp_path, onnx_bytes(), version="1.0.0")
    assert status_of(asset) == "validating"
    validated(first)
    assert status_of(asset) == "validated"
    release = make_validated_version(alice, asset, tmp_path, version="1.0.1")  # carded, so it can be submitted
    version_submit(user=bob, version=release)
    assert status_of(asset) == "in_review"
    review_submit(user=dave, version=release, decision="approve", comment="Reproduced.")
    assert status_of(asset) == "approved"
    second = make_version(alice, asset, tmp_path, onnx_bytes(), version="2.0.0")
    assert status_of(asset) == "approved"  # a newer upload does not hide a usable release
    validated(second, passed=False)
    version_deprecate(user=alice, version=release, reason="Superseded.")
    assert status_of(asset) == "validated"  # 1.0.0 is still validated
    version_deprecate(user=alice, version=first, reason="Old.")
    assert status_of(asset) == "invalid"  # 2.0.0 failed; the others are deprecated


def test_the_status_facet_filters_and_counts_like_the_others(
    alice, bob, charlie, dave, team, tmp_path, bob_api, charlie_api
):
    approved = make_asset(alice, team, slug="approved-one", license="MIT", tags=["fraud"])
    version = make_validated_version(alice, approved, tmp_path)
    version_submit(user=bob, version=version)
    review_submit(user=dave, version=version, decision="approve", comment="Fine.")
    checked = make_asset(alice, team, slug="validated-one", license="MIT", tags=["fraud"])
    make_validated_version(alice, checked, tmp_path)
    secret = make_asset(alice, team, slug="secret-one", license="MIT", visibility="private", tags=["fraud"])
    make_validated_version(alice, secret, tmp_path)
    make_asset(alice, team, slug="empty-one", tags=["fraud"])

    body = bob_api.get("/api/v1/assets/?status=approved").json()
    assert [item["slug"] for item in body["results"]] == ["approved-one"]
    assert body["results"][0]["status"] == "approved"
    # Disjunctive: the status facet leaves its own filter out, so the other statuses stay offered.
    assert facet(body) == {"approved": 1, "validated": 2}
    assert facet(body, "kind") == {"model": 1}
    assert facet(bob_api.get("/api/v1/assets/?q=fraud&status=validated").json()) == {"approved": 1, "validated": 2}
    assert facet(charlie_api.get("/api/v1/assets/?status=validated").json()) == {"approved": 1, "validated": 1}
    assert bob_api.get(f"/api/v1/assets/{team.slug}/approved-one/").json()["status"] == "approved"

    for user in (bob, charlie):
        for params in (
            {},
            {"status": "approved"},
            {"status": "validated", "q": "fraud"},
            {"kind": "model"},
            {"status": "validated", "tag": "fraud"},
        ):
            postgres, fallback = both_backends(user, params)
            assert postgres == fallback, (user.username, params)

    refused = bob_api.get("/api/v1/assets/?status=shipped")
    assert refused.status_code == 400 and "status" in refused.json()["detail"]


def test_the_migration_fills_the_status_and_the_counts(alice, bob, team, tmp_path):
    asset = make_asset(alice, team, slug="clf", license="MIT")
    make_validated_version(alice, asset, tmp_path)
    Asset.objects.filter(pk=asset.pk).update(status="")
    migration = import_module("marketplace.migrations.0011_asset_status")

    def today(sql: str) -> str:  # the migration's statements, on the tables' names since registry 0011
        return sql.replace("marketplace_", "registry_")

    with connection.cursor() as cursor:
        cursor.execute(today(migration.FILL_SQL))
        if connection.vendor == "postgresql":
            cursor.execute("DELETE FROM registry_facetcount")
            cursor.execute(today(migration.FACET_COUNTS_SQL))
    assert status_of(asset) == "validated"
    postgres, fallback = both_backends(bob, {"status": "validated"})
    assert postgres == fallback and postgres["count"] == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_to_two_versions_of_one_asset_leave_the_right_status(alice, team, tmp_path, monkeypatch):
    """Two validations failing at once: the second recounts after the first committed. Without the asset lock
    both would recount while the other's version still looked `validating` (the pause below lets both get
    there), and the asset would stay `validating`. With it, the second waits at the lock and the pause
    times out."""
    asset = make_asset(alice, team, slug="race")
    versions = [make_version(alice, asset, tmp_path, onnx_bytes(), version=f"1.0.{n}") for n in range(2)]
    for version in versions:
        assert validation_claim(version_id=version.pk, task_id=f"t-{version.pk}") is not None
    barrier, both_changed = threading.Barrier(2), threading.Barrier(2, timeout=1)
    errors = []

    def paused_refresh(locked_asset) -> None:
        try:
            both_changed.wait()
        except threading.BrokenBarrierError:
            pass
        asset_release_refresh(locked_asset)

    monkeypatch.setattr("registry.validation.services.asset_release_refresh", paused_refresh)

    def finish(version) -> None:
        try:
            barrier.wait()
            validation_finish(
                version_id=version.pk, task_id=f"t-{version.pk}", passed=False, reason="broken", failed_check="checker"
            )
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=finish, args=(version,)) for version in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert status_of(asset) == "invalid"
    with transaction.atomic():
        asset_release_refresh(asset_lock(asset.pk))  # a recount changes nothing
    assert status_of(asset) == "invalid"


def test_the_rebuild_command_recomputes_statuses_and_counts(alice, bob, team, tmp_path):
    checked = make_asset(alice, team, slug="clf", license="MIT", tags=["fraud"])
    make_validated_version(alice, checked, tmp_path)
    empty = make_asset(alice, team, slug="empty", tags=["fraud"])
    Asset.objects.filter(pk=checked.pk).update(status="")
    Asset.objects.filter(pk=empty.pk).update(status="approved")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM registry_facetcount")
    call_command("search_rebuild", stdout=io.StringIO())
    assert (status_of(checked), status_of(empty)) == ("validated", "")
    for params in ({}, {"status": "validated"}, {"kind": "model"}):
        postgres, fallback = both_backends(bob, params)
        assert postgres == fallback and postgres["count"] == (2 if not params.get("status") else 1), params


def test_an_edit_keeps_what_other_services_changed_since_the_editor_read_the_asset(alice, bob, team, tmp_path):
    """The editor's copy was read before a version landed: the edit writes its own fields only, and the search
    counts move from the stored row, not from the copy (a stale status would leave a count behind)."""
    from registry.assets.services import asset_update

    asset = make_asset(alice, team, slug="clf", license="MIT")
    stale = Asset.objects.select_related("team").get(pk=asset.pk)
    make_validated_version(alice, asset, tmp_path)
    edited = asset_update(user=alice, asset=stale, fields={"summary": "edited", "tags": ["vision"]})
    stored = Asset.objects.get(pk=asset.pk)
    assert (stored.summary, stored.tags_text) == ("edited", "vision")
    assert (stored.status, stored.latest_version, stored.version_count) == ("validated", "1.0.0", 1)
    assert (edited.status, edited.version_count) == ("validated", 1)
    postgres, fallback = both_backends(bob, {"status": "validated"})
    assert postgres == fallback and postgres["count"] == 1
    assert facet(postgres) == facet(fallback)
