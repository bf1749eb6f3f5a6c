import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from registry.kernel.errors import TransientStorageError
from registry.kernel.lib.draining import WorkerDraining
from registry.kernel.lib.tasks import backoff_seconds
from registry.validation.services import (
    VALIDATE_TASK,
    validation_finish,
    validation_hand_back,
    validation_release,
    validations_recover_stalled,
    version_validate,
)

logger = logging.getLogger(__name__)


@shared_task(
    name=VALIDATE_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
    soft_time_limit=settings.MODELHUB_VALIDATION_TIME_LIMIT,
    time_limit=settings.MODELHUB_VALIDATION_TIME_LIMIT + 30,
)
def version_validate_task(self, version_id: int) -> None:
    """Validate one version. Idempotent (see registry.validation.services); retries storage errors.

    acks_late + reject_on_worker_lost: if the worker dies mid-run the message is delivered again
    and the same task id takes its claim back; the attempt counter ends a crash loop. A worker that shuts
    down warm hands the job back (registry.kernel.lib.draining) and the task returns: its message is acked, the
    one sent again carries the job to the next worker.
    """
    try:
        version_validate(version_id=version_id, task_id=self.request.id)
    except TransientStorageError as exc:
        retries = self.request.retries
        if retries >= settings.MODELHUB_STORAGE_MAX_RETRIES:
            validation_finish(
                version_id=version_id,
                task_id=self.request.id,
                passed=False,
                failed_check="storage",
                reason=f"Could not read the files from artifact storage after {retries + 1} tries: {exc}",
            )
            return
        validation_release(version_id=version_id, task_id=self.request.id)
        delay = backoff_seconds(retries, base=settings.MODELHUB_VALIDATION_RETRY_DELAY)
        logger.warning("version %s: storage error, retry %s in %ss: %s", version_id, retries + 1, delay, exc)
        raise self.retry(exc=exc, countdown=delay) from None
    except SoftTimeLimitExceeded:
        validation_finish(
            version_id=version_id,
            task_id=self.request.id,
            passed=False,
            failed_check="time_limit",
            reason=f"Validation took longer than the limit of {settings.MODELHUB_VALIDATION_TIME_LIMIT} seconds.",
        )
    except WorkerDraining:
        if validation_hand_back(version_id=version_id, task_id=self.request.id):
            logger.warning("version %s: validation handed back to the queue, the worker is shutting down", version_id)


@shared_task(ignore_result=True)
def validations_recover_stalled_task() -> None:
    """Periodic (celery beat): re-send validations whose worker or message was lost."""
    validations_recover_stalled()
