"""Middleware of the web process."""

from django.conf import settings
from django.db import connections
from django.db.backends.signals import connection_created


def _set_statement_timeout(sender=None, connection=None, **kwargs) -> None:
    timeout = settings.MODELHUB_WEB_STATEMENT_TIMEOUT_MS
    if timeout and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = %s", [timeout])


class StatementTimeoutMiddleware:
    """Bounds every SQL statement the web process runs (PostgreSQL `statement_timeout`).

    No request can hold the database for long, even one that gets past the input bounds; the
    query is cancelled server-side, so it stops even when the client has gone. Only the web
    process installs this: Celery workers and management commands keep unlimited statements.
    A cancelled statement becomes a JSON 503 (marketplace.api.exceptions).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        connection_created.connect(_set_statement_timeout, dispatch_uid="modelhub-statement-timeout")
        for connection in connections.all(initialized_only=True):
            if connection.connection is not None:  # opened before this process served a request
                _set_statement_timeout(connection=connection)

    def __call__(self, request):
        return self.get_response(request)
