"""Checking uploaded files in a child process with its own memory, CPU and wall-clock budgets.

onnxruntime runs native code on a graph that anybody may have uploaded: a 135-byte model can ask for
4 GiB (Expand to [2^30]), a Loop can run forever, and a kernel bug can segfault. None of that may
touch the Celery worker, so the checks run in `python -m registry.validation.sandbox`, which:

- imports neither Django nor anything of ours that does, and gets no secrets: a minimal environment
  (no database URL, no storage keys) and only the version's own folder (and its input example, an
  .npz beside it, read without pickle);
- limits its address space (RLIMIT_AS), CPU time (RLIMIT_CPU), file writes (RLIMIT_FSIZE) and core
  dumps (none), and stops the smoke inference with onnxruntime's terminate flag after its budget;
- reports each check as it starts on stdout ("stage <check>"), so that when the parent has to kill
  it, or it dies, the reason names the step that was running;
- writes its result as JSON to a file the parent names.

The parent (`sandbox_run`) enforces the wall-clock budgets by killing the child's process group, and
turns every way the child can end into a final result: passed, or failed with a reason a person can
read ("the smoke inference needed more than 4 GiB of memory", "... did not finish within 30 s",
"onnxruntime crashed (signal 11) while loading the model"). Nothing here raises for a bad upload, so
a hostile file costs one bounded attempt, never a retry.
"""

from __future__ import annotations

import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MODEL = "model"
DATASET = "dataset"
ARTIFACT = "artifact"  # a model in a format that is catalogued, not served: its files read as data
# How long the parent waits past a budget the child enforces itself before killing it.
KILL_GRACE_SECONDS = 5.0
# The child is started as this command; tests replace it to simulate a child that crashes.
CHILD_COMMAND: tuple[str, ...] = (sys.executable, "-m", "registry.validation.sandbox")
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
_STAGE_PREFIX = "stage "
_RESULT_MAX_BYTES = 64 * 1024 * 1024

# check -> (what runs it, what it was doing, the step as a sentence subject)
_STAGES = {
    "parse": ("onnx", "reading the model", "Reading the model"),
    "external_data": ("onnx", "checking the external data", "Checking the external data"),
    "checker": ("the ONNX checker", "checking the model", "The ONNX checker"),
    "shape_inference": ("ONNX shape inference", "inferring shapes", "Shape inference"),
    "runtime_session": ("onnxruntime", "loading the model", "Loading the model"),
    "input_example": ("the input example check", "reading the input example", "Reading the input example"),
    "smoke_inference": ("onnxruntime", "running the smoke inference", "The smoke inference"),
    "dataset_profile": ("the dataset profiler", "profiling the dataset", "Profiling the dataset"),
    "model_format": ("the format reader", "reading the model's headers", "Reading the model's headers"),
    "pickle_scan": ("the pickle scanner", "scanning the pickles", "The pickle scan"),
}
_FIRST_STAGE = {MODEL: "parse", DATASET: "dataset_profile", ARTIFACT: "model_format"}


@dataclass(frozen=True)
class SandboxLimits:
    memory_bytes: int  # address space of the child
    cpu_seconds: int  # CPU time of the child
    smoke_seconds: float  # wall clock of the smoke inference
    wall_seconds: float  # wall clock of the whole run
    file_bytes: int  # largest file the child may write (shape inference writes a copy of the graph)


