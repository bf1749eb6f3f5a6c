"""The runtime process comes back with the endpoints it served: `python -m registry.runtime` restarted on the
same state folder answers for a model loaded before, with no repository call."""

import hashlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.registry.runtime.host_fixtures import dense_model, save

REPO = Path(__file__).resolve().parents[3]
SECRET, KEY = "s" * 24, "k" * 24


def start(port: int, state: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "MODELHUB_RUNTIME_SECRET": SECRET,
        "MODELHUB_RUNTIME_KEYS": hashlib.sha256(KEY.encode()).hexdigest(),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "registry.runtime", "--port", str(port), "--state-dir", str(state)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/v2/health/live", timeout=5)
            return process
        except requests.RequestException:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("the runtime did not start")


def test_a_restarted_runtime_serves_what_it_served_before(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path, digest = save(dense_model(4, 2), tmp_path)
    infer = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}
    url = f"http://127.0.0.1:{port}/v2"
    first = start(port, tmp_path / "state")
    try:
        loaded = requests.post(
            f"{url}/repository/models/dense/load",
            json={"parameters": {"path": str(path), "sha256": digest}},
            headers={"Authorization": f"Bearer {SECRET}"},
            timeout=30,
        )
        assert loaded.status_code == 200, loaded.text
        before = requests.post(
            f"{url}/models/dense/infer", json=infer, headers={"Authorization": f"Bearer {KEY}"}, timeout=10
        ).json()["outputs"][0]["data"]
    finally:
        first.terminate()
        first.wait(timeout=20)
    second = start(port, tmp_path / "state")
    try:
        after = requests.post(
            f"{url}/models/dense/infer", json=infer, headers={"Authorization": f"Bearer {KEY}"}, timeout=10
        )
        assert after.status_code == 200 and after.json()["outputs"][0]["data"] == before
    finally:
        second.terminate()
        second.wait(timeout=20)
