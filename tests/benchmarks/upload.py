"""Benchmark: a large model upload streams through the web process, then validates.

    .venv/bin/python tests/benchmarks/upload.py [--size-mb 512] [--keep]

Builds an ONNX model whose weights (--size-mb of float32) live in an external-data file, zips it,
starts the real stack on a fresh data folder (gunicorn with one sync worker and a Celery worker;
embedded SQLite, local storage and the file-system broker unless DATABASE_URL / CELERY_BROKER_URL
are set), uploads the zip as a streamed multipart body and waits for validation.

It fails (exit status 1) unless the version ends up `validated` and the gunicorn worker's peak RSS
while receiving the upload stays under RSS_LIMIT_MB: the body must go to disk chunk by chunk, never
into memory. The benchmark itself never holds more than one chunk of weights or of the body either.

"MB" means MiB (2**20 bytes) throughout. Not collected by pytest (tests/ only collects test_*.py).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import math
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil
from onnx import TensorProto, helper

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's bin: gunicorn and celery live next to its python
MB = 1024 * 1024
CHUNK = MB  # request body chunk
WEIGHT_CHUNK = 16 * MB  # weights are generated and written this much at a time
ALIGN = 4096  # external-data offsets are page aligned so onnxruntime can map them
LAYERS = 8
RSS_LIMIT_MB = 300
SAMPLE_INTERVAL = 0.05
VALIDATION_TIMEOUT = 15 * 60
VERSION = "1.0.0"


class BenchmarkFailed(Exception):
    pass


# --- the model ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedModel:
    folder: Path
    zip_path: Path
    zip_sha256: str
    zip_size: int
    model_size: int  # model.onnx + weights.bin
    weights_size: int
    dim: int
    layers: int
    seconds: float


def generate_model(folder: Path, size_mb: int, *, seed: int = 0) -> GeneratedModel:
    """y = x @ W0 @ W1 ... @ W7, each W a dim x dim float32 matrix, sized so the weights are >= size_mb.

    weights.bin is written chunk by chunk and the initializers point into it (offset/length), so
    generating a 512 MB model needs a few tens of MB of memory. The weights are random, scaled by
    1/sqrt(dim) so activations keep their magnitude along the chain, and random data does not
    compress, which keeps the zip honest (stored, about as big as the model).
    """
    started = time.perf_counter()
    folder.mkdir(parents=True)
    dim = max(1, math.ceil(math.sqrt(size_mb * MB / (4 * LAYERS))))
    matrix_bytes = dim * dim * 4
    rows_per_chunk = max(1, WEIGHT_CHUNK // (dim * 4))
    rng = np.random.default_rng(seed)
    scale = np.float32(1 / math.sqrt(dim))

    initializers = []
    offset = 0
    with open(folder / "weights.bin", "wb") as out:
        for layer in range(LAYERS):
            padding = -offset % ALIGN
            out.write(b"\0" * padding)
            offset += padding
            for first_row in range(0, dim, rows_per_chunk):
                rows = min(rows_per_chunk, dim - first_row)
                block = rng.standard_normal((rows, dim), dtype=np.float32)
                block *= scale
                out.write(memoryview(block).cast("B"))
            tensor = TensorProto(name=f"W{layer}", data_type=TensorProto.FLOAT, dims=[dim, dim])
            tensor.data_location = TensorProto.EXTERNAL
            for key, value in (("location", "weights.bin"), ("offset", offset), ("length", matrix_bytes)):
                tensor.external_data.add(key=key, value=str(value))
            initializers.append(tensor)
            offset += matrix_bytes
    weights_size = offset

    names = ["x", *[f"h{i}" for i in range(LAYERS - 1)], "y"]
    graph = helper.make_graph(
        [helper.make_node("MatMul", [names[i], f"W{i}"], [names[i + 1]], name=f"matmul{i}") for i in range(LAYERS)],
        "upload_benchmark",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", dim])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", dim])],
        initializer=initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="modelhub-upload-benchmark"
    )
    model.ir_version = 8
    (folder / "model.onnx").write_bytes(model.SerializeToString())
    model_size = (folder / "model.onnx").stat().st_size + weights_size

    zip_path = folder / "model.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.write(folder / "model.onnx", "model.onnx")
        archive.write(folder / "weights.bin", "weights.bin")
    digest = hashlib.sha256()
    with open(zip_path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return GeneratedModel(
        folder=folder,
        zip_path=zip_path,
        zip_sha256=digest.hexdigest(),
        zip_size=zip_path.stat().st_size,
        model_size=model_size,
        weights_size=weights_size,
        dim=dim,
        layers=LAYERS,
        seconds=time.perf_counter() - started,
    )


# --- the stack ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    data_dir: Path
    env: dict[str, str]
    port: int = 0
    token: str = ""
    slug: str = ""
    queue: str = ""
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, str(REPO / "manage.py"), *args],
            cwd=self.data_dir,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise BenchmarkFailed(
                f"manage.py {args[0]} failed ({result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-3000:]}"
            )
        return result.stdout

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        self.logs[name] = self.data_dir / f"{name}.log"
        with open(self.logs[name], "wb") as log:
            # A session of its own: Ctrl-C reaches only the benchmark, which then stops the whole group.
            # Run from the data folder: the file-system broker keeps its exchange table in ./control.
            process = subprocess.Popen(
                argv,
                cwd=self.data_dir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.logs.get(name)
        if not path or not path.exists():
            return ""
        return path.read_bytes()[-chars:].decode(errors="replace")

    def stop(self) -> None:
        """Stop every process started, gracefully first; never leaves one running, even on a second Ctrl-C."""
        interrupted: BaseException | None = None
        try:
            for process in self.processes.values():
                if process.poll() is None:
                    # To the main process only: gunicorn and Celery then stop their own children cleanly.
                    process.terminate()
            deadline = time.monotonic() + 20
            for process in self.processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
        except BaseException as exc:  # Ctrl-C or SIGTERM again: skip the grace period
            interrupted = exc
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for process in self.processes.values():
                # Whatever of the group is still alive (a stuck pool child, a worker orphaned by its master).
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    print(f"warning: process {process.pid} ({process.args[0]}) did not exit", file=sys.stderr)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if interrupted is not None:
            raise interrupted


def stack_env(data_dir: Path) -> tuple[dict[str, str], str]:
    env = dict(os.environ)
    env.pop("MODELHUB_ARTIFACTS_DIR", None)  # artifacts belong in the fresh data folder
    env.update(
        {
            "MODELHUB_DATA_DIR": str(data_dir),
            "MODELHUB_MAX_UPLOAD_SIZE": "4GiB",
            "DJANGO_SETTINGS_MODULE": "marketplace.settings",
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
        }
    )
    queue = env.get("CELERY_TASK_DEFAULT_QUEUE") or "modelhub"
    if env.get("CELERY_BROKER_URL") and not env["CELERY_BROKER_URL"].startswith("filesystem://"):
        # A shared broker may have other workers on the usual queue: use one nobody else consumes.
        queue = f"upload-benchmark-{uuid.uuid4().hex[:8]}"
        env["CELERY_TASK_DEFAULT_QUEUE"] = queue
    return env, queue


SETUP_SCRIPT = """
from django.contrib.auth import get_user_model
from registry.assets.services import asset_create
from registry.teams.services import team_create
user = get_user_model().objects.create_user(username={name!r}, password=None)
team = team_create(user=user, slug={name!r}, name="Upload benchmark")
asset = asset_create(user=user, team=team, kind="model", name="Upload benchmark model", slug={name!r})
print(asset.slug)
"""


def start_stack(data_dir: Path) -> Stack:
    env, queue = stack_env(data_dir)
    stack = Stack(data_dir=data_dir, env=env, queue=queue)
    data_dir.mkdir(parents=True, exist_ok=True)
    stack.manage("migrate", "--noinput")
    # Unique names, so a shared DATABASE_URL that already has a benchmark run in it is no problem.
    name = f"upload-bench-{uuid.uuid4().hex[:8]}"
    stack.slug = stack.manage("shell", "-c", SETUP_SCRIPT.format(name=name)).strip().splitlines()[-1]
    stack.token = stack.manage("createtoken", name, "--name", "upload-benchmark").strip().splitlines()[-1]
    stack.port = free_port()
    return stack


def start_processes(stack: Stack) -> None:
    stack.spawn(
        "celery",
        [
            str(BIN / "celery"),
            "-A",
            "marketplace",
            "worker",
            "--loglevel=INFO",
            "--concurrency=1",
            "--pool=prefork",
            "-n",
            f"upload-bench-{uuid.uuid4().hex[:8]}@localhost",
            "-Q",
            stack.queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
    )
    stack.spawn(
        "gunicorn",
        [
            str(BIN / "gunicorn"),
            "marketplace.wsgi",
            "--bind",
            f"127.0.0.1:{stack.port}",
            "--workers",
            "1",
            "--timeout",
            "900",
        ],
    )
    deadline = time.monotonic() + 90
    web_ready = worker_ready = False
    while not (web_ready and worker_ready):
        for name, process in stack.processes.items():
            if process.poll() is not None:
                raise BenchmarkFailed(
                    f"{name} exited with {process.returncode} while starting:\n{stack.log_tail(name)}"
                )
        if time.monotonic() > deadline:
            waiting = [n for n, ok in (("gunicorn", web_ready), ("celery", worker_ready)) if not ok]
            raise BenchmarkFailed(
                f"{', '.join(waiting)} did not become ready in 90 s:\n" + "\n".join(stack.log_tail(n) for n in waiting)
            )
        worker_ready = worker_ready or "ready." in stack.log_tail("celery", 1_000_000)
        if not web_ready:
            try:
                status, answer = api_get(stack, f"/api/v1/assets/{stack.slug}/{stack.slug}/versions/")
            except OSError:  # not listening yet
                pass
            else:
                if status != 200:
                    raise BenchmarkFailed(f"GET versions answered {status}: {json.dumps(answer)[:2000]}")
                web_ready = True
        time.sleep(0.2)


def gunicorn_worker(stack: Stack) -> psutil.Process:
    children = psutil.Process(stack.processes["gunicorn"].pid).children()
    if len(children) != 1:
        raise BenchmarkFailed(f"expected one gunicorn worker, found {len(children)}")
    return children[0]


# --- HTTP --------------------------------------------------------------------------------------------


def api_get(stack: Stack, path: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": f"Token {stack.token}", "Accept": "application/json"})
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    try:
        return response.status, json.loads(body)
    except ValueError:
        return response.status, {"raw": body[:500].decode(errors="replace")}


class MultipartBody:
    """A multipart/form-data body that streams one file from disk: framing + CHUNK reads + framing.

    Its length is known up front (Django needs Content-Length); iterating it never holds more than
    one chunk. The sender counts what went out in `sent` (less than `length` if the server answered early).
    """

    def __init__(self, fields: dict[str, str], *, file_field: str, path: Path, filename: str, content_type: str):
        self.boundary = f"modelhub-bench-{uuid.uuid4().hex}"
        parts = [
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        ]
        parts.append(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
        )
        self.preamble = "".join(parts).encode()
        self.epilogue = f"\r\n--{self.boundary}--\r\n".encode()
        self.path = path
        self.file_size = path.stat().st_size
        self.length = len(self.preamble) + self.file_size + len(self.epilogue)
        self.content_type = f"multipart/form-data; boundary={self.boundary}"
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        yield self.preamble
        with open(self.path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
        yield self.epilogue


@dataclass
class UploadResult:
    status: int
    body: dict
    started: float  # perf_counter
    body_sent: float  # perf_counter when the last byte was handed to the socket
    answered: float  # perf_counter when the response was read


def upload(stack: Stack, body: MultipartBody) -> UploadResult:
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=900)
    started = time.perf_counter()
    body_sent = started
    try:
        conn.putrequest("POST", f"/api/v1/assets/{stack.slug}/{stack.slug}/versions/")
        conn.putheader("Authorization", f"Token {stack.token}")
        conn.putheader("Accept", "application/json")
        conn.putheader("Content-Type", body.content_type)
        conn.putheader("Content-Length", str(body.length))
        conn.endheaders()
        try:
            for chunk in body:
                conn.send(chunk)
                body.sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (413, 401...): read that answer below
        body_sent = time.perf_counter()
        response = conn.getresponse()
        raw = response.read()
        answered = time.perf_counter()
    finally:
        conn.close()
    try:
        data = json.loads(raw)
    except ValueError:
        data = {"raw": raw[:2000].decode(errors="replace")}
    return UploadResult(status=response.status, body=data, started=started, body_sent=body_sent, answered=answered)


# --- memory sampling ---------------------------------------------------------------------------------


class RssSampler(threading.Thread):
    """Samples `measure()` (bytes) every SAMPLE_INTERVAL in the background and keeps the peak."""

    def __init__(self, measure: Callable[[], int]):
        super().__init__(daemon=True)
        self.measure = measure
        self.peak = 0
        self.samples = 0
        self.error: str | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.peak = max(self.peak, self.measure())
                self.samples += 1
            except psutil.Error as exc:
                self.error = f"{type(exc).__name__}: {exc}"
                return
            self._stop_event.wait(SAMPLE_INTERVAL)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


def vm_hwm(pid: int) -> int:
    """The process's peak resident set size (VmHWM) in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise BenchmarkFailed(f"no VmHWM in /proc/{pid}/status")


