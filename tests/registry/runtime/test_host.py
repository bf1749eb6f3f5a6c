"""The model host (registry.runtime.host): real worker processes running real onnxruntime sessions."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from registry.runtime.host import ProcessModelHost, RestartPolicy
from registry.runtime.interface import (
    DATATYPES,
    InferenceInputError,
    InferenceTimeout,
    ModelConfig,
    ModelLoadError,
    ModelNotFound,
    ModelUnavailable,
)
from tests.registry.runtime import host_fixtures as models

FOREVER = np.array(1 << 62, dtype=np.int64)


@contextlib.asynccontextmanager
async def running_host(state_dir, **options):
    host = ProcessModelHost(state_dir=state_dir, **options)
    try:
        yield host
    finally:
        await host.close()


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 60))


def count_inputs(trip, x: float = 0.0) -> dict[str, np.ndarray]:
    return {"trip": np.array(trip, dtype=np.int64), "x": np.array([x], dtype=np.float32)}


async def wait_for_state(host, name: str, state: str, seconds: float = 10.0) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        entry = next(entry for entry in host.index() if entry["name"] == name)
        if entry["state"] == state or time.monotonic() > deadline:
            return entry
        await asyncio.sleep(0.02)


def is_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def dense(tmp_path):
    return models.save(models.dense_model(), tmp_path / "models", "dense")


@pytest.fixture
def counter(tmp_path):
    return models.save(models.counting_loop_model(), tmp_path / "models", "counter")


def test_every_datatype_loads_infers_and_unloads(tmp_path):
    path, sha256 = models.save(models.every_type_model(), tmp_path / "models")
    values = {datatype: np.arange(4).reshape(2, 2).astype(dtype) for datatype, dtype in DATATYPES.items()}
    values["BOOL"] = np.array([[True, False], [False, True]])
    values["BYTES"] = np.array([[b"a", b""], ["é".encode(), b"x" * 300]], dtype=object)
    values["FP32"] = np.array([[1.5, -0.0], [np.inf, 3e38]], dtype=np.float32)

    async def scenario():
        async with running_host(tmp_path / "state") as host:
            info = await host.load(ModelConfig(name="types", path=str(path), sha256=sha256))
            assert {spec.name: spec.datatype for spec in info.inputs} == {f"in_{dt}": dt for dt in DATATYPES}
            assert {spec.shape for spec in info.outputs} == {(-1, 2)}
            assert host.info("types") == info
            assert (tmp_path / "state" / "models" / "types.json").exists()
            outputs = await host.infer("types", {f"in_{dt}": array for dt, array in values.items()}, None)
            for datatype, array in values.items():
                result = outputs[f"out_{datatype}"]
                assert result.dtype == array.dtype and result.shape == array.shape, datatype
                assert result.tolist() == array.tolist(), datatype
            only = await host.infer("types", {f"in_{dt}": array for dt, array in values.items()}, ["out_BOOL"])
            assert list(only) == ["out_BOOL"]
            with pytest.raises(InferenceInputError):  # onnxruntime string tensors are UTF-8
                await host.infer(
                    "types",
                    {
                        **{f"in_{dt}": a for dt, a in values.items()},
                        "in_BYTES": np.array([[b"\xff", b""], [b"", b""]], dtype=object),
                    },
                    None,
                )
            pid = host.worker_pid("types")
            await host.unload("types")
            assert host.info("types") is None and host.index() == []
            assert not (tmp_path / "state" / "models" / "types.json").exists()
            with pytest.raises(ModelNotFound):
                await host.infer("types", {}, None)
            with pytest.raises(ModelNotFound):
                await host.unload("types")
            assert not is_alive(pid)

    run(scenario())


def test_info_reports_variable_dimensions_as_minus_one_and_refuses_a_wrong_digest(tmp_path):
    odd, _ = models.save(models.odd_dims_model(), tmp_path / "models", "odd")

    async def scenario():
        async with running_host(tmp_path / "state") as host:
            info = await host.load(ModelConfig(name="odd", path=str(odd), max_batch_size=8))
            assert info.inputs[0].shape == (-1, 3, -1) and info.outputs[0].shape == (-1, 3, -1)
            with pytest.raises(ModelLoadError, match="sha256"):
                await host.load(ModelConfig(name="bad", path=str(odd), sha256="0" * 64))
            with pytest.raises(ModelLoadError, match="cannot"):
                await host.load(ModelConfig(name="missing", path=str(tmp_path / "nope.onnx")))
            with pytest.raises(ModelLoadError, match="not a model name"):
                await host.load(ModelConfig(name="../escape", path=str(odd)))
            assert [entry["name"] for entry in host.index()] == ["odd"]
            assert sorted(os.listdir(tmp_path / "state" / "models")) == ["odd.json"]

    run(scenario())


def test_a_run_past_its_timeout_is_cut_off_while_another_model_answers(tmp_path, counter, dense):
    async def scenario():
        async with running_host(tmp_path / "state") as host:
            await host.load(ModelConfig(name="counter", path=str(counter[0]), timeout_ms=500))
            await host.load(ModelConfig(name="dense", path=str(dense[0])))
            pid = host.worker_pid("counter")
            started = time.monotonic()
            endless = asyncio.ensure_future(host.infer("counter", count_inputs(FOREVER), None))
            await asyncio.sleep(0.1)
            answered = await host.infer("dense", {"x": np.ones((1, 16), np.float32)}, None)
            assert answered["y"].shape == (1, 8) and not endless.done()
            with pytest.raises(InferenceTimeout, match="500 ms"):
                await endless
            assert time.monotonic() - started < 2.0  # the terminate flag stopped it, not the host's kill
            assert host.worker_pid("counter") == pid
            assert (await host.infer("counter", count_inputs(3, 1.0), None))["y"].tolist() == [4.0]

    run(scenario())


def test_a_memory_bomb_fails_within_its_limit_while_another_model_answers(tmp_path, dense):
    bomb, _ = models.save(models.memory_bomb_model(), tmp_path / "models", "bomb")

    async def scenario():
        async with running_host(tmp_path / "state") as host:
            await host.load(ModelConfig(name="bomb", path=str(bomb), memory_limit_bytes=512 << 20))
            await host.load(ModelConfig(name="dense", path=str(dense[0])))
            bombing = asyncio.ensure_future(host.infer("bomb", {"x": np.ones(1, np.float32)}, None))
            answered = await host.infer("dense", {"x": np.ones((1, 16), np.float32)}, None)
            assert answered["y"].shape == (1, 8)
            with pytest.raises((ModelUnavailable, InferenceInputError), match="memory") as failure:
                await bombing
            assert "512 MiB" in str(failure.value)
            assert (await host.infer("dense", {"x": np.ones((1, 16), np.float32)}, None))["y"].shape == (1, 8)

    run(scenario())


def test_a_crashed_worker_fails_its_requests_and_is_restarted(tmp_path, counter):
    async def scenario():
        async with running_host(tmp_path / "state", restart_policy=RestartPolicy(backoff_s=0.05)) as host:
            await host.load(ModelConfig(name="counter", path=str(counter[0])))
            pid = host.worker_pid("counter")
            in_flight = [asyncio.ensure_future(host.infer("counter", count_inputs(FOREVER), None)) for _ in range(2)]
            await asyncio.sleep(0.2)
            os.kill(pid, signal.SIGSEGV)
            for request in in_flight:
                with pytest.raises(ModelUnavailable, match=r"crashed \(signal 11\)"):
                    await request
            entry = next(entry for entry in host.index() if entry["name"] == "counter")
            assert entry["state"] == "UNAVAILABLE" and "signal 11" in entry["reason"]
            assert (await wait_for_state(host, "counter", "READY"))["state"] == "READY"
            assert host.worker_pid("counter") != pid
            assert (await host.infer("counter", count_inputs(2, 1.0), None))["y"].tolist() == [3.0]

    run(scenario())


def test_a_model_that_keeps_crashing_stays_unavailable(tmp_path, dense):
    async def scenario():
        policy = RestartPolicy(max_crashes=2, window_s=60, backoff_s=0.05)
        async with running_host(tmp_path / "state", restart_policy=policy) as host:
            await host.load(ModelConfig(name="dense", path=str(dense[0])))
            os.kill(host.worker_pid("dense"), signal.SIGKILL)
            await wait_for_state(host, "dense", "UNAVAILABLE")
            await wait_for_state(host, "dense", "READY")
            os.kill(host.worker_pid("dense"), signal.SIGKILL)
            await asyncio.sleep(0.3)
            entry = await wait_for_state(host, "dense", "UNAVAILABLE")
            assert "not restarted" in entry["reason"] and "signal 9" in entry["reason"]
            assert host.info("dense") is None and host.worker_pid("dense") is None
            with pytest.raises(ModelUnavailable, match="not restarted"):
                await host.infer("dense", {"x": np.ones((1, 16), np.float32)}, None)
            await host.load(ModelConfig(name="dense", path=str(dense[0])))  # loading again tries again
            assert host.info("dense") is not None

    run(scenario())


class BatchSizes:
    def __init__(self):
        self.sizes: list[tuple[str, int]] = []

    def observe_batch(self, model: str, size: int) -> None:
        self.sizes.append((model, size))


def test_concurrent_requests_are_batched_with_the_results_of_single_runs(tmp_path, dense, counter):
    metrics = BatchSizes()
    rows = np.random.default_rng(7).standard_normal((32, 1, 16)).astype(np.float32)

    async def scenario():
        async with running_host(tmp_path / "state", metrics=metrics) as host:
            batched = await host.load(
                ModelConfig(name="batched", path=str(dense[0]), max_batch_size=16, max_batch_delay_ms=50)
            )
            await host.load(ModelConfig(name="single", path=str(dense[0])))
            assert batched.max_batch_size == 16
            fixed = await host.load(ModelConfig(name="counter", path=str(counter[0]), max_batch_size=16))
            assert fixed.max_batch_size == 0  # its inputs have no variable first dimension
            together = await asyncio.gather(*(host.infer("batched", {"x": row}, None) for row in rows))
            alone = [await host.infer("single", {"x": row}, None) for row in rows]
            for mine, reference in zip(together, alone, strict=True):
                assert mine["y"].shape == (1, 8)
                assert mine["y"].tobytes() == reference["y"].tobytes()
            await host.infer("counter", count_inputs(1), None)

    run(scenario())
    sizes = [size for model, size in metrics.sizes if model == "batched"]
    assert sum(sizes) == 32 and max(sizes) > 1
    assert all(model == "batched" for model, _ in metrics.sizes)


def test_a_new_host_restores_the_saved_models(tmp_path, dense, counter):
    state = tmp_path / "state"

    async def first():
        async with running_host(state) as host:
            await host.load(ModelConfig(name="dense", path=str(dense[0]), version="3", max_batch_size=4))
            await host.load(ModelConfig(name="counter", path=str(counter[0])))
            await host.load(ModelConfig(name="gone", path=str(counter[0])))
            await host.unload("gone")
            return await host.infer("dense", {"x": np.ones((1, 16), np.float32)}, None)

    expected = run(first())
    (state / "models" / "broken.json").write_text(json.dumps({"name": "broken", "path": str(tmp_path / "no.onnx")}))

    async def second():
        async with running_host(state) as host:
            assert sorted(c.name for c in await host.restore()) == ["counter", "dense"]
            index = {entry["name"]: entry for entry in host.index()}
            assert set(index) == {"broken", "counter", "dense"}
            assert index["dense"]["state"] == "READY" and index["dense"]["version"] == "3"
            assert index["broken"]["state"] == "UNAVAILABLE" and "Restoring" in index["broken"]["reason"]
            assert host.info("dense").max_batch_size == 4
            got = await host.infer("dense", {"x": np.ones((1, 16), np.float32)}, None)
            assert got["y"].tobytes() == expected["y"].tobytes()
            with pytest.raises(ModelUnavailable):
                await host.infer("broken", {}, None)

    run(second())


def test_loading_a_loaded_name_replaces_it_without_failing_a_request(tmp_path):
    old_path, _ = models.save(models.dense_model(seed=1), tmp_path / "models", "old")
    new_path, _ = models.save(models.dense_model(seed=2), tmp_path / "models", "new")
    x = np.ones((1, 16), np.float32)

    async def scenario():
        async with running_host(tmp_path / "state") as host:
            await host.load(ModelConfig(name="m", path=str(old_path), max_batch_size=8))
            old_y = (await host.infer("m", {"x": x}, None))["y"]
            old_pid = host.worker_pid("m")
            stop = asyncio.Event()
            answers = []

            async def client():
                while not stop.is_set():
                    answers.append((await host.infer("m", {"x": x}, None))["y"])

            clients = [asyncio.ensure_future(client()) for _ in range(8)]
            await asyncio.sleep(0.1)
            info = await host.load(ModelConfig(name="m", path=str(new_path), version="2", max_batch_size=8))
            await asyncio.sleep(0.1)
            stop.set()
            await asyncio.gather(*clients)  # raises if any request failed
            new_y = (await host.infer("m", {"x": x}, None))["y"]
            assert info.versions == ("2",) and host.index()[0]["version"] == "2"
            assert not np.array_equal(old_y, new_y)
            assert any(np.array_equal(y, old_y) for y in answers) and np.array_equal(answers[-1], new_y)
            for _ in range(100):
                if not is_alive(old_pid):
                    break
                await asyncio.sleep(0.02)
            assert not is_alive(old_pid)
            return host.worker_pid("m")

    new_pid = run(scenario())
    assert not is_alive(new_pid)  # close() stopped it


def test_a_worker_that_stops_answering_is_killed_and_restarted(tmp_path, counter, dense, monkeypatch):
    from registry.runtime import host as host_module

    monkeypatch.setattr(host_module, "KILL_GRACE_S", 0.3)
    monkeypatch.setattr(host_module, "STOP_GRACE_S", 0.3)

    async def scenario():
        async with running_host(tmp_path / "state", restart_policy=RestartPolicy(backoff_s=0.05)) as host:
            loading = asyncio.ensure_future(
                host.load(ModelConfig(name="counter", path=str(counter[0]), timeout_ms=200))
            )
            await asyncio.sleep(0)
            assert host.index() == [{"name": "counter", "version": "1", "state": "LOADING", "reason": ""}]
            with pytest.raises(ModelUnavailable, match="loading"):
                await host.infer("counter", count_inputs(1), None)
            await loading
            await host.load(ModelConfig(name="dense", path=str(dense[0])))
            pid = host.worker_pid("counter")
            os.kill(pid, signal.SIGSTOP)  # frozen: its own terminate flag cannot answer for it
            started = time.monotonic()
            with pytest.raises(InferenceTimeout, match="restarted"):
                await host.infer("counter", count_inputs(1), None)
            assert 0.4 < time.monotonic() - started < 2.0
            assert (await wait_for_state(host, "counter", "READY"))["state"] == "READY"
            assert host.worker_pid("counter") != pid and not is_alive(pid)
            assert (await host.infer("counter", count_inputs(1), None))["y"].tolist() == [1.0]
            frozen = host.worker_pid("dense")
            os.kill(frozen, signal.SIGSTOP)  # SIGTERM stays pending: close() has to SIGKILL it
            return frozen

    started = time.monotonic()
    frozen = run(scenario())
    assert not is_alive(frozen) and time.monotonic() - started < 5


def test_the_host_imports_no_django():
    probe = (
        "import sys, registry.runtime.host, registry.runtime.worker, registry.runtime.batching; "
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'django'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        env={key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_channel_keeps_frames_that_come_before_it_is_attached():
    """A worker can answer (its `ready` frame) before the host listens: nothing is lost or misread."""
    import asyncio

    from registry.runtime import ipc
    from registry.runtime.host import _Channel

    async def scenario():
        channel = _Channel()
        frames = [b"".join(bytes(part) for part in ipc.encode({"op": "ready", "n": n})) for n in range(3)]
        wire = b"".join(frames)
        channel.data_received(wire[:5])  # a split length prefix, before anyone listens
        channel.data_received(wire[5:30])
        seen = []
        channel.attach(lambda payload: seen.append(ipc.decode(payload)[0]["n"]))
        channel.data_received(wire[30:])
        return seen

    assert asyncio.run(scenario()) == [0, 1, 2]
