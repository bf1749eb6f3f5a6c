"""The worker's terminate watchdog: woken only for an earlier deadline, bounded however many runs pass."""

import time
from types import SimpleNamespace

from registry.runtime.worker import _WATCHDOG_COMPACT_AT, _Watchdog


def test_deadlines_fire_and_finished_runs_do_not_pile_up():
    watchdog = _Watchdog()
    for _ in range(3 * _WATCHDOG_COMPACT_AT):  # a steady stream of quick runs with a long timeout
        watchdog.disarm(watchdog.arm(30.0, SimpleNamespace(terminate=False)))
    assert len(watchdog._heap) <= _WATCHDOG_COMPACT_AT + 1

    slow = SimpleNamespace(terminate=False)
    entry = watchdog.arm(0.05, slow)  # earlier than every pending deadline: the watchdog must wake for it
    deadline = time.monotonic() + 2
    while not slow.terminate and time.monotonic() < deadline:
        time.sleep(0.01)
    assert slow.terminate and watchdog.disarm(entry) is True
