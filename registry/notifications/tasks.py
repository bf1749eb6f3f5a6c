import logging

from celery import shared_task
from django.conf import settings

from registry.kernel.lib.tasks import task_send
from registry.notifications.delivery import DELIVER_TASK, EMAIL_TASK, retry_delay
from registry.notifications.emails import EmailSendFailed, event_emails_send
from registry.notifications.selectors import deliveries_lost
from registry.notifications.services import deliveries_expire, webhook_deliver

logger = logging.getLogger(__name__)


@shared_task(
    name=DELIVER_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None, ignore_result=True
)
def webhook_deliver_task(self, delivery_id: int) -> None:
    """One attempt at a webhook delivery; retried with exponential backoff while the delivery says so.

    Idempotent (webhook_deliver claims the row): a duplicate message does nothing.
    """
    delay = webhook_deliver(delivery_id=delivery_id, max_attempts=settings.MODELHUB_WEBHOOK_MAX_ATTEMPTS)
    if delay is not None:
        raise self.retry(countdown=delay)


@shared_task(
    name=EMAIL_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None, ignore_result=True
)
def event_email_task(self, event: str, version_id: int, data: dict, sent: list[str] | None = None) -> None:
    """Email the people an event concerns; SMTP and connection errors are retried with backoff, skipping
    the recipients already written to."""
    try:
        event_emails_send(event=event, version_id=version_id, data=data, skip=sent or [])
    except EmailSendFailed as exc:
        retries = self.request.retries
        if retries + 1 >= settings.MODELHUB_EMAIL_MAX_ATTEMPTS:
            logger.error(
                "version %s: could not email about %s after %s attempts: %s",
                version_id,
                event,
                retries + 1,
                exc.__cause__,
            )
            return
        raise self.retry(args=[event, version_id, data, exc.sent], countdown=retry_delay(retries + 1)) from exc


@shared_task(ignore_result=True)
def webhook_deliveries_recover_task() -> None:
    """Periodic (celery beat): send pending deliveries whose task was lost again; fail those out of attempts."""
    deliveries_expire(max_attempts=settings.MODELHUB_WEBHOOK_MAX_ATTEMPTS)
    for delivery_id in deliveries_lost():
        task_send(DELIVER_TASK, delivery_id)
