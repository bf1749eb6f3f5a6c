"""Signing in and out with a Django session (CSRF-protected forms); the API keeps its token auth.

Failed sign-ins are counted per account and per address (django-axes, settings AXES_*); a lockout answers 429
(`lockout_response`) and is recorded in the audit trail (`lockout_audit`, connected in MarketplaceConfig.ready)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.shortcuts import render
from django.utils import timezone

from registry.kernel.access import is_service_account
from registry.kernel.audit.models import AuditEvent
from registry.kernel.audit.services import audit_record
from registry.kernel.events import Event


class PeopleBackend(ModelBackend):
    """Django's password backend for people: a service account never signs in, whatever password it is given
    (it is made with none). Sessions are only ever made by signing in, so it never has one."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        return None if user is None or is_service_account(user) else user


class SignInView(auth_views.LoginView):
    template_name = "pages/signin.html"
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


def client_address(request) -> str | None:
    """The client's address as the API's rate limits see it: REMOTE_ADDR, or with MODELHUB_NUM_PROXIES proxies in
    front the address the outermost of them saw (X-Forwarded-For counted from the right)."""
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and forwarded:
        return forwarded[-min(proxies, len(forwarded))]
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out sign-in gets (AXES_LOCKOUT_CALLABLE): a 429 page saying for how long, and Retry-After."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    response = render(
        request,
        "pages/locked_out.html",
        {"minutes": max(1, round(seconds / 60)), "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


def lockout_audit(sender, request, username, ip_address, **kwargs) -> None:
    """django-axes' user_locked_out: the lockout goes on the account's audit trail (or the attempt's, for a name
    that is nobody's), once per lockout."""
    from axes.models import AccessAttempt

    target = get_user_model().objects.filter(username=username).first() if username else None
    if target is None:
        target = AccessAttempt.objects.filter(username=username, ip_address=ip_address).order_by("-id").first()
    if target is None:
        return
    # Attempts while locked are refused again (and signalled again): the trail records the lockout once.
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    if AuditEvent.objects.filter(
        action=Event.SIGNIN_LOCKED,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        created_at__gte=since,
    ).exists():
        return
    audit_record(
        actor=None,
        action=Event.SIGNIN_LOCKED,
        target=target,
        data={"username": username or "", "ip_address": ip_address or "", "failures": settings.AXES_FAILURE_LIMIT},
    )
