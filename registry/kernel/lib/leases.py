"""Claims that prove they are alive: a heartbeat renews a claimed job's lease while it runs.

A task claims its row with a conditional update and stamps `claimed_at`; while it works, a `Heartbeat` thread
stamps it again every MODELHUB_HEARTBEAT_INTERVAL seconds. A claim whose stamp is older than MODELHUB_CLAIM_LEASE
belongs to a worker that is gone (killed, out of memory, its node drained), so the recovery sweep re-sends the job
within seconds, not after the whole time limit. A worker that is in fact alive and slow keeps its claim, and the
conditional finish (only the claim's own task id may record an outcome) stops a second copy from finishing twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)


def claim_lease() -> timedelta:
    """How old a claim's last heartbeat may be before the claim counts as lost."""
    return timedelta(seconds=settings.MODELHUB_CLAIM_LEASE)


def unclaimed_grace() -> timedelta:
    """How long a job may wait, sent but not claimed, before the sweep takes its message for lost."""
    return timedelta(seconds=settings.MODELHUB_UNCLAIMED_GRACE)


class Heartbeat:
    """Calls `renew()` every `interval` seconds on a thread of its own while the `with` block runs.

    `renew` is a conditional update that returns how many rows it stamped: 0 means the claim is not this task's
    any more (the job was reset, deleted or finished elsewhere), and the heartbeat stops. The thread uses its own
    database connection and closes it when it ends. Errors (the database restarting) are logged and retried at the
    next beat: a missed beat or two is what the lease allows for.
    """

    def __init__(self, renew: Callable[[], int], *, name: str, interval: float | None = None):
        self._renew, self._name = renew, name
        self._interval = interval if interval is not None else settings.MODELHUB_HEARTBEAT_INTERVAL
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat {name}", daemon=True)
        self.beats = 0

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._interval):
                try:
                    close_old_connections()
                    if not self._renew():
                        logger.info("%s: the claim is gone; heartbeat stopped", self._name)
                        return
                    self.beats += 1
                except Exception:
                    logger.warning("%s: heartbeat failed; retried at the next beat", self._name, exc_info=True)
        finally:
            connection.close()

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
