"""Benchmark: Modelhub's runtime against KServe and MLServer serving the same ONNX models, and the floor.

    .venv/bin/python tests/benchmarks/serving.py [--seconds 6] [--slice 1] [--concurrency 1,16,64]
        [--loadgen wrk|python] [--skip-peers]

Serves two models four ways with the same closed-loop load generator in a process of its own: wrk (Debian's
`wrk` package, one thread, a Lua script that reports 1,000 latency quantiles: serving_peers/wrk_report.lua)
when it is installed, otherwise an asyncio generator (serving_peers/loadgen.py), whose own cost per request
is larger and the same for every server. The three servers run side by side, idle but for the one under
load, and are measured in interleaved slices of --slice seconds (round-robin after one warm-up slice each,
--seconds per server in all), so that whatever else the machine does falls on all of them alike. After each
slice the benchmark waits until that server's processes are idle again: an overloaded server goes on
answering the requests it had queued after wrk has gone, and that work would otherwise land in the next
server's slice.

- Modelhub's runtime (`python -m registry.runtime`), each model in its own worker process;
- KServe's Python model server with an onnxruntime model class (serving_peers/kserve_server.py);
- MLServer with an onnxruntime runtime (serving_peers/mlserver_runtime.py), `parallel_workers=0` and
  uvloop 0.21.0 so that it runs at its best;
- raw `InferenceSession.run` in this process: the floor, no HTTP at all.

The models: a scikit-learn pipeline (StandardScaler + LogisticRegression on 20 features) converted with
skl2onnx, and an MLP of about 5 MB (256 -> 1024 -> 1024 -> 10, ReLU). Every request is the same V2
JSON infer of one row. KServe and MLServer conflict with each other and with Modelhub, so each lives in
its own virtualenv under var/bench/ (created on first use from PyPI; --skip-peers measures Modelhub alone).

Prints, per model and concurrency, throughput and p50/p99 latency for each server, then the ratios
the issue sets as targets, each against the peer that is best at that figure: Modelhub's throughput over the
highest peer throughput at 16 and 64 connections (>= 2), its p99 over the lowest peer p99 (<= 1), and its p50
at one connection over the lowest peer p50 (<= 0.5).
The load generator shares the machine's cores with the server, as a client on the same host would.
Not collected by pytest.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import psutil
from onnx import TensorProto, helper, numpy_helper

REPO = Path(__file__).resolve().parents[2]
PEERS = Path(__file__).resolve().parent / "serving_peers"
BENCH_DIR = REPO / "var" / "bench"
PEER_VENVS = {
    "kserve": ["kserve", "onnxruntime", "numpy"],
    "mlserver": ["mlserver", "uvloop==0.21.0", "onnxruntime", "numpy"],
}


# --- models -----------------------------------------------------------------------------------------


def sklearn_pipeline(path: Path) -> np.ndarray:
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = make_classification(n_samples=2000, n_features=20, n_informative=10, n_classes=3, random_state=0)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, y)
    model = to_onnx(
        pipeline, initial_types=[("input", FloatTensorType([None, 20]))], options={"zipmap": False}, target_opset=17
    )
    path.write_bytes(model.SerializeToString())
    return x[:1].astype(np.float32)


def mlp(path: Path) -> np.ndarray:
    rng = np.random.default_rng(0)
    sizes = [256, 1024, 1024, 10]
    nodes, inits, previous = [], [], "input"
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        inits += [
            numpy_helper.from_array(
                (rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype(np.float32), f"W{i}"
            ),
            numpy_helper.from_array(np.zeros(fan_out, np.float32), f"B{i}"),
        ]
        nodes.append(helper.make_node("Gemm", [previous, f"W{i}", f"B{i}"], [f"h{i}"]))
        previous = f"h{i}"
        if i < len(sizes) - 2:
            nodes.append(helper.make_node("Relu", [previous], [f"r{i}"]))
            previous = f"r{i}"
    nodes.append(helper.make_node("Identity", [previous], ["logits"]))
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 256])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        inits,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return rng.standard_normal((1, 256)).astype(np.float32)


def infer_body(row: np.ndarray) -> bytes:
    return json.dumps(
        {
            "id": "bench",
            "inputs": [{"name": "input", "shape": list(row.shape), "datatype": "FP32", "data": row.ravel().tolist()}],
        }
    ).encode()


# --- servers ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, path: str = "/v2/health/ready", timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not become ready")


def peer_python(name: str) -> Path:
    venv = BENCH_DIR / name
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating the {name} virtualenv in {venv} (once) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", *PEER_VENVS[name]], check=True)
    return python


class Server:
    def __init__(self, name: str, command: list[str], port: int, *, env=None, cwd=None, headers=()):
        self.name, self.port, self.headers = name, port, list(headers)
        self.log = open(BENCH_DIR / f"{name}.log", "w")
        self.process = subprocess.Popen(
            command,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server and every process it started (workers, zygotes)."""
        try:
            root = psutil.Process(self.process.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0.0
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def wait_idle(self, window: float = 0.1, busy: float = 0.005, limit: float = 5.0) -> None:
        """Until the server has drained what it still had queued when the load stopped (an overloaded server
        answers requests whose clients are gone): less than `busy` CPU seconds over `window`, at most `limit`."""
        deadline = time.monotonic() + limit
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(window)
            now = self.cpu_seconds()
            if now - before < busy:
                return
            before = now

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


def start_modelhub(models: dict[str, Path], workdir: Path) -> Server:
    port = free_port()
    secret = secrets.token_urlsafe(24)
    key = secrets.token_urlsafe(24)
    command = [
        sys.executable,
        "-m",
        "registry.runtime",
        "--port",
        str(port),
        "--state-dir",
        str(workdir / "modelhub-state"),
    ]
    env = {"MODELHUB_RUNTIME_SECRET": secret, "MODELHUB_RUNTIME_KEYS": hashlib.sha256(key.encode()).hexdigest()}
    server = Server("modelhub", command, port, env=env, cwd=REPO, headers=[f"Authorization: Bearer {key}"])
    wait_ready(port, "/v2/health/live")
    for name, path in models.items():
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v2/repository/models/{name}/load",
            method="POST",
            data=json.dumps({"parameters": {"path": str(path)}}).encode(),
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            assert answer.status == 200
    return server


def start_kserve(models: dict[str, Path], workdir: Path) -> Server:
    port = free_port()
    server = Server(
        "kserve",
        [
            str(peer_python("kserve")),
            str(PEERS / "kserve_server.py"),
            "--model-dir",
            str(workdir / "models"),
            "--port",
            str(port),
        ],
        port,
    )
    wait_ready(port, f"/v2/models/{next(iter(models))}/ready")
    return server


def start_mlserver(models: dict[str, Path], workdir: Path) -> Server:
    port = free_port()
    root = workdir / "mlserver"
    for name, path in models.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / "model-settings.json").write_text(
            json.dumps(
                {"name": name, "implementation": "mlserver_runtime.OnnxRuntime", "parameters": {"uri": str(path)}}
            )
        )
    (root / "settings.json").write_text(
        json.dumps({"http_port": port, "grpc_port": free_port(), "parallel_workers": 0, "metrics_endpoint": None})
    )
    python = peer_python("mlserver")
    server = Server(
        "mlserver",
        [str(python.with_name("mlserver")), "start", str(root)],
        port,
        env={"PYTHONPATH": str(PEERS)},
        cwd=root,
    )
    wait_ready(port, f"/v2/models/{next(iter(models))}/ready")
    return server


