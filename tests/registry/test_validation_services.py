import time
from datetime import timedelta

import pytest
from django.utils import timezone

from registry.kernel.audit.models import AuditEvent
from registry.kernel.lib.leases import Heartbeat
from registry.validation.models import ValidationReport
from registry.validation.services import validation_claim, validations_recover_stalled, version_validate
from registry.versions.models import AssetVersion
from tests.factories import make_asset, make_version, onnx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(alice, team, tmp_path):
    return make_version(alice, make_asset(alice, team, slug="m"), tmp_path, onnx_bytes())


def test_running_twice_records_one_outcome(version):
    assert version_validate(version_id=version.pk, task_id="t1") is True
    assert version_validate(version_id=version.pk, task_id="t1") is False
    assert version_validate(version_id=version.pk, task_id="t2") is False
    report = ValidationReport.objects.get(version=version)
    assert report.outcome == "passed" and report.attempts == 1
    assert AuditEvent.objects.filter(action="version.validated", target_id=str(version.pk)).count() == 1


def test_another_task_cannot_take_a_live_claim_but_can_take_an_expired_one(version, settings):
    assert validation_claim(version_id=version.pk, task_id="first") is not None
    assert validation_claim(version_id=version.pk, task_id="second") is None
    # The same task id, delivered again after its worker was lost, takes its claim back.
    assert validation_claim(version_id=version.pk, task_id="first") is not None
    ValidationReport.objects.filter(version=version).update(claimed_at=timezone.now() - timedelta(days=1))
    assert version_validate(version_id=version.pk, task_id="second") is True
    assert AssetVersion.objects.get(pk=version.pk).status == "validated"


def test_a_crash_loop_ends_invalid_after_max_attempts(version, settings):
    settings.MODELHUB_VALIDATION_MAX_ATTEMPTS = 2
    assert validation_claim(version_id=version.pk, task_id="t") is not None
    assert validation_claim(version_id=version.pk, task_id="t") is not None
    assert validation_claim(version_id=version.pk, task_id="t") is None
    version.refresh_from_db()
    assert version.status == "invalid"
    assert "interrupted 2 times" in version.validation.reason


def test_recovery_resends_lost_validations_only(version, alice, team, tmp_path, monkeypatch):
    fresh = make_version(alice, version.asset, tmp_path, onnx_bytes(), version="2.0.0")
    sent = []
    monkeypatch.setattr("registry.validation.services.task_send", lambda name, version_id: sent.append(version_id))
    old = timezone.now() - timedelta(hours=1)
    AssetVersion.objects.filter(pk=version.pk).update(status_changed_at=old)  # enqueued long ago, never claimed
    assert validations_recover_stalled() == [version.pk]
    assert sent == [version.pk]
    assert validations_recover_stalled() == []  # not re-sent again before a worker claims it
    # A claim past its lease is reset and re-sent; a live one is left alone.
    ValidationReport.objects.filter(version=fresh).update(task_id="dead", claimed_at=timezone.now() - timedelta(days=1))
    ValidationReport.objects.filter(version=version).update(task_id="alive", claimed_at=timezone.now())
    assert validations_recover_stalled() == [fresh.pk]
    assert ValidationReport.objects.get(version=fresh).task_id == ""


def test_dataset_csv_is_profiled_not_executed(alice, team, tmp_path):
    dataset = make_asset(alice, team, slug="d", kind="dataset")
    version = make_version(alice, dataset, tmp_path, b"a,b,label\n1,2.5,x\n3,,y\n", filename="data.csv")
    version_validate(version_id=version.pk, task_id="t")
    version.refresh_from_db()
    assert version.status == "validated"
    assert version.signature == {
        "columns": [
            {"name": "a", "type": "integer", "nulls": 0},
            {"name": "b", "type": "float", "nulls": 1},
            {"name": "label", "type": "string", "nulls": 0},
        ]
    }
    assert version.validation.details["profile"]["row_count"] == 2


def test_malformed_csv_is_invalid_with_line_number(alice, team, tmp_path):
    dataset = make_asset(alice, team, slug="d", kind="dataset")
    version = make_version(alice, dataset, tmp_path, b"a,b\n1,2\n1,2,3\n", filename="data.csv")
    version_validate(version_id=version.pk, task_id="t")
    version.refresh_from_db()
    assert version.status == "invalid" and "line 3" in version.validation.reason


def test_other_files_are_stored_and_hashed_only(alice, team, tmp_path):
    solution = make_asset(alice, team, slug="s", kind="solution")
    version = make_version(alice, solution, tmp_path, b"#!/bin/sh\nrm -rf /\n", filename="install.sh")
    version_validate(version_id=version.pk, task_id="t")
    version.refresh_from_db()
    assert version.status == "validated" and "never executed" in version.validation.reason


def test_missing_blob_fails_with_a_reason(version, _isolated_storage):
    for path in _isolated_storage.rglob(version.sha256):
        path.unlink()
    version_validate(version_id=version.pk, task_id="t")
    version.refresh_from_db()
    assert version.status == "invalid" and version.validation.failed_check == "storage"
    assert "missing" in version.validation.reason


def test_lifecycle_table_covers_every_status_and_validation_outcomes():
    from registry.versions.lifecycle import ALLOWED_TRANSITIONS, can_transition
    from registry.versions.models import VersionStatus

    assert set(ALLOWED_TRANSITIONS) == set(VersionStatus.values)
    assert can_transition("validating", "validated") and can_transition("validating", "invalid")
    assert not can_transition("validating", "approved") and not can_transition("deprecated", "validating")


@pytest.mark.django_db(transaction=True)
def test_a_heartbeat_keeps_a_live_claim_and_a_stopped_one_is_resent_after_the_lease(version, settings, monkeypatch):
    settings.MODELHUB_CLAIM_LEASE = 1
    sent = []
    monkeypatch.setattr("registry.validation.services.task_send", lambda name, version_id: sent.append(version_id))
    assert validation_claim(version_id=version.pk, task_id="slow") is not None

    def renew() -> int:
        return ValidationReport.objects.filter(version=version, task_id="slow").update(claimed_at=timezone.now())

    with Heartbeat(renew, name="test", interval=0.2) as beating:
        time.sleep(1.6)  # longer than the lease: only the heartbeat keeps the claim
        assert validations_recover_stalled() == [] and validation_claim(version_id=version.pk, task_id="other") is None
    assert beating.beats >= 5
    time.sleep(1.2)  # the worker is gone: no heartbeat for longer than the lease
    assert validations_recover_stalled() == [version.pk] and sent == [version.pk]
    # The lost worker's late outcome is dropped; the re-sent task's is the one recorded.
    assert version_validate(version_id=version.pk, task_id="resent") is True
    assert version_validate(version_id=version.pk, task_id="slow") is False
    assert AuditEvent.objects.filter(action="version.validated", target_id=str(version.pk)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_heartbeat_stops_when_its_claim_is_gone(version):
    calls = []
    with Heartbeat(lambda: calls.append(1) or 0, name="test", interval=0.05):
        time.sleep(0.5)
    assert calls == [1]  # the first beat found no claim: it stopped there
