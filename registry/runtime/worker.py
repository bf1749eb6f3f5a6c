"""The main of a model worker: one child process that hosts one onnxruntime session.

The host starts it (forked from a zygote that already imported numpy and onnxruntime, see host.py)
with one end of a socketpair and the model's config as a plain dict. The worker:

- puts itself in its own session (a Ctrl-C aimed at the runtime does not reach it), limits its
  address space to `memory_limit_bytes` (RLIMIT_AS) and allows no core dumps;
- checks the file's sha256 when the config gives one, loads the session (`intra_op_threads`, one
  inter-op thread, sequential execution) and reports {"op": "ready", "info": ...} or
  {"op": "load_failed", "reason", "resource"};
- then serves `infer` frames (ipc.py) on a few threads, answering each by its id, so the host can
  have several requests in flight. Each run has a RunOptions whose terminate flag a watchdog thread
  sets at the request's deadline; the answer says why a run failed: "timeout", "memory" (the
  allocation failed under the limit) or "input" (onnxruntime refused the values).

It exits when the host closes its end of the socket. It imports neither Django nor the host.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import os
import resource
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from registry.runtime import ipc
from registry.runtime.interface import PLATFORM

# onnxruntime type string -> V2 datatype
ORT_DATATYPES = {
    "tensor(bool)": "BOOL",
    "tensor(string)": "BYTES",
    "tensor(uint8)": "UINT8",
    "tensor(uint16)": "UINT16",
    "tensor(uint32)": "UINT32",
    "tensor(uint64)": "UINT64",
    "tensor(int8)": "INT8",
    "tensor(int16)": "INT16",
    "tensor(int32)": "INT32",
    "tensor(int64)": "INT64",
    "tensor(float16)": "FP16",
    "tensor(float)": "FP32",
    "tensor(double)": "FP64",
}
# Models whose recent runs average less than this are run on the reader thread when the worker is idle.
INLINE_RUN_SECONDS = 0.002
# Requests one worker runs at once; more wait in its executor's queue.
CONCURRENT_RUNS = 4
_MEMORY_MARKERS = ("bad_alloc", "failed to allocate memory", "memoryerror", "out of memory")


class LoadFailed(Exception):
    def __init__(self, reason: str, resource: str = ""):
        super().__init__(reason)
        self.reason, self.resource = reason, resource


def serve(sock: socket.socket, config: dict[str, Any]) -> None:
    """The worker process's target: load the model, then answer requests until the host hangs up."""
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock.setblocking(True)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    limit = int(config["memory_limit_bytes"])
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    writer = _FrameWriter(sock)
    try:
        session, info = load_session(config)
    except LoadFailed as exc:
        writer.send({"op": "load_failed", "reason": exc.reason, "resource": exc.resource})
        return
    writer.send({"op": "ready", "info": info})
    _Server(session, writer, timeout_ms=int(config["timeout_ms"])).serve(sock)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _is_memory_error(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or any(marker in str(exc).lower() for marker in _MEMORY_MARKERS)


def _specs(args) -> list[dict]:
    specs = []
    for arg in args:
        datatype = ORT_DATATYPES.get(arg.type)
        if datatype is None:
            raise LoadFailed(f"{arg.name!r} has type {arg.type}, which the V2 protocol cannot carry.")
        shape = [dim if isinstance(dim, int) and dim >= 0 else -1 for dim in (arg.shape or [])]
        specs.append({"name": arg.name, "datatype": datatype, "shape": shape})
    return specs


def load_session(config: dict[str, Any]):
    """(session, ModelInfo fields as a dict); raises LoadFailed with a reason a person can read."""
    import onnxruntime as ort

    path = Path(config["path"])
    try:
        if config.get("sha256"):
            actual = _sha256(path)
            if actual != config["sha256"].lower():
                raise LoadFailed(f"{path.name} has sha256 {actual}, not the expected {config['sha256']}.")
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(int(config.get("intra_op_threads") or 1), 1)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except LoadFailed:
        raise
    except OSError as exc:
        raise LoadFailed(f"cannot read the model file: {exc.strerror or exc}") from None
    except Exception as exc:  # onnxruntime raises its own classes, all plain Exceptions
        if _is_memory_error(exc):
            raise LoadFailed(f"loading the model needed more memory than its limit: {exc}", "memory") from None
        raise LoadFailed(f"onnxruntime cannot load the model: {exc}") from None
    info = {
        "name": config["name"],
        "versions": [str(config.get("version", "1"))],
        "platform": PLATFORM,
        "inputs": _specs(session.get_inputs()),
        "outputs": _specs(session.get_outputs()),
    }
    return session, info


class _FrameWriter:
    def __init__(self, sock: socket.socket):
        self._sock, self._lock = sock, threading.Lock()

    def send(self, header: dict, tensors: dict[str, np.ndarray] | None = None) -> None:
        # One vectored write for the whole frame: written part by part, the host would wake for a partial
        # frame and sleep again, which costs as much as the model run of a small model.
        views = [memoryview(part) for part in ipc.encode(header, tensors)]
        with self._lock:
            while views:
                sent = self._sock.sendmsg(views)
                while views and sent >= len(views[0]):
                    sent -= len(views.pop(0))
                if views and sent:
                    views[0] = views[0][sent:]


class _Watchdog:
    """Sets each run's terminate flag at its deadline, from one thread for all runs."""

    def __init__(self):
        self._condition = threading.Condition()
        self._heap: list[list] = []  # [deadline, seq, run_options, state] with state "armed"/"done"/"fired"
        self._seq = itertools.count()
        threading.Thread(target=self._watch, name="terminate-watchdog", daemon=True).start()

    def arm(self, seconds: float, run_options) -> list:
        entry = [time.monotonic() + seconds, next(self._seq), run_options, "armed"]
        with self._condition:
            # The watchdog sleeps until the earliest deadline; it needs waking only for an earlier one, so a
            # steady stream of runs with the same timeout costs no thread switch each.
            wake = not self._heap or entry[0] < self._heap[0][0]
            if len(self._heap) >= _WATCHDOG_COMPACT_AT:
                self._heap = [e for e in self._heap if e[3] != "done"]
                heapq.heapify(self._heap)
            heapq.heappush(self._heap, entry)
            if wake:
                self._condition.notify()
        return entry

    def disarm(self, entry: list) -> bool:
        """Stop watching; True if the deadline had already fired."""
        with self._condition:
            fired = entry[3] == "fired"
            entry[3] = "done"
        return fired

    def _watch(self) -> None:
        with self._condition:
            while True:
                while self._heap and self._heap[0][3] == "done":
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._condition.wait()
                    continue
                delay = self._heap[0][0] - time.monotonic()
                if delay > 0:
                    self._condition.wait(delay)
                    continue
                entry = heapq.heappop(self._heap)
                entry[2].terminate = True
                entry[3] = "fired"


# Finished runs are dropped from the watchdog's heap lazily; this many entries make it sweep them.
_WATCHDOG_COMPACT_AT = 4096


class _Server:
    def __init__(self, session, writer: _FrameWriter, *, timeout_ms: int):
        self._session, self._writer, self._timeout_s = session, writer, timeout_ms / 1000
        self._input_types = {arg.name: arg.type for arg in session.get_inputs()}
        self._watchdog = _Watchdog()
        self._pool = ThreadPoolExecutor(CONCURRENT_RUNS, thread_name_prefix="run")
        # A fast model is run on the reader thread when nothing else runs: that saves a thread handoff on
        # every request of a lightly loaded endpoint. A slow one always goes to the pool, so the reader keeps
        # taking requests while it runs.
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._recent_run_seconds = 0.0  # moving average

    def serve(self, sock: socket.socket) -> None:
        while True:
            prefix = _recv_exactly(sock, ipc.FRAME_LENGTH.size)
            if prefix is None:
                break
            (length,) = ipc.FRAME_LENGTH.unpack(prefix)
            if length > ipc.MAX_FRAME_BYTES:
                break
            payload = _recv_exactly(sock, length)
            if payload is None:
                break
            header, tensors = ipc.decode(payload)
            if header.get("op") == "infer":
                with self._busy_lock:
                    inline = self._busy == 0 and self._recent_run_seconds < INLINE_RUN_SECONDS
                    self._busy += 1
                if inline:
                    self._answer_counted(header, tensors)
                else:
                    self._pool.submit(self._answer_counted, header, tensors)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _answer_counted(self, header: dict, tensors: dict[str, np.ndarray]) -> None:
        started = time.perf_counter()
        try:
            self._answer(header, tensors)
        finally:
            elapsed = time.perf_counter() - started
            with self._busy_lock:
                self._busy -= 1
                self._recent_run_seconds = 0.8 * self._recent_run_seconds + 0.2 * elapsed

    def _answer(self, header: dict, tensors: dict[str, np.ndarray]) -> None:
        request_id = header["id"]
        try:
            outputs = self._run(tensors, header.get("outputs"))
        except _RunFailed as exc:
            self._writer.send({"id": request_id, "ok": False, "kind": exc.kind, "message": exc.message})
            return
        except Exception as exc:  # anything else still answers, or the caller would wait for the host's kill
            kind = "memory" if _is_memory_error(exc) else "input"
            self._writer.send({"id": request_id, "ok": False, "kind": kind, "message": f"{type(exc).__name__}: {exc}"})
            return
        try:
            self._writer.send({"id": request_id, "ok": True}, outputs)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except (ipc.FrameError, MemoryError) as exc:
            self._writer.send(
                {
                    "id": request_id,
                    "ok": False,
                    "kind": "memory" if isinstance(exc, MemoryError) else "input",
                    "message": f"the outputs cannot be sent: {exc}",
                }
            )

    def _run(self, tensors: dict[str, np.ndarray], output_names: list[str] | None) -> dict[str, np.ndarray]:
        import onnxruntime as ort

        feed = {}
        for name, array in tensors.items():
            if self._input_types.get(name) == "tensor(string)":
                try:
                    array = np.vectorize(bytes.decode, otypes=[object])(array) if array.size else array
                except UnicodeDecodeError:
                    raise _RunFailed("input", f"input {name!r}: onnxruntime string tensors must be UTF-8") from None
            feed[name] = array
        options = ort.RunOptions()
        entry = self._watchdog.arm(self._timeout_s, options)
        try:
            results = self._session.run(output_names, feed, options)
        except Exception as exc:
            if self._watchdog.disarm(entry):
                raise _RunFailed("timeout", f"the run passed {self._timeout_s * 1000:g} ms and was cut off") from None
            if _is_memory_error(exc):
                raise _RunFailed("memory", str(exc) or "out of memory") from None
            raise _RunFailed("input", str(exc)) from None
        self._watchdog.disarm(entry)
        names = output_names or [arg.name for arg in self._session.get_outputs()]
        return {name: np.asarray(result) for name, result in zip(names, results, strict=True)}


class _RunFailed(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind, self.message = kind, message


def _recv_exactly(sock: socket.socket, size: int) -> bytearray | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    received = 0
    while received < size:
        count = sock.recv_into(view[received:])
        if count == 0:
            return None
        received += count
    return buffer
