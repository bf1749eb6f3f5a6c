import logging

from celery import shared_task
from django.conf import settings

from registry.governance.signing import SIGN_TASK, signatures_reclaim_lost, version_sign
from registry.kernel.errors import TransientStorageError
from registry.kernel.lib.tasks import backoff_seconds, task_send

logger = logging.getLogger(__name__)


@shared_task(name=SIGN_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def version_sign_task(self, version_id: int) -> None:
    """Sign an approved version. Idempotent (a second run keeps the first signature); retries storage errors."""
    try:
        version_sign(version_id=version_id)
    except TransientStorageError as exc:
        retries = self.request.retries
        if retries >= settings.MODELHUB_STORAGE_MAX_RETRIES:
            logger.error(
                "version %s: could not sign, storage unavailable after %s tries: %s; the recovery sweep will try again",
                version_id,
                retries + 1,
                exc,
            )
            return
        raise self.retry(
            exc=exc, countdown=backoff_seconds(retries, base=settings.MODELHUB_VALIDATION_RETRY_DELAY)
        ) from exc


@shared_task(ignore_result=True)
def signatures_recover_task() -> None:
    """Periodic (celery beat): send the signing task again for approved versions whose signing was lost."""
    for version_id in signatures_reclaim_lost():
        task_send(SIGN_TASK, version_id)
