"""A worker that shuts down warm hands its claimed jobs back at once (registry/kernel/lib/draining.py)."""

import os
import signal
import subprocess
import threading
import time

import billiard
import psutil
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.kernel.audit.models import AuditEvent
from registry.kernel.lib import draining
from registry.kernel.lib.draining import (
    DRAIN_SIGNAL,
    WorkerDraining,
    drain_pool_processes,
    install_drain_handler,
    interruptible,
    keep_drain_handler,
    worker_draining,
)
from registry.validation.models import ValidationReport
from registry.versions.models import AssetVersion
from tests.conftest import (
    process_gone,
    replacement_worker,
    report_figure,
    wait_until,
    worker_log_count,
)
from tests.factories import endless_loop_model, make_asset, make_version, onnx_bytes


@pytest.fixture
def drain_handler(monkeypatch):
    """The drain handler installed in this process, with a fresh state; the previous handler is put back after."""
    previous = signal.getsignal(DRAIN_SIGNAL)
    monkeypatch.setattr(draining, "_state", draining._State())
    install_drain_handler()
    yield
    signal.signal(DRAIN_SIGNAL, previous)


def drain_me() -> None:
    os.kill(os.getpid(), DRAIN_SIGNAL)
    time.sleep(0.5)  # the handler runs at once (the sleep is interrupted); nothing is left to run after it


def test_a_drain_signal_interrupts_an_interruptible_block(drain_handler):
    reached = []
    with pytest.raises(WorkerDraining), interruptible():
        drain_me()
        reached.append("after the signal")
    assert reached == [] and worker_draining()


def test_outside_a_block_it_only_marks_the_process_and_the_next_block_raises_on_entry(drain_handler):
    drain_me()  # no exception: work outside a block (recording an outcome) runs to its end
    assert worker_draining()
    entered = []
    with pytest.raises(WorkerDraining), interruptible():
        entered.append(True)
    assert entered == []
    with pytest.raises(WorkerDraining), interruptible():  # every block after it
        entered.append(True)
    assert entered == []


def test_the_handler_raises_once_so_the_cleanup_it_starts_is_not_cut(drain_handler):
    cleaned = []
    with pytest.raises(WorkerDraining), interruptible():
        try:
            drain_me()
        finally:
            drain_me()  # a second warm shutdown signal while the sandbox is killed
            cleaned.append(True)
    assert cleaned == [True]


def test_a_replaced_handler_is_put_back_before_the_next_task_and_none_is_installed_elsewhere(
    drain_handler, monkeypatch
):
    signal.signal(DRAIN_SIGNAL, signal.SIG_IGN)  # what billiard's reset_signals does with sigprotection
    keep_drain_handler()
    assert signal.getsignal(DRAIN_SIGNAL) is draining._on_drain
    monkeypatch.setattr(draining, "_state", draining._State())  # a process that never installed it
    signal.signal(DRAIN_SIGNAL, signal.SIG_IGN)
    keep_drain_handler()
    assert signal.getsignal(DRAIN_SIGNAL) is signal.SIG_IGN


def _pool_process(done) -> None:
    install_drain_handler()
    try:
        with interruptible():
            time.sleep(30)
    except WorkerDraining:
        done.set()


def test_drain_pool_processes_signals_the_pool_processes_only():
    done = billiard.Event()
    pool = billiard.Process(target=_pool_process, args=(done,), name="ForkPoolWorker-1")
    other = billiard.Process(target=time.sleep, args=(30,), name="Beat")  # handles no drain signal
    pool.start()
    other.start()
    try:
        time.sleep(0.5)  # the handler installed
        assert drain_pool_processes() == [pool.pid]
        assert done.wait(5), "the pool process was not interrupted"
        pool.join(5)
        assert pool.exitcode == 0 and other.is_alive()
    finally:
        for process in (pool, other):
            if process.is_alive():
                process.terminate()
            process.join(5)


def _sandboxes(process: psutil.Process) -> list[psutil.Process]:
    return [p for p in process.children(recursive=True) if "registry.validation.sandbox" in " ".join(p.cmdline())]


