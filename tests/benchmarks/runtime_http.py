"""Benchmark: the inference runtime's HTTP layer, requests per second and latency.

    .venv/bin/python tests/benchmarks/runtime_http.py [--seconds 5] [--concurrency 1,16,64] [--binary]

Starts the runtime (registry.runtime.app under its HTTP server, registry.runtime.http_server, exactly
as `python -m registry.runtime` runs it) in a process of its own, over the in-process test host
(tests/registry/runtime/inprocess_host.py: onnxruntime in the server process, no batching) with the small `add`
model (FP32 [1, 4] in, [1, 4] out), and a static credential table, so what is measured is the HTTP layer:
parsing, credential check (a cached decision), validation, encoding, metrics and monitoring.

The load comes from another process: an asyncio (uvloop) generator holding `concurrency` keep-alive
connections, each sending one request after the other and timing each; after a one-second warm-up it
counts for --seconds. JSON request and response by default; --binary sends the input as binary tensor
data and asks for binary output (Triton's extension). Prints req/s, p50 and p99 per concurrency.

On a 2-core machine the server and the generator share the cores, as KServe's figures were taken.
Not collected by pytest (tests/ only collects test_*.py).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "benchmark-runtime-secret-0123456789"
KEY = "mh_benchmark_key"
MODEL = "add"


def serve(port: int, model_dir: str) -> None:
    sys.path.insert(0, str(ROOT))
    from registry.runtime import http_server
    from registry.runtime.app import RuntimeSettings, create_app
    from registry.runtime.auth import StaticAuthorizer
    from registry.runtime.metrics import RuntimeMetrics
    from tests.registry.runtime.conftest import load_all
    from tests.registry.runtime.inprocess_host import InProcessHost, write_models

    metrics = RuntimeMetrics()
    host = InProcessHost(metrics)
    load_all(host, {MODEL: write_models(Path(model_dir))[MODEL]})
    app = create_app(
        host,
        auth=StaticAuthorizer({"*": {hashlib.sha256(KEY.encode()).hexdigest()}}),
        metrics=metrics,
        settings=RuntimeSettings(runtime_secret=SECRET),
    )
    http_server.run(app, host="127.0.0.1", port=port, max_body=app.settings.max_body)


def request_bytes(port: int, binary: bool) -> bytes:
    if binary:
        header = json.dumps(
            {
                "inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "parameters": {"binary_data_size": 16}}],
                "parameters": {"binary_data_output": True},
            },
            separators=(",", ":"),
        ).encode()
        body = header + b"\x00\x00\x80?\x00\x00\x00@\x00\x00@@\x00\x00\x80@"  # 1, 2, 3, 4 as <f4
        extra = f"Inference-Header-Content-Length: {len(header)}\r\nContent-Type: application/octet-stream\r\n"
    else:
        body = json.dumps(
            {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}]},
            separators=(",", ":"),
        ).encode()
        extra = "Content-Type: application/json\r\n"
    head = (
        f"POST /v2/models/{MODEL}/infer HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {KEY}\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _connection(
    port: int, request: bytes, stop_warmup: float, stop: float, latencies: list[int], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    clock = time.perf_counter_ns
    try:
        while True:
            started = clock()
            if started >= stop:
                return
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            if head[9:12] != b"200":
                errors.append(int(head[9:12]))
            if started >= stop_warmup:
                latencies.append(clock() - started)
    finally:
        writer.close()


def load(port: int, concurrency: int, seconds: float, binary: bool) -> None:
    import uvloop

    async def run():
        now = time.perf_counter_ns()
        warm, stop = now + 1_000_000_000, now + int((1 + seconds) * 1e9)
        latencies: list[int] = []
        errors: list[int] = []
        request = request_bytes(port, binary)
        await asyncio.gather(*(_connection(port, request, warm, stop, latencies, errors) for _ in range(concurrency)))
        return latencies, errors

    latencies, errors = uvloop.run(run())
    latencies.sort()
    n = len(latencies)
    print(
        json.dumps(
            {
                "concurrency": concurrency,
                "requests": n,
                "errors": len(errors),
                "rps": n / seconds,
                "p50_ms": latencies[n // 2] / 1e6,
                "p99_ms": latencies[int(n * 0.99)] / 1e6,
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--binary", action="store_true", help="binary tensor data in and out")
    parser.add_argument("--_serve", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--_load", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._serve:
        serve(int(args._serve[0]), args._serve[1])
        return 0
    if args._load:
        load(int(args._load[0]), int(args._load[1]), float(args._load[2]), args.binary)
        return 0

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as models:
        server = subprocess.Popen([sys.executable, __file__, "--_serve", str(port), models], cwd=ROOT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        print("the runtime did not start", file=sys.stderr)
                        return 1
                    time.sleep(0.1)
            print(
                f"runtime HTTP layer, model {MODEL!r}, {'binary' if args.binary else 'JSON'} tensors, "
                f"{os.cpu_count()} CPUs, {args.seconds:g} s per run"
            )
            print(f"{'concurrency':>11} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
            for concurrency in [int(c) for c in args.concurrency.split(",")]:
                command = [sys.executable, __file__, "--_load", str(port), str(concurrency), str(args.seconds)]
                done = subprocess.run(
                    command + (["--binary"] if args.binary else []), capture_output=True, text=True, check=True
                )
                row = json.loads(done.stdout)
                print(
                    f"{row['concurrency']:>11} {row['rps']:>9.0f} {row['p50_ms']:>8.3f} {row['p99_ms']:>8.3f} "
                    f"{row['errors']:>6}"
                )
        finally:
            server.terminate()
            server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
