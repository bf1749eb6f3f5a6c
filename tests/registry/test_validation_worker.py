"""Validation through a real Celery worker on the real broker (Redis), against PostgreSQL."""

import shutil
import subprocess
import time

import psutil
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.kernel.audit.models import AuditEvent
from registry.validation.models import ValidationReport
from registry.validation.tasks import version_validate_task
from registry.versions.models import AssetVersion
from tests.conftest import (
    kill_worker,
    process_gone,
    replacement_worker,
    report_figure,
    require_real_services,
    start_celery_worker,
    stop_celery_worker,
    wait_for_status,
    wait_until,
    worker_log_count,
)
from tests.factories import endless_loop_model, linear_model, make_asset, memory_bomb_model, onnx_bytes
from tests.s3 import BUCKET, S3Server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def upload(client, slug, content, version="1.0.0"):
    return client.post(
        f"/api/v1/assets/vision/{slug}/versions/",
        {"version": version, "file": SimpleUploadedFile("model.onnx", content)},
        format="multipart",
    )


def wait_for_log(process, text: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while worker_log_count(process, text) < count:
        assert time.monotonic() < deadline, process.log_path.read_text()[-3000:]
        time.sleep(0.2)


def test_upload_is_validated_by_the_worker(celery_worker, alice, team, alice_api):
    make_asset(alice, team, slug="iris")
    response = upload(alice_api, "iris", onnx_bytes(linear_model(5, 2)))
    assert response.status_code == 202 and response.json()["status"] == "validating"
    data = wait_for_status(alice_api, "/api/v1/assets/vision/iris/versions/1.0.0/")
    assert data["status"] == "validated", (data["validation"], celery_worker.log_path.read_text()[-3000:])
    assert data["signature"] == {
        "inputs": [{"name": "x", "dtype": "float32", "shape": ["batch", 5]}],
        "outputs": [{"name": "y", "dtype": "float32", "shape": ["batch", 2]}],
    }
    assert data["validation"]["details"]["smoke_inference"]["seconds"] > 0


def test_duplicate_deliveries_record_one_outcome(celery_worker, alice, team, alice_api):
    make_asset(alice, team, slug="dup")
    assert upload(alice_api, "dup", onnx_bytes(linear_model(6, 2))).status_code == 202
    version = AssetVersion.objects.get(asset__slug="dup")
    extra = [version_validate_task.delay(version.pk).id for _ in range(2)]
    assert wait_for_status(alice_api, "/api/v1/assets/vision/dup/versions/1.0.0/")["status"] == "validated"
    for task_id in extra:
        wait_for_log(celery_worker, f"[{task_id}] succeeded", 1)
    assert ValidationReport.objects.get(version=version).attempts == 1
    assert AuditEvent.objects.filter(action="version.validated", target_id=str(version.pk)).count() == 1


def test_storage_outage_is_retried_until_storage_is_back(transactional_db, alice, team, alice_api, settings, tmp_path):
    """S3 goes away between upload and validation; the worker retries and validates once it is back."""
    require_real_services()
    s3 = S3Server().start()
    s3.client().create_bucket(Bucket=BUCKET)
    settings.STORAGES = {**settings.STORAGES, "artifacts": s3.storage_settings()}
    make_asset(alice, team, slug="s3m")
    assert upload(alice_api, "s3m", onnx_bytes(linear_model(3, 3))).status_code == 202  # queued, no worker yet
    s3.stop()  # moto keeps its objects in this process; only the endpoint goes away
    worker = start_celery_worker(
        tmp_path / "s3-worker.log",
        queue=settings.CELERY_TASK_DEFAULT_QUEUE,
        extra_env={**s3.env(), "MODELHUB_VALIDATION_RETRY_DELAY": "1"},
    )
    try:
        wait_for_log(worker, "Retry in", 1)
        assert AssetVersion.objects.get(asset__slug="s3m").status == "validating"
        s3.start()
        data = wait_for_status(alice_api, "/api/v1/assets/vision/s3m/versions/1.0.0/")
        assert data["status"] == "validated", (data["validation"], worker.log_path.read_text()[-3000:])
        assert data["validation"]["attempts"] == 1  # a storage retry is not a failed attempt
    finally:
        stop_celery_worker(worker)
        s3.stop()


def worker_rss(process) -> int:
    """Resident memory of the worker and its pool processes (the sandbox children are gone by then)."""
    parent = psutil.Process(process.pid)
    return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])


@pytest.mark.parametrize(
    "celery_worker_env", [{"MODELHUB_VALIDATION_MAX_MEMORY": "1GiB", "MODELHUB_SMOKE_TIME_LIMIT": "2"}]
)
def test_hostile_models_end_invalid_and_cost_the_worker_nothing(celery_worker, alice, team, alice_api):
    make_asset(alice, team, slug="warm")
    assert upload(alice_api, "warm", onnx_bytes(linear_model(4, 2))).status_code == 202
    assert wait_for_status(alice_api, "/api/v1/assets/vision/warm/versions/1.0.0/")["status"] == "validated"
    baseline = worker_rss(celery_worker)

    hostile = {
        "bomb": (memory_bomb_model(1 << 31), "The smoke inference needed more than 1 GiB of memory"),
        "loop": (endless_loop_model(), "The smoke inference did not finish within 2 s."),
    }
    for slug, (model, _reason) in hostile.items():
        make_asset(alice, team, slug=slug)
        assert upload(alice_api, slug, onnx_bytes(model)).status_code == 202
    for slug, (_model, reason) in hostile.items():
        data = wait_for_status(alice_api, f"/api/v1/assets/vision/{slug}/versions/1.0.0/")
        assert data["status"] == "invalid", (data["validation"], celery_worker.log_path.read_text()[-3000:])
        assert data["validation"]["reason"].startswith(reason)
        assert data["validation"]["attempts"] == 1
    # 8 GiB asked for by the bomb, none of it in the worker: it grows by no more than noise.
    assert worker_rss(celery_worker) - baseline < 64 * 1024 * 1024


