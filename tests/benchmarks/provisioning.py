"""Benchmark: from `POST /api/v1/endpoints/` to `ready` for a 10 MB model, on the whole local stack.

    .venv/bin/python tests/benchmarks/provisioning.py [--size-mb 10] [--runs 3]

Starts `deploy/local/start` on a fresh data folder and free ports (portal, Celery worker, runtime; embedded
SQLite and file-system broker unless DATABASE_URL / CELERY_BROKER_URL are set), uploads an MLP with about
--size-mb of float32 weights, has it validated, reviewed (`demo` submits, the seeded `reviewer` approves)
and signed, then deploys it --runs times and prints the seconds from the POST to `ready` (the worker
copies and checks the files, verifies the signature, loads the model in the runtime and runs the
conformance check). The target is under 3 seconds. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper, numpy_helper

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mlp_bytes(size_mb: float) -> bytes:
    hidden = int((size_mb * 2**20 / 4 / 2) ** 0.5)  # two square-ish layers hold the weights
    rng = np.random.default_rng(0)
    w1 = (rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)).astype(np.float32)
    w2 = (rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W1"], ["h"]),
            helper.make_node("Relu", ["h"], ["r"]),
            helper.make_node("MatMul", ["r", "W2"], ["y"]),
        ],
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", hidden])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", hidden])],
        [numpy_helper.from_array(w1, "W1"), numpy_helper.from_array(w2, "W2")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


class Api:
    def __init__(self, base: str, token: str):
        self.base, self.token = base, token

    def call(self, method: str, path: str, body=None, *, content_type="application/json", raw: bytes | None = None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Authorization": f"Token {self.token}", "Content-Type": content_type},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def wait(self, path: str, field: str, leaving: tuple[str, ...], timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            _status, data = self.call("GET", path)
            if data.get(field) not in leaving or time.monotonic() > deadline:
                return data
            time.sleep(0.05)


def multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = "modelhub-bench-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="provisioning-bench-") as data_dir:
        web, runtime = free_port(), free_port()
        env = {
            **os.environ,
            "MODELHUB_DATA_DIR": data_dir,
            "MODELHUB_BIND": f"127.0.0.1:{web}",
            "MODELHUB_RUNTIME_URL": f"http://127.0.0.1:{runtime}",
        }
        log = open(Path(data_dir) / "start.log", "w")
        stack = subprocess.Popen(
            ["bash", "deploy/local/start"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 600
            while "API token (demo)" not in (Path(data_dir) / "start.log").read_text():
                assert stack.poll() is None and time.monotonic() < deadline, (Path(data_dir) / "start.log").read_text()
                time.sleep(0.5)
            manage = [sys.executable, "manage.py"]
            token = next(
                line.split()[-1]
                for line in (Path(data_dir) / "start.log").read_text().splitlines()
                if "API token (demo)" in line
            )
            reviewer_token = subprocess.run(
                [*manage, "createtoken", "reviewer", "--name", "bench"],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            base = f"http://127.0.0.1:{web}/api/v1"
            demo, reviewer = Api(base, token), Api(base, reviewer_token)
            for _ in range(120):
                try:
                    demo.call("GET", "/assets/?page_size=1")
                    break
                except OSError:
                    time.sleep(0.5)

            status, _ = demo.call(
                "POST",
                "/assets/",
                {
                    "team": "demo-lab",
                    "kind": "model",
                    "slug": "bench-mlp",
                    "name": "Benchmark MLP",
                    "license": "Apache-2.0",
                },
            )
            assert status == 201, status
            content = mlp_bytes(args.size_mb)
            body, content_type = multipart({"version": "1.0.0"}, "model.onnx", content)
            status, answer = demo.call(
                "POST", "/assets/demo-lab/bench-mlp/versions/", raw=body, content_type=content_type
            )
            assert status == 202, answer
            version = "/assets/demo-lab/bench-mlp/versions/1.0.0"
            validated = demo.wait(f"{version}/", "status", ("validating",), timeout=600)  # after the demo's own
            assert validated["status"] == "validated", validated["validation"]
            sections = dict.fromkeys(
                ("model_details", "intended_use", "factors", "metrics", "evaluation_data", "training_data"),
                "Written for the provisioning benchmark, long enough to count.",
            )
            assert demo.call("PUT", f"{version}/card", {"sections": sections, "license": "apache-2.0"})[0] == 200
            assert demo.call("POST", f"{version}/submit", {})[0] == 201
            assert reviewer.call("POST", f"{version}/reviews", {"decision": "approve", "comment": "bench"})[0] == 201
            deadline = time.monotonic() + 120
            while demo.call("GET", f"{version}/signature")[0] == 404:
                assert time.monotonic() < deadline, "the approval was never signed"
                time.sleep(0.1)

            print(f"model: {len(content) / 2**20:.1f} MB of ONNX")
            times = []
            for run in range(args.runs):
                started = time.perf_counter()
                status, created = demo.call(
                    "POST",
                    "/endpoints/",
                    {"team": "demo-lab", "asset": "demo-lab/bench-mlp", "version": "1.0.0", "name": f"bench-{run}"},
                )
                assert status == 202, created
                ready = demo.wait(f"/endpoints/{created['id']}/", "status", ("pending", "provisioning"))
                elapsed = time.perf_counter() - started
                assert ready["status"] == "ready", ready
                times.append(elapsed)
                print(f"run {run + 1}: POST /api/v1/endpoints/ -> ready in {elapsed:.2f} s")
            print(f"median {sorted(times)[len(times) // 2]:.2f} s (target: under 3 s)")
        finally:
            os.killpg(stack.pid, signal.SIGINT)
            try:
                stack.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(stack.pid, signal.SIGKILL)
            log.close()


if __name__ == "__main__":
    main()
