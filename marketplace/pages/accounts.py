"""Signing in and out with a Django session (CSRF-protected forms); the API keeps its token auth.

Failed sign-ins are counted per account and per address (django-axes, settings AXES_*); a lockout answers 429
(`lockout_response`) and is recorded in the audit trail (`lockout_audit`, connected in MarketplaceConfig.ready)."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.shortcuts import render

from registry.identities.services import signin_lockout_record
from registry.kernel.access import is_service_account


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
    """django-axes' user_locked_out, connected in MarketplaceConfig.ready."""
    signin_lockout_record(username=username or "", ip_address=ip_address or "")