def _sandboxes(process: psutil.Process) -> list[psutil.Process]:
    return [p for p in process.children(recursive=True) if "registry.validation.sandbox" in " ".join(p.cmdline())]


@pytest.mark.parametrize("celery_worker_env", [{"MODELHUB_CLAIM_LEASE": "6", "MODELHUB_HEARTBEAT_INTERVAL": "1"}])
def test_a_worker_killed_mid_validation_is_replaced_within_seconds(
    celery_worker, celery_worker_env, alice, team, alice_api, settings, tmp_path
):
    """SIGKILL (an out-of-memory kill, a drained node) while the sandbox runs: the sandbox dies with the worker, the
    claim's heartbeat stops, and once its lease (6 s here, 30 s by default) has run out the sweep sends the job to
    the next worker, which records the one outcome."""
    from registry.validation.services import validations_recover_stalled

    settings.MODELHUB_CLAIM_LEASE = 6
    make_asset(alice, team, slug="slow")
    assert upload(alice_api, "slow", onnx_bytes(endless_loop_model(5_000_000))).status_code == 202  # ~5 s to run
    worker = psutil.Process(celery_worker.pid)
    deadline = time.monotonic() + 60
    while not (sandboxes := _sandboxes(worker)):
        assert time.monotonic() < deadline, celery_worker.log_path.read_text()[-3000:]
        time.sleep(0.05)
    time.sleep(1.5)  # into the smoke inference, which writes nothing to the worker for seconds (no SIGPIPE)
    killed_at = kill_worker(celery_worker, spare=sandboxes)  # the worker and its pool, not the sandbox
    _, alive = psutil.wait_procs(sandboxes, timeout=1.5)  # it would run for seconds more on its own
    assert all(process_gone(p) for p in alive), "the sandbox outlived its worker"
    assert ValidationReport.objects.get(version__asset__slug="slow").task_id  # the dead worker's claim is still there

    with replacement_worker(tmp_path, celery_worker_env) as replacement:
        wait_until(
            lambda: AssetVersion.objects.get(asset__slug="slow").status != "validating",
            timeout=120,
            tick=validations_recover_stalled,  # what celery beat runs every MODELHUB_RECOVERY_INTERVAL
            log=replacement.log_path,
        )
        recovered = time.monotonic() - killed_at
    report = ValidationReport.objects.get(version__asset__slug="slow")
    assert report.version.status == "validated" and report.attempts == 2, report.reason
    assert AuditEvent.objects.filter(action="version.validated").count() == 1
    report_figure(
        f"validation recovered {recovered:.1f} s after its worker was killed (lease 6 s; a new worker started)"
    )


def _redis(*args: str) -> bool:
    done = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", *args], capture_output=True, text=True)
    return done.returncode == 0 and "PONG" in done.stdout


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server to stop and start the broker")
@pytest.mark.parametrize("celery_worker_env", [{"MODELHUB_UNCLAIMED_GRACE": "10"}])
def test_uploads_while_the_broker_is_down_all_end_validated_once(
    celery_worker, celery_worker_env, alice, team, alice_api, settings
):
    """Redis stopped for 30 s while uploads arrive: each upload is still a 202 (its task could not be sent), and once
    the broker is back the sweep sends them again (the worker reconnects on its own): all validated, each once."""
    from registry.validation.services import validations_recover_stalled

    if not settings.CELERY_BROKER_URL.startswith("redis://127.0.0.1:6379"):
        pytest.skip("the broker of this run is not the local Redis this test stops")
    settings.MODELHUB_UNCLAIMED_GRACE = 10
    slugs = [f"outage-{i}" for i in range(3)]
    for slug in slugs:
        make_asset(alice, team, slug=slug)
    _redis("shutdown", "nosave")
    stopped = time.monotonic()
    try:
        for i, slug in enumerate(slugs):
            started = time.monotonic()
            assert upload(alice_api, slug, onnx_bytes(linear_model(3 + i, 2))).status_code == 202
            assert time.monotonic() - started < 10  # the upload does not hang on the broker
        time.sleep(max(0.0, 30 - (time.monotonic() - stopped)))
    finally:
        subprocess.run(
            ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", ""], check=True
        )
        while not _redis("ping"):
            time.sleep(0.1)
    back = time.monotonic()
    while AssetVersion.objects.filter(asset__slug__in=slugs, status="validating").exists():
        assert time.monotonic() - back < 120, celery_worker.log_path.read_text()[-3000:]
        validations_recover_stalled()  # what celery beat runs every MODELHUB_RECOVERY_INTERVAL
        time.sleep(1)
    recovered = time.monotonic() - back
    assert set(AssetVersion.objects.filter(asset__slug__in=slugs).values_list("status", flat=True)) == {"validated"}
    assert AuditEvent.objects.filter(action="version.validated").count() == 3
    report_figure(f"broker down 30 s: the 3 uploads made meanwhile were validated {recovered:.1f} s after it came back")