def human_size(size: int) -> str:
    """2**32 -> "4 GiB", 1536 * 2**20 -> "1.5 GiB"."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def sandbox_run(
    kind: str,
    path: Path,
    *,
    root: Path,
    filename: str,
    limits: SandboxLimits,
    workdir: Path,
    input_example: Path | None = None,
) -> dict[str, Any]:
    """Check one file in a sandboxed child; never raises for anything the file can cause.

    Returns {"ok": True, "result": <inspection or profile dict, or None>} or
    {"ok": False, "check": <check name>, "reason": <sentence>}. `workdir` (created if needed) holds
    the child's scratch files and result; the caller removes it. A model's smoke inference runs on
    `input_example` (an .npz the child reads without pickle) when given.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    result_path = workdir / "result.json"
    request = {
        "kind": kind,
        "path": str(path),
        "root": str(root),
        "filename": filename,
        "result_path": str(result_path),
        "memory_bytes": limits.memory_bytes,
        "cpu_seconds": limits.cpu_seconds,
        "smoke_seconds": limits.smoke_seconds,
        "file_bytes": limits.file_bytes,
        "input_example": str(input_example) if input_example is not None else None,
    }
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TMPDIR": str(workdir),
        "PYTHONPATH": str(_PROJECT_ROOT),
        "OMP_NUM_THREADS": "1",
        "PYTHONFAULTHANDLER": "1",
        "MODELHUB_SANDBOX_PARENT": str(os.getpid()),
    }
    stage = _FIRST_STAGE[kind]
    with open(workdir / "stderr.log", "wb+") as stderr:
        child = subprocess.Popen(
            CHILD_COMMAND,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=workdir,
            env=env,
            start_new_session=True,
        )
        try:
            stage, timed_out = _follow(child, json.dumps(request).encode(), stage, limits)
        finally:
            if child.poll() is None:
                _kill(child)
        stderr.seek(max(stderr.seek(0, os.SEEK_END) - 2000, 0))
        stderr_tail = stderr.read().decode(errors="replace")

    if timed_out:
        if stage == "smoke_inference":
            return _failed(stage, f"The smoke inference did not finish within {limits.smoke_seconds:g} s.")
        return _failed(
            stage, f"{_STAGES[stage][2]} did not finish within the validation time limit of {limits.wall_seconds:g} s."
        )
    if child.returncode < 0:
        logger.warning(
            "validation child died with signal %s while %s; stderr: %s",
            -child.returncode,
            _STAGES[stage][1],
            stderr_tail,
        )
        return _failed(stage, _signal_reason(-child.returncode, stage, limits))
    outcome = _read_result(result_path)
    if child.returncode != 0 or outcome is None:
        logger.error("validation child exited with status %s and no result; stderr: %s", child.returncode, stderr_tail)
        return _failed(
            stage, f"The validation process failed while {_STAGES[stage][1]} (exit status {child.returncode})."
        )
    if outcome["ok"]:
        return {"ok": True, "result": outcome["result"]}
    reason = outcome["reason"]
    if outcome.get("resource") == "memory":
        reason = (
            f"{_STAGES[outcome['check']][2]} needed more than {human_size(limits.memory_bytes)} of memory "
            f"(the validation limit for this model): {reason}"
        )
    return _failed(outcome["check"], reason)


