"""Periodic search upkeep (celery beat)."""

import logging

from celery import shared_task
from django.db import connection, transaction

from registry.search.backends.postgres import change_log_prune

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def search_log_prune_task() -> None:
    """Periodic (celery beat, every MODELHUB_SEARCH_LOG_PRUNE_INTERVAL): prune the asset change log the in-memory
    indexes follow, which otherwise grows by a row per asset write until the next `search_rebuild`."""
    if connection.vendor != "postgresql":
        return  # the log and its trigger exist on PostgreSQL only
    with transaction.atomic(), connection.cursor() as cursor:
        removed = change_log_prune(cursor)
    log.info("search change log: %d rows pruned", removed)
