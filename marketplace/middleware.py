"""Middleware of the web process."""

import functools
import logging
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.db.backends.signals import connection_created
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string

from registry.kernel.errors import ErrorCode
from registry.kernel.lib.request_context import request_id_begin, request_id_end

logger = logging.getLogger(__name__)
# PostgreSQL's "query_canceled": the statement timeout, answered by the API's exception handler as a timeout.
QUERY_CANCELED = "57014"
RETRY_AFTER_SECONDS = 5


def _set_statement_timeout(sender=None, connection=None, **kwargs) -> None:
    timeout = settings.MODELHUB_WEB_STATEMENT_TIMEOUT_MS
    if timeout and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = %s", [timeout])


class RequestIdMiddleware:
    """Gives every request an id (the client's `X-Request-ID` if well-formed), recorded in the audit
    events it writes and returned in the `X-Request-ID` response header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        value, token = request_id_begin(request.headers.get("X-Request-ID"))
        try:
            response = self.get_response(request)
        finally:
            request_id_end(token)
        response["X-Request-ID"] = value
        return response


@functools.cache
def _policy(policy: str, issuer: str) -> str:
    if not issuer:
        return policy
    # Signing out of a single sign-on session posts to the portal, which redirects to the provider's logout:
    # browsers hold a form's redirects to form-action too.
    parts = urlsplit(issuer)
    return policy.replace("form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}")


class SecurityHeadersMiddleware:
    """The Content-Security-Policy (MODELHUB_CONTENT_SECURITY_POLICY, with the identity provider's origin as a form
    target when single sign-on is on) on every answer that does not set its own; Django's SecurityMiddleware and
    XFrameOptionsMiddleware add HSTS, nosniff, the referrer policy and frame denial."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault(
            "Content-Security-Policy", _policy(settings.MODELHUB_CONTENT_SECURITY_POLICY, settings.MODELHUB_OIDC_ISSUER)
        )
        return response


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


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class RejectUnstorableTextMiddleware:
    """A NUL character or a lone surrogate in the path or a query parameter is a 400 at the door.

    PostgreSQL cannot take either in a text parameter, so a lookup such as `?tag=a%00b` or
    `/members/%00/` would otherwise fail deep inside a query as a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        texts = [request.path, *request.GET.keys(), *(v for values in request.GET.lists() for v in values[1])]
        if any(_UNSTORABLE.search(text) for text in texts):
            message = "The URL contains a NUL character or an invalid Unicode surrogate."
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message, "code": ErrorCode.INVALID}, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A database that went away (a restart, a failover, the network) is a 503, not a 500: JSON under /api/, a page
    elsewhere, with `Retry-After`. The broken connection is closed, so the next request connects again and the
    process answers as soon as the database is back, without a restart of its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        if getattr(exception.__cause__, "pgcode", None) == QUERY_CANCELED:
            return None
        logger.warning("database unavailable on %s: %s", request.path, exception)
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()
        message = "The database is unavailable right now (it may be restarting); try again in a few seconds."
        if request.path.startswith("/api/") or request.path.startswith("/hf/"):
            response = JsonResponse({"detail": message, "code": ErrorCode.DATABASE_UNAVAILABLE}, status=503)
        else:
            response = HttpResponse(
                render_to_string("unavailable.html", {"message": message}), status=503, content_type="text/html"
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
