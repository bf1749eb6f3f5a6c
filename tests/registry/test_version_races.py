import hashlib
import threading

import pytest
from django.db import connection

from registry.kernel.errors import Conflict, DuplicateVersion, InvalidInput
from registry.uploads.models import UploadSession
from registry.uploads.services import upload_session_complete, upload_session_create, upload_session_verify
from registry.uploads.staging import LocalStaging
from registry.versions.models import AssetVersion
from registry.versions.services import version_create
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


def test_two_versions_racing_for_one_upload_session_leave_one(alice, team, settings, monkeypatch):

    monkeypatch.setattr("registry.uploads.services.task_send_on_commit", lambda name, session_id: None)
    asset = make_asset(alice, team, slug="racing", kind="dataset")
    data = b"rows\n" * 1000
    session = upload_session_create(user=alice, asset=asset, filename="rows.csv", size=len(data))
    LocalStaging.path(session).write_bytes(data)
    session.parts.create(number=1, size=len(data))
    upload_session_complete(user=alice, session=session, sha256=hashlib.sha256(data).hexdigest())
    upload_session_verify(str(session.pk))
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt(number: str) -> None:
        try:
            barrier.wait()
            version_create(
                user=alice, asset=asset, version=number, uploads=[{"path": "rows.csv", "upload": session.pk}]
            )
            outcomes.append("created")
        except (Conflict, InvalidInput):
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(number,)) for number in ("1.0.0", "1.1.0")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "refused"]
    assert AssetVersion.objects.filter(asset=asset).count() == 1 and not UploadSession.objects.exists()
