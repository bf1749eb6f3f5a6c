"""Health routes for load balancers and orchestrators: `/healthz` (the process answers) and `/readyz` (it can serve:
the database answers and its migrations are applied, the broker and artifact storage answer)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from registry.artifacts.storage import artifact_storage

logger = logging.getLogger(__name__)
_migrated = False  # once the plan is empty it stays so for this process's code


@require_GET
def healthz(request):
    """Alive: answers without touching the database, the broker or storage."""
    return JsonResponse({"status": "ok"})


def _database() -> str | None:
    global _migrated
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    if not _migrated:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            return f"{len(pending)} migrations are not applied (run manage.py migrate)"
        _migrated = True
    return None


def _broker() -> str | None:
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
    return None


def _storage() -> str | None:
    artifact_storage().exists("readyz")
    return None


CHECKS = {"database": _database, "broker": _broker, "storage": _storage}


@require_GET
def readyz(request):
    """Ready: 200 when every check passes, else 503 naming what failed (`checks`: null, or the reason)."""
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # whatever a dependency raises when it is down is a "not ready"
            logger.warning("readiness: %s failed: %s", name, exc)
            results[name] = f"{type(exc).__name__}: {str(exc)[:200]}"
    ready = all(result is None for result in results.values())
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": results}, status=200 if ready else 503
    )
