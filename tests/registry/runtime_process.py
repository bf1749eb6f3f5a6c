"""The real inference runtime (`python -m registry.runtime`) as a subprocess, for tests that serve for real.

Import the fixtures into a test module (`from tests.registry.runtime_process import live_runtime,
live_runtime_worker_env`) and make that module's `celery_worker_env` return `live_runtime_worker_env`, so
the worker provisions endpoints on this runtime, which asks the live portal about every credential.
"""

import os
import socket
import subprocess
import sys
import time

import pytest
import tritonclient.http as triton
from django.conf import settings as django_settings

from tests.conftest import REPO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_runtime(live_server, tmp_path, live_runtime_env):
    """The real runtime on a free port: (url, port, log path)."""
    port = free_port()
    log = open(tmp_path / "runtime.log", "w")
    env = {
        **os.environ,
        "MODELHUB_RUNTIME_SECRET": django_settings.MODELHUB_RUNTIME_SECRET,
        "MODELHUB_RUNTIME_AUTH_TTL": "1",
        **live_runtime_env,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "registry.runtime",
            "--port",
            str(port),
            "--state-dir",
            str(tmp_path / "runtime-state"),
            "--portal-url",
            live_server.url,
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client = triton.InferenceServerClient(f"127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while True:
        try:
            if client.is_server_live():
                break
        except Exception:
            pass
        assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "runtime.log").read_text()
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}", port, tmp_path / "runtime.log"
    process.terminate()
    process.wait(timeout=20)
    log.close()


@pytest.fixture
def live_runtime_worker_env(live_runtime, settings, tmp_path):
    """The environment a Celery worker needs to provision endpoints on `live_runtime`."""
    url, _port, _log = live_runtime
    settings.MODELHUB_RUNTIME_MODELS_DIR = str(tmp_path / "runtime-models")
    return {
        "MODELHUB_RUNTIME_URL": url,
        "MODELHUB_RUNTIME_PUBLIC_URL": url,
        "MODELHUB_RUNTIME_MODELS_DIR": settings.MODELHUB_RUNTIME_MODELS_DIR,
        "MODELHUB_RUNTIME_SECRET": settings.MODELHUB_RUNTIME_SECRET,
    }
