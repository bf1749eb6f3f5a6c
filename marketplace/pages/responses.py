"""What every portal view shares: sign-in required, and domain errors shown as friendly pages, never a 500."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from registry.kernel.errors import DomainError

ERROR_TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    409: "Not now",
    413: "Too large",
    503: "Try again shortly",
}


def error_page(request, exc: DomainError):
    status = exc.status_code if 400 <= exc.status_code < 600 else 400
    return render(
        request,
        "pages/error.html",
        {"title": ERROR_TITLES.get(status, "That did not work"), "message": exc.message, "status": status},
        status=status,
    )


def portal_view(view):
    """Sign-in required; a domain error that the view did not turn into a form error becomes an error page."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return error_page(request, exc)

    return wrapped


def flash_outcome(request, action, success):
    """Run `action` (a service call) and tell the person how it went, as a message on the next page: `success`
    (text, or a function of the result) when it worked, the domain error's own words when it did not.
    Returns the result, or None when it failed."""
    try:
        result = action()
    except DomainError as exc:
        messages.error(request, exc.message)
        return None
    messages.success(request, success(result) if callable(success) else success)
    return result


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"
