import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from registry.endpoints.backends import RuntimeUnavailable
from registry.endpoints.services import (
    PROVISION_TASK,
    SHADOW_TASK,
    endpoint_finish,
    endpoint_hand_back,
    endpoint_provision,
    endpoint_release,
    endpoint_shadow_sync,
    endpoints_recover_stalled,
    shadow_give_up,
)
from registry.kernel.errors import TransientStorageError
from registry.kernel.lib.draining import WorkerDraining
from registry.kernel.lib.tasks import backoff_seconds

logger = logging.getLogger(__name__)

# Work on an endpoint's runtime: a lost worker's message is delivered again (acks_late + reject_on_worker_lost),
# faults worth retrying are retried without a limit of Celery's own (_retry_or_give_up counts), within time limits.
_CLAIMED_WORK = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "max_retries": None,
    "soft_time_limit": settings.MODELHUB_ENDPOINT_TIME_LIMIT,
    "time_limit": settings.MODELHUB_ENDPOINT_TIME_LIMIT + 30,
}


@shared_task(name=PROVISION_TASK, **_CLAIMED_WORK)
def endpoint_provision_task(self, endpoint_id: int) -> None:
    """Deploy, update or delete one endpoint. Idempotent (see registry.endpoints.services.provisioning); retries an
    unreachable runtime or storage with exponential backoff, then fails the endpoint with the reason.

    acks_late + reject_on_worker_lost: a lost worker's message is delivered again and the same task id takes
    its claim back; the attempt counter ends a crash loop; the beat sweep re-sends lost messages. A worker that
    shuts down warm hands the job back (registry.kernel.lib.draining) and the task returns: its message is acked,
    the one sent again carries the job to the next worker.
    """
    try:
        endpoint_provision(endpoint_id=endpoint_id, task_id=self.request.id)
    except (RuntimeUnavailable, TransientStorageError) as exc:

        def give_up(tries: int, fault: Exception) -> None:
            endpoint_finish(
                endpoint_id=endpoint_id,
                task_id=self.request.id,
                ok=False,
                error=str(fault),
                reason=f"Gave up after {tries} tries: {fault}. Check that the inference runtime "
                "(MODELHUB_RUNTIME_URL) and artifact storage are up, then update or redeploy.",
            )

        _retry_or_give_up(
            self,
            exc,
            what=f"endpoint {endpoint_id}",
            give_up=give_up,
            release=lambda: endpoint_release(endpoint_id=endpoint_id, task_id=self.request.id),
        )
    except SoftTimeLimitExceeded:
        endpoint_finish(
            endpoint_id=endpoint_id,
            task_id=self.request.id,
            ok=False,
            reason=f"Provisioning took longer than {settings.MODELHUB_ENDPOINT_TIME_LIMIT} seconds.",
        )
    except WorkerDraining:
        if endpoint_hand_back(endpoint_id=endpoint_id, task_id=self.request.id):
            logger.warning(
                "endpoint %s: provisioning handed back to the queue, the worker is shutting down", endpoint_id
            )


@shared_task(name=SHADOW_TASK, **_CLAIMED_WORK)
def endpoint_shadow_task(self, endpoint_id: int) -> None:
    """Load, check or unload one endpoint's shadow (registry.endpoints.services.shadows). Idempotent, so a
    redelivered or duplicated message does no harm; retries an unreachable runtime or storage with backoff, then
    fails a loading shadow with the reason."""
    try:
        endpoint_shadow_sync(endpoint_id=endpoint_id)
    except (RuntimeUnavailable, TransientStorageError) as exc:
        _retry_or_give_up(
            self,
            exc,
            what=f"shadow of endpoint {endpoint_id}",
            give_up=lambda tries, fault: shadow_give_up(
                endpoint_id=endpoint_id, reason=f"Gave up after {tries} tries: {fault}."
            ),
        )


def _retry_or_give_up(task, exc: Exception, *, what: str, give_up, release=None) -> None:
    """After a fault worth retrying: retry with exponential backoff (giving the claim back first, when `release`),
    or, past MODELHUB_ENDPOINT_MAX_RETRIES, call `give_up(tries, exc)` to record the failure."""
    retries = task.request.retries
    if retries >= settings.MODELHUB_ENDPOINT_MAX_RETRIES:
        give_up(retries + 1, exc)
        return
    if release is not None:
        release()
    delay = backoff_seconds(retries, base=settings.MODELHUB_ENDPOINT_RETRY_DELAY)
    logger.warning("%s: %s; retry %s in %ss", what, exc, retries + 1, delay)
    raise task.retry(exc=exc, countdown=delay) from None


@shared_task(ignore_result=True)
def endpoints_recover_task() -> None:
    """Periodic (celery beat): re-send provisioning whose worker or message was lost."""
    endpoints_recover_stalled()
