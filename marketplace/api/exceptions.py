"""Every API error is JSON: {"detail": "<what is wrong>", "code": "<machine code>", ...}.

That holds for errors raised in views (the DRF exception handler below) and for those Django
answers itself before or after a view runs (400, 403, 404, 500 handlers, for paths under /api/).
"""

import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from registry.kernel.errors import DomainError, ErrorCode

logger = logging.getLogger(__name__)
# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout.
QUERY_CANCELED = "57014"


def _flatten(errors, prefix="") -> list[str]:
    if isinstance(errors, dict):
        return [
            m
            for key, value in errors.items()
            for m in _flatten(value, f"{prefix}{key}: " if key != "non_field_errors" else prefix)
        ]
    if isinstance(errors, list):
        return [m for value in errors for m in _flatten(value, prefix)]
    return [f"{prefix}{errors}"]


def _error(detail: str, code: ErrorCode, status_code: int, **extra) -> Response:
    return Response({"detail": detail, "code": code, **extra}, status=status_code)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return _error(exc.message, exc.code, exc.status_code, **({"field": exc.field} if exc.field else {}))
    if isinstance(exc, DjangoValidationError):
        return _error(" ".join(exc.messages), ErrorCode.INVALID, status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        return _error(
            "The request body is over the size limit.",
            ErrorCode.PAYLOAD_TOO_LARGE,
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, TooManyFieldsSent):
        return _error("The request has too many form fields.", ErrorCode.INVALID, status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, SuspiciousOperation):
        return _error("The request is malformed.", ErrorCode.INVALID, status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, OperationalError) and getattr(exc.__cause__, "pgcode", None) == QUERY_CANCELED:
        logger.warning("statement timeout on %s", context["request"].get_full_path())
        return _error(
            "The request took too long and was stopped; narrow the search or try again.",
            ErrorCode.TIMEOUT,
            status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": "; ".join(_flatten(exc.detail)), "code": ErrorCode.INVALID, "errors": exc.detail}
    elif isinstance(exc, exceptions.APIException):
        response.data = {"detail": str(exc.detail), "code": _api_code(exc)}
    return response


def _api_code(exc: exceptions.APIException) -> ErrorCode:
    """DRF's own code for `exc` (not_authenticated, method_not_allowed, parse_error, ...) when ErrorCode lists it;
    otherwise `error`. DRF codes the API cannot answer (not_acceptable: every client gets JSON) are not listed,
    so one appearing after a settings change still carries a documented value."""
    codes = exc.get_codes()
    if isinstance(codes, str) and codes in ErrorCode.values:
        return ErrorCode(codes)
    logger.warning("API error code %r is not an ErrorCode; answered as 'error'", codes)
    return ErrorCode.ERROR


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def api_not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": f"No API endpoint at {request.path}.", "code": ErrorCode.NOT_FOUND}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def api_bad_request(request, exception=None):
    if _is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse(
                {"detail": "The request body is over the size limit.", "code": ErrorCode.PAYLOAD_TOO_LARGE}, status=413
            )
        return JsonResponse({"detail": "The request is malformed.", "code": ErrorCode.INVALID}, status=400)
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def api_permission_denied(request, exception=None):
    if _is_api(request):
        return JsonResponse(
            {"detail": "You are not allowed to do this.", "code": ErrorCode.PERMISSION_DENIED}, status=403
        )
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)


def api_server_error(request):
    if _is_api(request):
        return JsonResponse(
            {"detail": "Internal error; it has been logged.", "code": ErrorCode.SERVER_ERROR}, status=500
        )
    from django.views.defaults import server_error

    return server_error(request)
