"""The model host: every loaded model runs in a worker process of its own (interface.ModelHost).

Process model. One worker process per loaded model (worker.py), so one model's crash, memory blow-up
or hang never takes another model or the server down. Workers are forked by multiprocessing's
forkserver, a zygote that imported numpy, onnxruntime and the worker module once: a worker starts without
importing them again and shares those pages copy-on-write with every other worker, so a worker costs a
fraction of a fresh interpreter in memory and start time (tests/benchmarks/runtime_density.py; the figures
are in registry/runtime/README.md). A script that embeds the host needs the
`if __name__ == "__main__":` guard, because multiprocessing imports the main module again in each worker.

Each worker talks to the host over a socketpair with explicit framing (ipc.py): requests carry an
id, so several are in flight at once and answers come back in any order. The host side is an asyncio
protocol (_Channel) that resolves a request's future in the read callback itself; nothing here blocks
the event loop (process start and state-file writes run in an
executor).

Limits and failures:
- the worker limits its own address space (RLIMIT_AS = memory_limit_bytes) and stops a run at its
  timeout with onnxruntime's terminate flag (InferenceTimeout); an allocation that fails under the
  limit answers ModelUnavailable with a memory reason, and the worker goes on serving;
- if a worker does not answer within timeout + KILL_GRACE, the host kills and restarts it
  (InferenceTimeout for that caller, ModelUnavailable for the others in flight);
- a worker that dies (segfault, OOM kill, exit) fails its in-flight requests with ModelUnavailable
  ("... crashed (signal 11) ..."); the model shows UNAVAILABLE with that reason in index() while the
  host restarts it with exponential backoff, and stays UNAVAILABLE after RestartPolicy.max_crashes
  crashes within RestartPolicy.window_s (a new `load` of the name tries again).

Batching (batching.py) is on for a model when max_batch_size > 0 and every input and output has a
variable first dimension. Loading a name that is loaded replaces it without failing a request: the
new worker starts beside the old, requests switch to it once it is ready, and the old one stops
when its in-flight requests are done. Every successful load is saved as state_dir/models/{name}.json
(unload removes it) and `restore()` loads them all again after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import logging
import multiprocessing
import os
import re
import signal
import socket
import tempfile
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from registry.runtime import ipc
from registry.runtime import worker as worker_main
from registry.runtime.batching import AdaptiveBatcher
from registry.runtime.interface import (
    PLATFORM,
    InferenceInputError,
    InferenceTimeout,
    ModelConfig,
    ModelInfo,
    ModelLoadError,
    ModelNotFound,
    ModelUnavailable,
    TensorSpec,
)

logger = logging.getLogger(__name__)

READY, UNAVAILABLE, LOADING = "READY", "UNAVAILABLE", "LOADING"
ZYGOTE_PRELOAD = ["numpy", "onnxruntime", "registry.runtime.worker"]
# How long a worker may take past a request's own timeout (it stops itself at the timeout) before it is killed.
KILL_GRACE_S = 2.0
LOAD_TIMEOUT_S = 120.0
STOP_GRACE_S = 2.0
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
# A request frame up to this size is joined and written at once; a larger one goes out part by part.
_JOIN_BELOW = 256 << 10
# The host spins for the answer of the only request in flight when the model's recent round trips average
# under SPIN_MAX_S, for at most twice that average plus SPIN_SLACK_S.
SPIN_MAX_S = 0.001
SPIN_SLACK_S = 0.0002


class _HostLoad:
    """Requests in flight on the whole host: a spinning wait is only for a host with nothing else to do."""

    __slots__ = ("inflight",)

    def __init__(self):
        self.inflight = 0


@dataclass(frozen=True)
class RestartPolicy:
    max_crashes: int = 5  # crashes within window_s after which the model stays UNAVAILABLE
    window_s: float = 60.0
    backoff_s: float = 0.1  # first restart delay, doubled for each further crash in the window
    backoff_max_s: float = 10.0


def default_spawn_context() -> multiprocessing.context.BaseContext:
    """The forkserver context with numpy and onnxruntime preloaded in the zygote."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(ZYGOTE_PRELOAD)
    return context


