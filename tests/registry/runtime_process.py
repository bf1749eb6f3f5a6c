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
from tests.registry.endpoint_fixtures import worker_env_for_runtime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_runtime(port: int, state_dir, log_path, *, portal_url: str, extra_env: dict | None = None):
    """`python -m registry.runtime` on 127.0.0.1:`port` with `state_dir`, asking `portal_url` about credentials;
    returns the process once it answers (its log appended to `log_path`)."""
    env = {
        **os.environ,
        "MODELHUB_RUNTIME_SECRET": django_settings.MODELHUB_RUNTIME_SECRET,
        "MODELHUB_RUNTIME_AUTH_TTL": "1",
        **(extra_env or {}),
    }
    with open(log_path, "a") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "registry.runtime", "--port", str(port), "--state-dir", str(state_dir),
             "--portal-url", portal_url],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    client = triton.InferenceServerClient(f"127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while True:
        try:
            if client.is_server_live():
                return process
        except Exception:
            pass
        assert process.poll() is None and time.monotonic() < deadline, open(log_path).read()[-3000:]
        time.sleep(0.1)


@pytest.fixture
def live_runtime(live_server, tmp_path, live_runtime_env):
    """The real runtime on a free port: (url, port, log path)."""
    port, log = free_port(), tmp_path / "runtime.log"
    process = start_runtime(
        port, tmp_path / "runtime-state", log, portal_url=live_server.url, extra_env=live_runtime_env
    )
    yield f"http://127.0.0.1:{port}", port, log
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture
def live_runtime_worker_env(live_runtime, settings, tmp_path):
    """The environment a Celery worker needs to provision endpoints on `live_runtime`."""
    return worker_env_for_runtime(live_runtime[0], settings, tmp_path)