def test_an_interrupted_sandbox_run_kills_its_child_before_it_raises(drain_handler, tmp_path):
    """The sandbox child is gone when WorkerDraining leaves sandbox_run, with its parent (this process) alive: the
    `finally` killed it, not PR_SET_PDEATHSIG."""
    from registry.validation.sandbox import MODEL, SandboxLimits, sandbox_run

    model = tmp_path / "files" / "model.onnx"
    model.parent.mkdir()
    model.write_bytes(onnx_bytes(endless_loop_model()))
    limits = SandboxLimits(memory_bytes=2 << 30, cpu_seconds=60, smoke_seconds=60, wall_seconds=60, file_bytes=1 << 30)
    seen = []

    def drain_once_running() -> None:
        while not (found := _sandboxes(psutil.Process())):
            time.sleep(0.05)
        seen.extend(found)
        time.sleep(1)  # into the check
        os.kill(os.getpid(), DRAIN_SIGNAL)

    drainer = threading.Thread(target=drain_once_running, daemon=True)
    drainer.start()
    started = time.monotonic()
    with pytest.raises(WorkerDraining), interruptible():
        sandbox_run(MODEL, model, root=model.parent, filename="model.onnx", limits=limits, workdir=tmp_path / "sb")
    assert time.monotonic() - started < 30
    assert seen and all(process_gone(p) for p in seen), "the sandbox child outlived the interrupted run"
    drainer.join(5)


# --- the tasks hand the job back -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_drained_validation_releases_its_claim_and_sends_its_job_again(
    drain_handler, alice, team, tmp_path, monkeypatch
):
    from registry.validation.services import version_validate
    from registry.validation.tasks import version_validate_task

    version = make_version(alice, make_asset(alice, team, slug="m"), tmp_path, onnx_bytes())
    sent = []
    monkeypatch.setattr("registry.validation.services.task_send", lambda name, *args: sent.append((name, *args)))
    draining._state.draining = True  # the signal arrived before the files were copied
    assert version_validate_task.apply(args=[version.pk]).successful()  # returns: its message is acked
    report = ValidationReport.objects.get(version=version)
    assert (report.task_id, report.claimed_at, report.attempts, report.outcome) == ("", None, 0, "pending")
    assert sent == [("registry.validation.tasks.version_validate_task", version.pk)]
    assert AssetVersion.objects.get(pk=version.pk).status == "validating"

    draining._state.draining = False  # the next worker
    assert version_validate(version_id=version.pk, task_id="next") is True
    report.refresh_from_db()
    assert report.outcome == "passed" and report.attempts == 1  # the interrupted attempt is not counted


@pytest.mark.django_db
def test_a_drained_provisioning_releases_its_claim_and_sends_its_job_again(
    drain_handler, alice, bob, dave, team, tmp_path, settings, monkeypatch
):
    from registry.endpoints.models import Endpoint
    from registry.endpoints.services import endpoint_create
    from registry.endpoints.tasks import endpoint_provision_task
    from tests.registry.endpoint_fixtures import approved_model

    settings.MODELHUB_RUNTIME_MODELS_DIR = str(tmp_path / "runtime-models")
    settings.MODELHUB_RUNTIME_URL = "http://127.0.0.1:9"  # never reached: the drain comes first
    approved_model(alice, team, tmp_path, submitter=bob, reviewer=dave)
    ((endpoint, _key),) = endpoint_create(user=bob, team=team, asset="vision/clf", version="1.0.0")
    sent = []
    monkeypatch.setattr(
        "registry.endpoints.services.provisioning.task_send", lambda name, *args: sent.append((name, *args))
    )
    draining._state.draining = True
    assert endpoint_provision_task.apply(args=[endpoint.pk]).successful()
    endpoint = Endpoint.objects.get(pk=endpoint.pk)
    assert (endpoint.task_id, endpoint.claimed_at, endpoint.attempts) == ("", None, 0)
    assert endpoint.status == "provisioning"  # still work to do, for the next worker
    assert sent == [("registry.endpoints.tasks.endpoint_provision_task", endpoint.pk)]