def reset_vm_hwm(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so it measures only what follows."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def tree_rss_peak(root: psutil.Process) -> Callable[[], int]:
    """Largest RSS of any one process in root's tree (for Celery: the pool child running the task)."""

    def measure() -> int:
        largest = 0
        for process in [root, *root.children(recursive=True)]:
            try:
                largest = max(largest, process.memory_info().rss)
            except psutil.NoSuchProcess:
                pass
        return largest

    return measure


# --- the run -----------------------------------------------------------------------------------------


def mb(n: float) -> str:
    return f"{n / MB:,.0f} MB"


def run(args: argparse.Namespace, root: Path) -> int:
    total_started = time.perf_counter()
    print(f"working folder: {root}")

    model = generate_model(root / "model", args.size_mb)
    print(
        f"model: {model.layers} x MatMul [{model.dim}x{model.dim}] float32, weights {mb(model.weights_size)} "
        f"in weights.bin; model.onnx + weights.bin = {model.model_size:,} bytes ({mb(model.model_size)})"
    )
    print(
        f"zip (stored): {model.zip_size:,} bytes ({mb(model.zip_size)}), sha256 {model.zip_sha256}; "
        f"generated in {model.seconds:.1f} s"
    )

    stack = start_stack(root / "data")
    try:
        stack_started = time.perf_counter()
        start_processes(stack)
        print(
            f"stack: gunicorn on 127.0.0.1:{stack.port} + celery worker (queue {stack.queue}), data in "
            f"{stack.data_dir}; database {stack.env.get('DATABASE_URL') and 'DATABASE_URL' or 'SQLite'}, "
            f"broker {stack.env.get('CELERY_BROKER_URL') or 'filesystem://'}; ready in "
            f"{time.perf_counter() - stack_started:.1f} s"
        )
        return measure_upload(stack, model, total_started, rss_limit=args.rss_limit_mb)
    except Exception:  # not on Ctrl-C: the logs are for diagnosing a failure
        for name in stack.processes:
            print(f"--- {name} log (tail) ---\n{stack.log_tail(name)}", file=sys.stderr)
        raise
    finally:
        stack.stop()


def measure_upload(stack: Stack, model: GeneratedModel, total_started: float, *, rss_limit: int) -> int:
    web = gunicorn_worker(stack)
    # Warm up: the first request imports the API modules; the baseline is the worker ready for work.
    api_get(stack, f"/api/v1/assets/{stack.slug}/{stack.slug}/versions/")
    baseline_rss = web.memory_info().rss
    baseline_hwm = vm_hwm(web.pid)
    hwm_reset = reset_vm_hwm(web.pid)

    body = MultipartBody(
        {
            "version": VERSION,
            "sha256": model.zip_sha256,
            "metadata": json.dumps({"benchmark": "upload", "weights_bytes": model.weights_size}),
        },
        file_field="file",
        path=model.zip_path,
        filename="model.zip",
        content_type="application/zip",
    )
    sampler = RssSampler(lambda: web.memory_info().rss)
    sampler.start()
    try:
        result = upload(stack, body)
    finally:
        sampled_peak = sampler.stop()
    upload_hwm = vm_hwm(web.pid)
    after_rss = web.memory_info().rss
    if sampler.error:
        raise BenchmarkFailed(
            f"lost the gunicorn worker while uploading ({sampler.error}):\n{stack.log_tail('gunicorn')}"
        )
    if result.status != 202:
        raise BenchmarkFailed(
            f"upload answered {result.status} after {body.sent:,} of {body.length:,} bytes: "
            f"{json.dumps(result.body)[:2000]}"
        )
    web_peak = max(sampled_peak, upload_hwm)

    # Validation: poll until the version leaves `validating`; watch the Celery worker's memory meanwhile.
    celery = psutil.Process(stack.processes["celery"].pid)
    worker_sampler = RssSampler(tree_rss_peak(celery))
    worker_sampler.start()
    path = f"/api/v1/assets/{stack.slug}/{stack.slug}/versions/{VERSION}/"
    deadline = time.perf_counter() + VALIDATION_TIMEOUT
    try:
        while True:
            status, version = api_get(stack, path)
            if status != 200:
                raise BenchmarkFailed(f"GET {path} answered {status}: {json.dumps(version)[:2000]}")
            if version["status"] != "validating":
                break
            if time.perf_counter() > deadline:
                raise BenchmarkFailed(f"still validating after {VALIDATION_TIMEOUT} s:\n{stack.log_tail('celery')}")
            if stack.processes["celery"].poll() is not None:
                raise BenchmarkFailed(f"the Celery worker exited:\n{stack.log_tail('celery')}")
            time.sleep(0.25)
    finally:
        worker_peak = worker_sampler.stop()
    validated_at = time.perf_counter()

    upload_seconds = result.answered - result.started
    send_seconds = result.body_sent - result.started
    validate_seconds = validated_at - result.answered
    throughput = model.zip_size / MB / upload_seconds
    report = version.get("validation") or {}
    details = report.get("details") or {}
    smoke = details.get("smoke_inference") or {}

    print()
    print(f"model size:          {mb(model.model_size)} ({model.model_size:,} bytes; weights {model.weights_size:,})")
    print(f"zip size:            {mb(model.zip_size)} ({model.zip_size:,} bytes)")
    print(
        f"upload:              {upload_seconds:.1f} s wall ({throughput:.0f} MB/s); body sent in "
        f"{send_seconds:.1f} s, server answered {result.answered - result.body_sent:.1f} s later (extract + store)"
    )
    print(
        f"server recorded:     size {version['size']:,}, sha256 {version['sha256']}, "
        f"{len(version['files'])} files: " + ", ".join(f"{f['path']} ({f['size']:,})" for f in version["files"])
    )
    print(
        f"validation:          {version['status']} {validate_seconds:.1f} s after the upload response "
        f"(task ran {_task_seconds(report)}; attempts {report.get('attempts')})"
    )
    print(
        f"validation reason:   {report.get('reason')!r}"
        + (f" [failed check: {report['failed_check']}]" if report.get("failed_check") else "")
    )
    print(f"signature:           {json.dumps(version.get('signature'))}")
    if smoke:
        print(f"smoke inference:     {json.dumps(smoke)}")
    print(
        f"web worker RSS:      baseline {mb(baseline_rss)} (VmHWM {mb(baseline_hwm)}); during upload peak "
        f"{mb(web_peak)} (sampled {mb(sampled_peak)} over {sampler.samples} samples every "
        f"{SAMPLE_INTERVAL * 1000:.0f} ms, VmHWM {mb(upload_hwm)}"
        f"{'' if hwm_reset else ', not reset so it includes start-up'}); after upload {mb(after_rss)}"
    )
    print(
        f"celery worker RSS:   peak {mb(worker_peak)} while validating (largest process in its tree; for "
        "information, not checked)"
    )
    print(
        f"this benchmark:      peak RSS {mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)} "
        "(it streams the weights and the body too)"
    )
    print(f"elapsed so far:      {time.perf_counter() - total_started:.1f} s (model generation to validated)")

    failures = []
    if version["status"] != "validated":
        failures.append(f"status is {version['status']!r}, not 'validated'")
    if web_peak >= rss_limit * MB:
        failures.append(f"web worker peak RSS {mb(web_peak)} >= {rss_limit} MB: is the upload held in memory?")
    print()
    print(
        f"upload: {model.zip_size / MB:.0f} MB in {upload_seconds:.1f} s ({throughput:.0f} MB/s); "
        f"{version['status']} in {validate_seconds:.1f} s; web peak RSS {web_peak / MB:.0f} MB "
        f"(limit {rss_limit} MB)" + ("" if not failures else " -- FAILED: " + "; ".join(failures))
    )
    return 1 if failures else 0


def _task_seconds(report: dict) -> str:
    from datetime import datetime

    started, finished = report.get("started_at"), report.get("finished_at")
    if not (started and finished):
        return "?"
    delta = datetime.fromisoformat(finished.replace("Z", "+00:00")) - datetime.fromisoformat(
        started.replace("Z", "+00:00")
    )
    return f"{delta.total_seconds():.1f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=512, help="weights in MB (MiB) of float32 (default: 512)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (model, data dir, logs)")
    parser.add_argument(
        "--rss-limit-mb",
        type=int,
        default=RSS_LIMIT_MB,
        help=f"fail when the web worker's peak RSS reaches this (default: {RSS_LIMIT_MB})",
    )
    args = parser.parse_args(argv)
    if args.size_mb < 1:
        parser.error("--size-mb must be at least 1")

    # SIGTERM takes the same way out as Ctrl-C, so the servers are stopped and the folder removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="modelhub-upload-bench-"))
    try:
        return run(args, root)
    except BenchmarkFailed as exc:
        print(f"upload benchmark FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
        print(f"benchmark wall time: {time.perf_counter() - started:.1f} s (set-up and teardown included)")


if __name__ == "__main__":
    sys.exit(main())
