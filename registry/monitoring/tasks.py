"""Periodic monitoring work (celery beat): evaluate endpoints, roll minute windows up into hours, prune."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from registry.monitoring.evaluation import endpoints_evaluate
from registry.monitoring.services import monitoring_prune, windows_roll_up


@shared_task(ignore_result=True, soft_time_limit=300, time_limit=330)
def monitoring_evaluate_task() -> None:
    """Evaluate the drift and performance of every endpoint with windows due. Safe to overlap with itself."""
    endpoints_evaluate()


@shared_task(ignore_result=True, soft_time_limit=600, time_limit=630)
def monitoring_roll_up_task() -> None:
    """Roll minute windows older than MODELHUB_MONITORING_MINUTES_KEPT_HOURS into hour windows; prune old
    predictions and ground truth."""
    now = timezone.now()
    windows_roll_up(older_than=now - timedelta(hours=settings.MODELHUB_MONITORING_MINUTES_KEPT_HOURS))
    monitoring_prune(older_than=now - timedelta(days=settings.MODELHUB_MONITORING_RETENTION_DAYS))