# --- a real worker on the real broker ------------------------------------------------------------------


LEASE = 60  # long, so that an outcome before it cannot be the lease's doing


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.parametrize(
    "celery_worker_env", [{"MODELHUB_CLAIM_LEASE": str(LEASE), "MODELHUB_SMOKE_TIME_LIMIT": "120"}]
)
def test_a_worker_shut_down_warm_mid_validation_hands_the_job_to_the_next_at_once(
    celery_worker, celery_worker_env, alice, team, alice_api, settings, tmp_path
):
    """SIGTERM (a Kubernetes pod stopping) while the sandbox runs a ~17 s smoke inference: the worker kills the
    sandbox, releases the claim, sends the job again and exits within seconds, not after the inference; a new
    worker then validates it with no recovery sweep, long before the lease would have run out."""
    settings.MODELHUB_CLAIM_LEASE = LEASE
    make_asset(alice, team, slug="long")
    response = alice_api.post(
        "/api/v1/assets/vision/long/versions/",
        {"version": "1.0.0", "file": SimpleUploadedFile("model.onnx", onnx_bytes(endless_loop_model(16_000_000)))},
        format="multipart",
    )
    assert response.status_code == 202
    worker = psutil.Process(celery_worker.pid)
    sandboxes = wait_until(lambda: _sandboxes(worker), timeout=60, every=0.05, log=celery_worker.log_path)
    time.sleep(1.5)  # into the smoke inference
    first = ValidationReport.objects.get(version__asset__slug="long")
    assert first.task_id and first.attempts == 1

    celery_worker.send_signal(signal.SIGTERM)
    sigterm_at = time.monotonic()
    try:
        celery_worker.wait(timeout=8)  # the inference alone has ~15 s left: without draining, no exit in time
    except subprocess.TimeoutExpired:
        pytest.fail(f"the worker did not exit within 8 s of SIGTERM:\n{celery_worker.log_path.read_text()[-3000:]}")
    exited = time.monotonic() - sigterm_at
    assert celery_worker.returncode == 0, celery_worker.log_path.read_text()[-3000:]
    _, alive = psutil.wait_procs(sandboxes, timeout=1)
    assert all(process_gone(p) for p in alive), "the sandbox outlived its worker"
    report = ValidationReport.objects.get(version__asset__slug="long")
    assert (report.task_id, report.claimed_at, report.attempts) == ("", None, 0), "the claim was not handed back"
    assert worker_log_count(celery_worker, "validation handed back to the queue, the worker is shutting down") == 1
    assert AssetVersion.objects.get(asset__slug="long").status == "validating"

    with replacement_worker(tmp_path, celery_worker_env) as replacement:
        reclaimed = wait_until(
            lambda: (
                ValidationReport.objects.filter(version__asset__slug="long").exclude(task_id="").exists()
                and time.monotonic() - sigterm_at
            ),
            timeout=30,
            every=0.1,
            log=replacement.log_path,
        )
        # No sweep runs here: only the message sent back can bring the job to the new worker.
        wait_until(
            lambda: AssetVersion.objects.get(asset__slug="long").status != "validating",
            timeout=LEASE - (time.monotonic() - sigterm_at),
            every=0.25,
            log=replacement.log_path,
        )
        outcome = time.monotonic() - sigterm_at
    report = ValidationReport.objects.get(version__asset__slug="long")
    assert AssetVersion.objects.get(asset__slug="long").status == "validated", report.reason
    assert report.attempts == 1 and report.task_id != first.task_id  # the interrupted attempt is not counted
    assert AuditEvent.objects.filter(action="version.validated").count() == 1
    report_figure(
        f"warm shutdown mid-validation: the worker exited {exited:.1f} s after SIGTERM, a new worker claimed the job "
        f"{reclaimed:.1f} s after it and validated it {outcome:.1f} s after it (lease {LEASE} s, no sweep)"
    )
