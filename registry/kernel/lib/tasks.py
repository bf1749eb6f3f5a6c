"""Sending Celery tasks by name once the current transaction has committed.

Services enqueue work through these functions instead of importing task modules, so imports run
one way (tasks import services, never the reverse) and a worker never reads uncommitted rows.
"""

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def task_send(name: str, *args) -> bool:
    """Send task `name` now; False (and a log line) when the broker cannot take it.

    Callers have committed their rows already, so a broker outage must not turn into an error for
    the user: each enqueuing area has a sweep that re-sends work that never started.
    """
    try:
        current_app.send_task(name, args=list(args))
    except Exception:
        logger.exception("could not send task %s%r; its recovery sweep will send it again", name, args)
        return False
    return True


def task_send_on_commit(name: str, *args) -> None:
    """Send task `name` after the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: task_send(name, *args))


def backoff_seconds(retries: int, *, base: float, cap: float = 600) -> float:
    """Exponential backoff before retry number `retries + 1`: base, 2*base, 4*base, ... at most `cap`."""
    return min(base * 2**retries, cap)
