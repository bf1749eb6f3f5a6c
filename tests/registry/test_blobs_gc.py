from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from registry.artifacts.models import Blob, blob_key
from registry.artifacts.storage import artifact_storage
from registry.assets.services import asset_delete
from tests.factories import linear_model, make_asset, make_version, onnx_bytes

pytestmark = pytest.mark.django_db


def test_gc_removes_only_old_unreferenced_blobs(alice, team, tmp_path, capsys):
    kept = make_version(alice, make_asset(alice, team, slug="kept"), tmp_path, onnx_bytes(linear_model(seed=101)))
    doomed_asset = make_asset(alice, team, slug="doomed")
    doomed = make_version(alice, doomed_asset, tmp_path, onnx_bytes(linear_model(seed=102)))
    recent = make_version(alice, make_asset(alice, team, slug="recent"), tmp_path, onnx_bytes(linear_model(seed=103)))
    asset_delete(user=alice, asset=doomed_asset)
    asset_delete(user=alice, asset=recent.asset)
    Blob.objects.exclude(sha256=recent.sha256).update(created_at=timezone.now() - timedelta(days=2))

    call_command("blobs_gc", "--dry-run")
    assert Blob.objects.filter(sha256=doomed.sha256).exists()

    call_command("blobs_gc")
    assert f"deleted {doomed.sha256}" in capsys.readouterr().out
    assert not Blob.objects.filter(sha256=doomed.sha256).exists()
    assert not artifact_storage().exists(blob_key(doomed.sha256))
    assert Blob.objects.filter(sha256=kept.sha256).exists() and artifact_storage().exists(blob_key(kept.sha256))
    assert Blob.objects.filter(sha256=recent.sha256).exists()  # too young: an upload may be using it