def _follow(child: subprocess.Popen, request: bytes, stage: str, limits: SandboxLimits) -> tuple[str, bool]:
    """Send the request, then follow the child's stage reports until it exits or a deadline passes.

    Returns the last stage it reported and whether it was killed for running out of time.
    """
    started = time.monotonic()
    deadline = started + limits.wall_seconds
    try:
        child.stdin.write(request)
        child.stdin.close()
    except BrokenPipeError:  # died at once: the exit status tells why
        pass
    buffered = b""
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _kill(child)
                return stage, True
            if not selector.select(timeout=remaining):
                continue
            chunk = os.read(child.stdout.fileno(), 4096)
            if not chunk:  # EOF: the child is exiting
                break
            buffered += chunk
            *lines, buffered = buffered.split(b"\n")
            for line in lines:
                reported = line.decode(errors="replace").removeprefix(_STAGE_PREFIX)
                if line.startswith(_STAGE_PREFIX.encode()) and reported in _STAGES:
                    stage = reported
                    if stage == "smoke_inference":  # the child stops itself at the budget; this is the backstop
                        deadline = min(deadline, time.monotonic() + limits.smoke_seconds + KILL_GRACE_SECONDS)
            buffered = buffered[-4096:]
    try:
        child.wait(timeout=max(deadline - time.monotonic(), 0) + KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        _kill(child)
        return stage, True
    return stage, False


def _kill(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.wait()


def _signal_reason(signum: int, stage: str, limits: SandboxLimits) -> str:
    component, doing, subject = _STAGES[stage]
    if signum == signal.SIGXCPU:
        return f"{subject} used more than {limits.cpu_seconds} s of CPU time."
    if signum == signal.SIGKILL:
        return f"{component} was killed (signal 9) while {doing}, most likely by the host running out of memory."
    return f"{component} crashed (signal {signum}) while {doing}."


def _read_result(result_path: Path) -> dict[str, Any] | None:
    try:
        if result_path.stat().st_size > _RESULT_MAX_BYTES:
            return None
        outcome = json.loads(result_path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(outcome, dict) or not isinstance(outcome.get("ok"), bool):
        return None
    if not outcome["ok"] and (outcome.get("check") not in _STAGES or not isinstance(outcome.get("reason"), str)):
        return None
    return outcome


def _failed(check: str, reason: str) -> dict[str, Any]:
    return {"ok": False, "check": check, "reason": reason}


# --- the child ---------------------------------------------------------------------------------------


def _set_limits(request: dict[str, Any]) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (request["memory_bytes"], request["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (request["file_bytes"], request["file_bytes"]))
    # SIGXCPU at the soft limit (a readable reason), SIGKILL a little later if it is ignored.
    resource.setrlimit(resource.RLIMIT_CPU, (request["cpu_seconds"], request["cpu_seconds"] + 5))


def _report_stage(check: str) -> None:
    sys.stdout.write(f"{_STAGE_PREFIX}{check}\n")
    sys.stdout.flush()


def _child_inspect_artifact(root: Path) -> dict[str, Any]:
    """Every model file of the version read as data (registry/kernel/lib/model_formats.py), never loaded."""
    from registry.kernel.lib.model_formats import PICKLE_FORMATS, FormatInvalid, inspect_model_file, model_format

    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = path.relative_to(root).as_posix()
        kind = model_format(name)
        if kind is None or kind == "onnx":
            continue
        _report_stage("pickle_scan" if kind in PICKLE_FORMATS else "model_format")
        try:
            files[name] = inspect_model_file(path, name)
        except FormatInvalid as exc:
            return {"ok": False, "check": "model_format", "reason": f"{name}: {exc}"}
        except MemoryError:
            return {"ok": False, "check": "model_format", "reason": f"{name}: out of memory", "resource": "memory"}
        if len(files) >= 200:
            break
    return {"ok": True, "result": {"files": files}}


def _child_check(request: dict[str, Any]) -> dict[str, Any]:
    path, root = Path(request["path"]), Path(request["root"])
    if request["kind"] == ARTIFACT:
        return _child_inspect_artifact(root)
    if request["kind"] == MODEL:
        from registry.validation.onnx_model import ModelInvalid, inspect_onnx

        try:
            example = request.get("input_example")
            inspection = inspect_onnx(
                path,
                root=root,
                smoke_time_limit=request["smoke_seconds"],
                on_stage=_report_stage,
                input_example=Path(example) if example else None,
            )
        except ModelInvalid as exc:
            return {"ok": False, "check": exc.check, "reason": exc.reason, "resource": exc.resource}
        return {"ok": True, "result": inspection.as_dict()}
    from registry.validation.datasets import DatasetInvalid, profile_dataset

    _report_stage("dataset_profile")
    try:
        profile = profile_dataset(path, filename=request["filename"])
    except DatasetInvalid as exc:
        return {"ok": False, "check": "dataset_profile", "reason": exc.reason}
    except MemoryError:
        return {
            "ok": False,
            "check": "dataset_profile",
            "reason": "the profiler ran out of memory",
            "resource": "memory",
        }
    return {"ok": True, "result": profile}


def _die_with_parent(parent: int) -> None:
    """SIGKILL this child when the process that started it dies (Linux): a worker killed mid-validation leaves no
    sandbox burning a core. The child runs in a session of its own (so the worker's signals do not reach it), so
    without this it would outlive a SIGKILLed worker. A parent already gone before the call ends it at once."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return  # not Linux: the parent's own kill on its way out is what there is
    if os.getppid() != parent:
        os._exit(1)


def _child_main() -> None:
    _die_with_parent(int(os.environ.get("MODELHUB_SANDBOX_PARENT", "0")) or os.getppid())
    request = json.loads(sys.stdin.buffer.read())
    # The heavy libraries are imported before the address-space limit, so it bounds the work only.
    if request["kind"] == MODEL:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    elif request["kind"] == DATASET:
        import pyarrow.parquet  # noqa: F401
    else:
        import picklescan.scanner  # noqa: F401
    _set_limits(request)
    outcome = _child_check(request)
    Path(request["result_path"]).write_text(json.dumps(outcome))


if __name__ == "__main__":
    _child_main()