# --- measuring --------------------------------------------------------------------------------------


def load(
    server: Server, model: str, body_file: Path, concurrency: int, seconds: float, warmup: float, loadgen: str
) -> tuple[int, list[tuple[float, float]]]:
    """One closed-loop run: (requests measured, [(latency in us, weight)]) -- every latency with weight 1 from
    the Python generator, 1000 quantiles weighted by requests / 1000 from wrk."""
    path = f"/v2/models/{model}/infer"
    if loadgen == "wrk":
        env = {**os.environ, "BODY_FILE": str(body_file), "HEADERS": "\n".join(server.headers)}
        command = [
            "wrk",
            "-t1",
            f"-c{concurrency}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(PEERS / "wrk_report.lua"),
            f"http://127.0.0.1:{server.port}{path}",
        ]
        output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
        result = json.loads(next(line for line in output.splitlines() if line.startswith('{"requests"')))
        points = [(q, result["requests"] / len(result["quantiles_us"])) for q in result["quantiles_us"]]
    else:
        command = [
            sys.executable,
            str(PEERS / "loadgen.py"),
            "127.0.0.1",
            str(server.port),
            path,
            str(body_file),
            str(concurrency),
            str(seconds),
            str(warmup),
            *server.headers,
        ]
        result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        points = [(latency, 1.0) for latency in result["latencies_us"]]
    if result["errors"]:
        raise RuntimeError(
            f"{server.name} answered {result['errors']} errors on {model}; see var/bench/{server.name}.log"
        )
    return result["requests"], points


