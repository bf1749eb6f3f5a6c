"""A worker that shuts down warm hands its claimed jobs back at once, instead of finishing them or being killed.

Celery's warm shutdown (SIGTERM to the worker's main process) waits for the running tasks; a validation can take
minutes, longer than an orchestrator's termination grace period, so the worker is SIGKILLed and its job waits for
its lease (registry.kernel.lib.leases) and a sweep. Instead, the main process sends DRAIN_SIGNAL to its pool
processes (`drain_pool_processes`, on celery's `worker_shutting_down`); in a pool process the handler
(`install_drain_handler`, on `worker_process_init`) marks the process as draining and, when its main thread is
inside an `interruptible()` block (copying files, a sandbox run: work that is safe to abandon), raises
WorkerDraining there. The task catches it, gives its claim back (not counted as an attempt) and sends its job
again, and returns: the worker exits promptly and the next one takes the job without waiting for a lease.

A drain signal outside an `interruptible()` block only marks the process: the next block raises on entry, so work
that must not be cut (recording an outcome, a transaction, a call that changes a runtime) finishes, and the job is
handed back at the next safe point. The exception is raised asynchronously, like Celery's soft time limit, so the
code inside a block must clean up in `finally` (the sandbox kills its child there). WorkerDraining is a
BaseException, so that `except Exception` inside a block (a library's own error handling) cannot swallow it.
Cold shutdown and SIGKILL are left to the lease.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Not SIGUSR1: billiard raises the soft time limit with it.
DRAIN_SIGNAL = signal.SIGUSR2


class WorkerDraining(BaseException):
    """The worker is shutting down warm: hand the job back (release the claim, send the task again)."""


class _State:
    installed = False  # this process drains on DRAIN_SIGNAL (a pool process)
    draining = False  # DRAIN_SIGNAL arrived: every interruptible() block raises on entry
    depth = 0  # interruptible() blocks the main thread is inside
    raised = False  # the handler raised once already (never again: a `finally` is cleaning up)


_state = _State()


def worker_draining() -> bool:
    """Whether this process was asked to hand its jobs back."""
    return _state.draining


def _on_drain(signum, frame) -> None:
    _state.draining = True
    if _state.depth and not _state.raised:
        _state.raised = True
        raise WorkerDraining("the worker is shutting down warm")


def install_drain_handler() -> None:
    """Make this process (a prefork pool process, on `worker_process_init`) drain on DRAIN_SIGNAL."""
    signal.signal(DRAIN_SIGNAL, _on_drain)
    _state.installed = True


def keep_drain_handler() -> None:
    """Put the handler back if something replaced it since `install_drain_handler` (before each task): billiard's
    pool resets signal handlers after the process initializer when it runs with threads (a broker without an event
    loop). A no-op in a process that never installed it."""
    if (
        _state.installed
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(DRAIN_SIGNAL) is not _on_drain
    ):
        signal.signal(DRAIN_SIGNAL, _on_drain)


@contextmanager
def interruptible() -> Iterator[None]:
    """Mark work that a warm shutdown may abandon: a drain signal raises WorkerDraining inside the block, and a block
    entered after one raises at once. Only the main thread is interrupted (signals reach only it); a block in
    another thread only checks on entry."""
    main = threading.current_thread() is threading.main_thread()
    if main:
        _state.depth += 1  # before the check: a signal between the two raises here, never goes unseen
    try:
        if _state.draining:
            raise WorkerDraining("the worker is shutting down warm")
        yield
    finally:
        if main:
            _state.depth -= 1


def drain_pool_processes() -> list[int]:
    """In the worker's main process (on a warm shutdown): send DRAIN_SIGNAL to each prefork pool process. Returns
    their pids. Only billiard's pool processes ("ForkPoolWorker-N"): another child (an embedded beat) would die of a
    signal it does not handle."""
    from billiard.process import active_children

    pids = []
    for child in active_children():
        if "PoolWorker" not in (child.name or "") or not child.pid:
            continue
        try:
            os.kill(child.pid, DRAIN_SIGNAL)
        except ProcessLookupError:
            continue
        pids.append(child.pid)
    return pids
