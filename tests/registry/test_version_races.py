import threading

import pytest
from django.db import connection

from registry.kernel.errors import DuplicateVersion
from registry.versions.models import AssetVersion
from tests.factories import linear_model, make_asset, make_version, onnx_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_uploads_of_one_version_number_leave_exactly_one(alice, team, tmp_path):
    asset = make_asset(alice, team, slug="race")
    barrier = threading.Barrier(4)
    outcomes = []

    def attempt(seed: int) -> None:
        try:
            barrier.wait()
            make_version(alice, asset, tmp_path, onnx_bytes(linear_model(seed=seed)), version="1.0.0")
            outcomes.append("created")
        except DuplicateVersion:
            outcomes.append("duplicate")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "duplicate", "duplicate", "duplicate"]
    version = AssetVersion.objects.get(asset=asset)
    assert version.files.count() == 1 and version.validation.outcome == "pending"