def interleaved(
    servers: list[Server], model: str, body_file: Path, concurrency: int, seconds: float, slice_s: float, loadgen: str
) -> dict[str, dict]:
    """Each server's figures over round-robin slices (after one warm-up slice each, not counted): req/s over
    the measured time, p50/p99 over all requests."""
    rounds = max(1, round(seconds / slice_s))
    counted: dict[str, int] = {server.name: 0 for server in servers}
    points: dict[str, list[tuple[float, float]]] = {server.name: [] for server in servers}
    for server in servers:
        load(server, model, body_file, concurrency, slice_s, 0.3, loadgen)
        server.wait_idle()
    for index in range(rounds):
        order = servers[index % len(servers) :] + servers[: index % len(servers)]
        for server in order:
            requests, measured = load(server, model, body_file, concurrency, seconds / rounds, 0.3, loadgen)
            counted[server.name] += requests
            points[server.name] += measured
            server.wait_idle()
    results = {}
    for name, pooled in points.items():
        pooled.sort()
        total = sum(weight for _, weight in pooled)

        def pct(p: float) -> float:
            running = 0.0
            for value, weight in pooled:
                running += weight
                if running >= p * total:
                    return round(value / 1000, 3)
            return round(pooled[-1][0] / 1000, 3)

        results[name] = {"throughput": round(counted[name] / seconds, 1), "p50_ms": pct(0.50), "p99_ms": pct(0.99)}
    return results


def floor(path: Path, row: np.ndarray, seconds: float) -> dict:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feeds = {"input": row}
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        session.run(None, feeds)
        latencies.append(time.perf_counter() - started)
    latencies.sort()
    return {
        "throughput": round(len(latencies) / seconds, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 4),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="measured seconds per server and load")
    parser.add_argument("--slice", type=float, default=1.0, help="seconds of one interleaved slice")
    parser.add_argument(
        "--loadgen",
        choices=["wrk", "python"],
        default="wrk" if shutil.which("wrk") else "python",
        help="wrk (Debian's package; the default when installed) or the asyncio generator",
    )
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(REPO))

    with tempfile.TemporaryDirectory(prefix="serving-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "models").mkdir()
        models = {"pipeline": workdir / "models" / "pipeline.onnx", "mlp": workdir / "models" / "mlp.onnx"}
        rows = {"pipeline": sklearn_pipeline(models["pipeline"]), "mlp": mlp(models["mlp"])}
        bodies = {}
        for name, row in rows.items():
            bodies[name] = workdir / f"{name}.json"
            bodies[name].write_bytes(infer_body(row))
        print("models: " + ", ".join(f"{n} {p.stat().st_size / 2**20:.1f} MB" for n, p in models.items()))

        results: dict[str, dict[str, dict[int, dict]]] = {}
        starters = {"modelhub": start_modelhub}
        if not args.skip_peers:
            starters |= {"kserve": start_kserve, "mlserver": start_mlserver}
        servers = []
        try:
            for start in starters.values():
                servers.append(start(models, workdir))
            for model in models:
                for concurrency in concurrencies:
                    figures = interleaved(
                        servers, model, bodies[model], concurrency, args.seconds, args.slice, args.loadgen
                    )
                    for name, result in figures.items():
                        results.setdefault(model, {}).setdefault(name, {})[concurrency] = result
                        print(
                            f"{name:9} {model:9} c={concurrency:<3} {result['throughput']:>9.1f} req/s  "
                            f"p50 {result['p50_ms']:>7.2f} ms  p99 {result['p99_ms']:>7.2f} ms",
                            flush=True,
                        )
        finally:
            for server in servers:
                server.stop()
        for model, path in models.items():
            result = floor(path, rows[model], min(args.seconds, 3))
            print(
                f"{'floor':9} {model:9} c=1   {result['throughput']:>9.1f} run/s  p50 {result['p50_ms']:>7.4f} ms  "
                f"(onnxruntime in-process, no HTTP)"
            )

        if args.skip_peers:
            return
        print("\nratios (Modelhub / the best peer for each figure: highest throughput, lowest p99, lowest p50):")
        for model, by_server in results.items():
            ours = by_server["modelhub"]
            for concurrency in concurrencies:
                peers = [by_server[p][concurrency] for p in ("kserve", "mlserver")]
                best_throughput = max(peer["throughput"] for peer in peers)
                best_p99 = min(peer["p99_ms"] for peer in peers)
                line = (
                    f"  {model:9} c={concurrency:<3} throughput x{ours[concurrency]['throughput'] / best_throughput:.2f}"
                    f"  p99 x{ours[concurrency]['p99_ms'] / best_p99:.2f}"
                )
                if concurrency == 1:
                    best_p50 = min(peer["p50_ms"] for peer in peers)
                    line += f"  p50 x{ours[1]['p50_ms'] / best_p50:.2f}"
                print(line)


if __name__ == "__main__":
    main()