def human_size(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def _info_from(fields: dict, max_batch_size: int) -> ModelInfo:
    def specs(items):
        return tuple(TensorSpec(item["name"], item["datatype"], tuple(item["shape"])) for item in items)

    return ModelInfo(
        name=fields["name"],
        versions=tuple(fields["versions"]),
        platform=PLATFORM,
        inputs=specs(fields["inputs"]),
        outputs=specs(fields["outputs"]),
        max_batch_size=max_batch_size,
    )


def _batchable(info_fields: dict, config: ModelConfig) -> bool:
    tensors = [*info_fields["inputs"], *info_fields["outputs"]]
    return config.max_batch_size > 0 and all(spec["shape"] and spec["shape"][0] == -1 for spec in tensors)


def _exit_reason(exitcode: int | None) -> str:
    if exitcode is None:
        return "stopped answering"
    if exitcode == -signal.SIGKILL:
        return "was killed (signal 9), most likely for running out of memory"
    if exitcode < 0:
        return f"crashed (signal {-exitcode})"
    return f"exited with status {exitcode}"


class _Channel(asyncio.Protocol):
    """The host's end of a worker's socket. Frames are cut out of the stream in the read callback itself
    and handed to `on_frame`, so an answer reaches its waiting request with no reader task in between."""

    def __init__(self):
        loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.on_frame = None  # callable(payload: memoryview); may raise ipc.FrameError
        self.lost = loop.create_future()  # -> None (hung up) or the FrameError that ended the stream
        self.writable = asyncio.Event()
        self.writable.set()
        self._chunks: list[bytes] = []
        self._size = 0
        self._need = ipc.FRAME_LENGTH.size
        self._in_prefix = True

    def connection_made(self, transport) -> None:
        self.transport = transport

    def attach(self, on_frame) -> None:
        """Start handing frames to `on_frame`, beginning with any that came before it was there."""
        self.on_frame = on_frame
        self.data_received(b"")

    def data_received(self, data: bytes) -> None:
        if self.lost.done():
            return
        if data:
            self._chunks.append(data)
            self._size += len(data)
        if self.on_frame is None:  # the worker may answer before the host is listening: keep it
            return
        while self._size >= self._need:  # one join per frame, however many reads it took
            buffer = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
            need = self._need
            if self._in_prefix:
                (length,) = ipc.FRAME_LENGTH.unpack_from(buffer)
                if length > ipc.MAX_FRAME_BYTES:
                    return self._fail(ipc.FrameError(f"a frame of {length} bytes"))
                self._in_prefix, self._need = False, length
            else:
                self._in_prefix, self._need = True, ipc.FRAME_LENGTH.size
                try:
                    self.on_frame(memoryview(buffer)[:need])
                except ipc.FrameError as exc:
                    return self._fail(exc)
            rest = buffer[need:]
            self._chunks = [rest] if rest else []
            self._size = len(rest)

    def _fail(self, error: ipc.FrameError) -> None:
        self._chunks, self._size = [], 0
        if not self.lost.done():
            self.lost.set_result(error)
        self.transport.abort()

    def connection_lost(self, exc) -> None:
        self.writable.set()
        if not self.lost.done():
            self.lost.set_result(None)

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()


class _Worker:
    """One child process serving one model: its socket, its requests in flight, and how it ended."""

    def __init__(self, name: str, process, channel: _Channel, *, memory_limit: int, host_load: _HostLoad):
        self.name, self.process, self._channel = name, process, channel
        self._transport = channel.transport
        self._first_frame: asyncio.Future | None = None
        self.memory_limit = memory_limit
        self.pid: int = process.pid
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False  # the host ended it on purpose: not a crash
        self._stop_reason = ""
        loop = asyncio.get_running_loop()
        self._exited = loop.create_future()
        loop.add_reader(process.sentinel, self._on_sentinel)
        self.ended = loop.create_future()  # -> (reason, expected)
        self._watch_task: asyncio.Task | None = None
        self._fd = channel.transport.get_extra_info("socket").fileno()
        self._host_load = host_load
        self._round_trip_s = 0.0  # a moving average of this worker's answers

    # --- start -------------------------------------------------------------------------------------
    async def handshake(self, timeout_s: float) -> dict:
        """Wait for the worker's first frame: the model's info, or why it could not load it."""
        self._first_frame = asyncio.get_running_loop().create_future()
        self._channel.attach(self._on_frame)
        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.wait({self._first_frame, self._channel.lost}, return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            await self.stop(0)
            raise ModelLoadError(f"The model did not finish loading within {timeout_s:g} s.") from None
        if not self._first_frame.done():
            exitcode = await self._exit_code()
            await self.stop(0)
            raise ModelLoadError(f"onnxruntime {_exit_reason(exitcode)} while loading the model.") from None
        header, _ = self._first_frame.result()
        if header.get("op") != "ready":
            await self.stop(0)
            reason = str(header.get("reason") or "the model process failed")
            raise ModelLoadError(f"The model cannot be loaded: {reason}")
        self._watch_task = asyncio.get_running_loop().create_task(self._watch())
        return header["info"]

    # --- requests ----------------------------------------------------------------------------------
    async def request(
        self, inputs: dict[str, np.ndarray], output_names: list[str] | None, timeout_ms: int
    ) -> dict[str, np.ndarray]:
        if self.ended.done() or self._stopping or self._stop_reason:
            raise ModelUnavailable(f"Model {self.name}'s process is restarting.")
        request_id = next(self._ids)
        started = time.perf_counter()
        future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self._idle.clear()
        limit_s = timeout_ms / 1000 + KILL_GRACE_S
        try:
            # One vectored write, and a timeout without a task of its own: both show at one connection.
            parts = ipc.encode({"op": "infer", "id": request_id, "outputs": output_names}, inputs)
            if sum(len(part) for part in parts) <= _JOIN_BELOW:
                self._transport.write(b"".join(parts))  # the worker wakes once, for the whole frame
            else:
                self._transport.writelines(parts)
            if self._host_load.inflight == 1 and self._round_trip_s < SPIN_MAX_S:
                self._spin_for(future, started)
            async with asyncio.timeout(limit_s):
                if not self._channel.writable.is_set():
                    await self._channel.writable.wait()
                header, tensors = await future
        except TimeoutError:
            self._kill(f"did not answer within {limit_s:g} s and was restarted")
            raise InferenceTimeout(
                f"Model {self.name} did not finish within its timeout of {timeout_ms} ms; its "
                f"process did not stop the run and was restarted."
            ) from None
        finally:
            self._pending.pop(request_id, None)
            if not self._pending:
                self._idle.set()
        self._round_trip_s = 0.8 * self._round_trip_s + 0.2 * (time.perf_counter() - started)
        if header.get("ok"):
            return tensors
        kind, message = header.get("kind"), str(header.get("message", ""))
        if kind == "timeout":
            raise InferenceTimeout(f"Model {self.name} ran past its timeout of {timeout_ms} ms and was cut off.")
        if kind == "memory":
            raise ModelUnavailable(
                f"Model {self.name} ran out of memory (its limit is {human_size(self.memory_limit)}): {message}"
            )
        raise InferenceInputError(message or "onnxruntime refused the inputs")

    async def wait_idle(self) -> None:
        await self._idle.wait()

    # --- reading -----------------------------------------------------------------------------------
    def _spin_for(self, future: asyncio.Future, started: float) -> None:
        """Read the answer off the socket here for a moment instead of going back to the event loop to sleep
        until it comes: only for the one request in flight on the whole host, to a model whose round trips are
        short (SPIN_MAX_S). A sleeping process costs a wake-up per answer, which on a virtual machine with an
        idle CPU is most of a small model's latency. The bytes go to the channel as if the transport had read
        them; an empty or closed socket, or the budget running out, leaves the rest to the event loop."""
        deadline = started + 2 * self._round_trip_s + SPIN_SLACK_S
        while not future.done() and not self._channel.lost.done():
            try:
                data = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                if time.perf_counter() > deadline:
                    return
                continue
            except OSError:
                return
            if not data:
                return  # end of stream: the transport sees it too, and _watch() follows
            self._channel.data_received(data)

    def _on_frame(self, payload: memoryview) -> None:
        header, tensors = ipc.decode(payload)
        if self._first_frame is not None and not self._first_frame.done():
            self._first_frame.set_result((header, tensors))
            return
        future = self._pending.get(header.get("id"))
        if future is not None and not future.done():
            future.set_result((header, tensors))

    async def _watch(self) -> None:
        """After the handshake: wait for the socket to end, then fail what is in flight and report why."""
        error = await self._channel.lost
        reason = ""
        if error is not None:
            reason = f"sent a malformed answer ({error})"
            self._kill(reason)
        exitcode = await self._exit_code()
        if self._stop_reason:
            reason = self._stop_reason
        elif not reason:
            reason = _exit_reason(exitcode)
        failure = ModelUnavailable(f"Model {self.name}'s process {reason}.")
        for future in self._pending.values():
            if not future.done():
                future.set_exception(failure)
        self._close_process()
        if not self.ended.done():
            self.ended.set_result((reason, self._stopping))

    # --- exit --------------------------------------------------------------------------------------
    def _on_sentinel(self) -> None:
        asyncio.get_running_loop().remove_reader(self.process.sentinel)
        if not self._exited.done():
            self._exited.set_result(self.process.exitcode)

    async def _exit_code(self, wait_s: float = 2.0) -> int | None:
        """The exit status, killing the process if it hung up but does not exit."""
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(asyncio.shield(self._exited), wait_s)
        self._signal(signal.SIGKILL)
        return await self._exited

    def _signal(self, signum: int) -> None:
        if not self._exited.done():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    @property
    def killed(self) -> bool:
        return bool(self._stop_reason) and not self._stopping

    def _kill(self, reason: str) -> None:
        """End it at once, as a failure (the model will be restarted)."""
        self._stop_reason = self._stop_reason or reason
        self._signal(signal.SIGKILL)

    async def stop(self, grace_s: float | None = None) -> None:
        """End it on purpose: hang up, SIGTERM, and SIGKILL after `grace_s` (STOP_GRACE_S by default)."""
        grace_s = STOP_GRACE_S if grace_s is None else grace_s
        self._stopping = True
        self._stop_reason = self._stop_reason or "was stopped"
        self._transport.close()
        self._signal(signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._exited), grace_s)
        self._signal(signal.SIGKILL)
        await self._exited
        if self._watch_task is None:
            self._close_process()
        else:
            await asyncio.shield(self._watch_task)

    def _close_process(self) -> None:
        with contextlib.suppress(Exception):
            self._transport.close()
        with contextlib.suppress(ValueError):
            self.process.close()


class _Endpoint:
    """A loaded name: its config, its current worker, its state, and its crash history."""

    def __init__(self, config: ModelConfig):
        self.config = config
        self.info: ModelInfo | None = None
        self.state, self.reason = LOADING, ""
        self.worker: _Worker | None = None
        self.batcher: AdaptiveBatcher | None = None
        self.crashes: deque[float] = deque()
        self.restart_task: asyncio.Task | None = None
        self.retired = False

    async def run(self, inputs: dict[str, np.ndarray], output_names: list[str] | None) -> dict[str, np.ndarray]:
        worker = self.worker
        if worker is None or self.state != READY:
            raise ModelUnavailable(f"Model {self.config.name} is unavailable: {self.reason or 'not ready'}.")
        try:
            return await worker.request(inputs, output_names, self.config.timeout_ms)
        except InferenceTimeout:
            if worker.killed and self.worker is worker:  # unavailable from now, not from when its exit is seen
                self.state, self.reason = UNAVAILABLE, "Its process stopped answering and is restarting"
            raise

    async def infer(self, inputs: dict[str, np.ndarray], output_names: list[str] | None) -> dict[str, np.ndarray]:
        if self.state != READY:
            raise ModelUnavailable(f"Model {self.config.name} is unavailable: {self.reason or 'not ready'}.")
        if self.batcher is not None:
            return await self.batcher.submit(inputs, output_names)
        return await self.run(inputs, output_names)


class ProcessModelHost:
    """interface.ModelHost with one worker process per model; see the module docstring."""

    def __init__(
        self,
        *,
        state_dir: str | Path,
        metrics=None,
        spawn_context=None,
        restart_policy: RestartPolicy = RestartPolicy(),
    ):
        self._state_dir = Path(state_dir) / "models"
        self._metrics = metrics
        self._context = spawn_context or default_spawn_context()
        self._policy = restart_policy
        self._endpoints: dict[str, _Endpoint] = {}
        self._loading: dict[str, ModelConfig] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._background: set[asyncio.Task] = set()
        self._spawner = ThreadPoolExecutor(1, thread_name_prefix="model-spawner")
        self._closed = False
        self._load = _HostLoad()

    # --- ModelHost ---------------------------------------------------------------------------------
    async def load(self, config: ModelConfig) -> ModelInfo:
        if not _NAME.fullmatch(config.name):
            raise ModelLoadError(f"{config.name!r} is not a model name (letters, digits, '.', '_', '-').")
        if self._closed:
            raise ModelLoadError("The runtime is shutting down.")
        async with self._lock(config.name):
            endpoint = await self._start_endpoint(config)
            await self._in_executor(self._save_config, config)
            old = self._endpoints.get(config.name)
            self._endpoints[config.name] = endpoint
            if old is not None:
                self._in_background(self._retire(old, drain=True))
            return endpoint.info

    async def unload(self, name: str) -> None:
        async with self._lock(name):
            endpoint = self._endpoints.pop(name, None)
            if endpoint is None:
                raise ModelNotFound(f"Model {name} is not loaded.")
            await self._in_executor(self._remove_config, name)
            await self._retire(endpoint, drain=True)

    def info(self, name: str) -> ModelInfo | None:
        endpoint = self._endpoints.get(name)
        return endpoint.info if endpoint is not None and endpoint.state == READY else None

    def index(self) -> list[dict]:
        entries = {
            name: {"name": name, "version": config.version, "state": LOADING, "reason": ""}
            for name, config in self._loading.items()
        }
        for name, endpoint in self._endpoints.items():
            entries[name] = {
                "name": name,
                "version": endpoint.config.version,
                "state": endpoint.state,
                "reason": endpoint.reason,
            }
        return [entries[name] for name in sorted(entries)]

    async def infer(
        self, name: str, inputs: dict[str, np.ndarray], output_names: list[str] | None
    ) -> dict[str, np.ndarray]:
        endpoint = self._endpoints.get(name)
        if endpoint is None:
            if name in self._loading:
                raise ModelUnavailable(f"Model {name} is loading.")
            raise ModelNotFound(f"Model {name} is not loaded.")
        self._load.inflight += 1
        try:
            return await endpoint.infer(inputs, output_names)
        finally:
            self._load.inflight -= 1

    async def close(self) -> None:
        self._closed = True
        endpoints = list(self._endpoints.values())
        self._endpoints.clear()
        await asyncio.gather(*(self._retire(endpoint, drain=False) for endpoint in endpoints), return_exceptions=True)
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        self._spawner.shutdown(wait=False)

    # --- beyond the contract -----------------------------------------------------------------------
    async def restore(self) -> list[ModelConfig]:
        """Load every model saved in state_dir; returns the configs of those that are READY. A model that fails
        stays in index() as UNAVAILABLE with the reason (its saved config is kept for the next start)."""
        configs = await self._in_executor(self._saved_configs)

        async def restore_one(config: ModelConfig | str, reason: str) -> ModelConfig | None:
            if isinstance(config, ModelConfig):
                try:
                    await self.load(config)
                    return config
                except ModelLoadError as exc:
                    reason = str(exc)
            else:  # only the name is known: the file is unreadable
                config = ModelConfig(name=config, path="")
            failed = _Endpoint(config)
            failed.state, failed.reason = UNAVAILABLE, f"Restoring the model failed: {reason}"
            self._endpoints.setdefault(config.name, failed)
            return None

        restored = await asyncio.gather(*(restore_one(config, reason) for config, reason in configs))
        return [config for config in restored if config is not None]

    def worker_pid(self, name: str) -> int | None:
        """The pid of the process serving `name` (for operators and tests), or None."""
        endpoint = self._endpoints.get(name)
        return endpoint.worker.pid if endpoint is not None and endpoint.worker is not None else None

    # --- workers -----------------------------------------------------------------------------------
    async def _start_worker(self, config: ModelConfig) -> tuple[_Worker, dict]:
        parent, child = socket.socketpair()
        try:
            process = self._context.Process(
                target=worker_main.serve,
                args=(child, dataclasses.asdict(config)),
                name=f"modelhub-model-{config.name}",
                daemon=True,
            )
            await self._in_executor(process.start, executor=self._spawner)
            # multiprocessing polls its children's sentinels from whichever thread starts the next one; this
            # host reads the exit status itself (on the event loop), and two readers would race for it.
            multiprocessing.process._children.discard(process)
        except BaseException:
            parent.close()
            raise
        finally:
            child.close()
        _, channel = await asyncio.get_running_loop().create_unix_connection(_Channel, sock=parent)
        worker = _Worker(config.name, process, channel, memory_limit=config.memory_limit_bytes, host_load=self._load)
        info = await worker.handshake(LOAD_TIMEOUT_S)
        return worker, info

    async def _start_endpoint(self, config: ModelConfig) -> _Endpoint:
        self._loading[config.name] = config
        try:
            worker, info_fields = await self._start_worker(config)
        finally:
            self._loading.pop(config.name, None)
        endpoint = _Endpoint(config)
        batching = _batchable(info_fields, config)
        endpoint.info = _info_from(info_fields, config.max_batch_size if batching else 0)
        if batching:
            endpoint.batcher = AdaptiveBatcher(
                endpoint.run,
                max_batch_size=config.max_batch_size,
                max_batch_delay_ms=config.max_batch_delay_ms,
                on_batch=self._batch_observer(config.name),
            )
        self._attach(endpoint, worker)
        return endpoint

    def _attach(self, endpoint: _Endpoint, worker: _Worker) -> None:
        endpoint.worker, endpoint.state, endpoint.reason = worker, READY, ""
        worker.ended.add_done_callback(lambda ended: self._worker_ended(endpoint, worker, *ended.result()))

    def _batch_observer(self, name: str):
        observe = getattr(self._metrics, "observe_batch", None)
        return None if observe is None else (lambda size: observe(name, size))

    def _worker_ended(self, endpoint: _Endpoint, worker: _Worker, reason: str, expected: bool) -> None:
        if expected or endpoint.retired or endpoint.worker is not worker or self._closed:
            return
        logger.warning("model %s: worker %s %s", endpoint.config.name, worker.pid, reason)
        endpoint.worker = None
        self._crashed(endpoint, f"Its process {reason}")

    def _crashed(self, endpoint: _Endpoint, reason: str) -> None:
        now = time.monotonic()
        endpoint.crashes.append(now)
        while endpoint.crashes and endpoint.crashes[0] < now - self._policy.window_s:
            endpoint.crashes.popleft()
        endpoint.state = UNAVAILABLE
        crashes = len(endpoint.crashes)
        if crashes >= self._policy.max_crashes:
            endpoint.reason = (
                f"{reason}; it failed {crashes} times within {self._policy.window_s:g} s and is "
                f"not restarted (load it again to retry)"
            )
            return
        delay = min(self._policy.backoff_s * 2 ** (crashes - 1), self._policy.backoff_max_s)
        endpoint.reason = f"{reason}; restarting in {delay:g} s"
        endpoint.restart_task = self._in_background(self._restart(endpoint, delay))

    async def _restart(self, endpoint: _Endpoint, delay: float) -> None:
        await asyncio.sleep(delay)
        if endpoint.retired or self._closed:
            return
        try:
            worker, _ = await self._start_worker(endpoint.config)
        except ModelLoadError as exc:
            self._crashed(endpoint, f"Restarting failed: {exc}")
            return
        if endpoint.retired or self._closed:
            await worker.stop()
            return
        self._attach(endpoint, worker)

    async def _retire(self, endpoint: _Endpoint, *, drain: bool) -> None:
        """Stop an endpoint that is no longer in the table: after its requests finish when `drain`."""
        endpoint.retired = True
        if endpoint.restart_task is not None:
            endpoint.restart_task.cancel()
        if drain and endpoint.batcher is not None:
            await endpoint.batcher.close()
        worker = endpoint.worker
        if worker is None:
            return
        if drain:
            await worker.wait_idle()
        await worker.stop()

    # --- state -------------------------------------------------------------------------------------
    def _save_config(self, config: ModelConfig) -> None:
        self._state_dir.mkdir(parents=True, exist_ok=True)
        data = json.dumps(dataclasses.asdict(config), indent=2, sort_keys=True).encode()
        descriptor, temporary = tempfile.mkstemp(dir=self._state_dir, prefix=f".{config.name}.", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self._state_dir / f"{config.name}.json")
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        self._sync_dir()

    def _remove_config(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self._state_dir / f"{name}.json").unlink()
            self._sync_dir()

    def _sync_dir(self) -> None:
        descriptor = os.open(self._state_dir, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def _saved_configs(self) -> list[tuple[ModelConfig | str, str]]:
        """(config, "") for every readable saved config, (name, why not) for the others."""
        if not self._state_dir.is_dir():
            return []
        fields = {field.name for field in dataclasses.fields(ModelConfig)}
        saved = []
        for path in sorted(self._state_dir.glob("*.json")):
            try:
                data = json.loads(path.read_text())
                saved.append((ModelConfig(**{key: value for key, value in data.items() if key in fields}), ""))
            except (OSError, ValueError, TypeError) as exc:
                saved.append((path.stem, f"its saved config {path.name} cannot be read: {exc}"))
        return saved

    # --- plumbing ----------------------------------------------------------------------------------
    def _lock(self, name: str) -> asyncio.Lock:
        return self._locks.setdefault(name, asyncio.Lock())

    async def _in_executor(self, function, *args: Any, executor=None):
        return await asyncio.get_running_loop().run_in_executor(executor, function, *args)

    def _in_background(self, coroutine) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task
