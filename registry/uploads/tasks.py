from celery import shared_task

from registry.kernel.errors import TransientStorageError
from registry.kernel.lib.tasks import backoff_seconds
from registry.uploads.services import VERIFY_TASK, upload_session_verify, upload_sessions_expire


@shared_task(name=VERIFY_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def upload_session_verify_task(self, session_id: str) -> None:
    """Assemble, hash and store one completed session. A lost worker's message is delivered again; storage that
    is down is retried with backoff (the session stays `verifying`; the sweep re-sends it if the message is lost)."""
    try:
        upload_session_verify(session_id)
    except TransientStorageError as exc:
        raise self.retry(exc=exc, countdown=backoff_seconds(self.request.retries, base=5)) from exc


@shared_task(name="registry.uploads.tasks.upload_sessions_expire_task")
def upload_sessions_expire_task() -> int:
    return upload_sessions_expire()
