"""Signing in and out with a Django session (CSRF-protected forms); the API keeps its token auth. Single sign-on,
when configured, is marketplace/pages/sso.py; MODELHUB_PASSWORD_SIGNIN=false leaves it the only way in.

Failed sign-ins are counted per account and per address (django-axes, settings AXES_*); a lockout answers 429
(`lockout_response`) and is recorded in the audit trail (`lockout_audit`, connected in MarketplaceConfig.ready)."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.shortcuts import redirect, render

from marketplace.pages.sso import ID_TOKEN, provider_logout_url
from registry.identities.oidc import sso_enabled
from registry.identities.services import signin_lockout_record
from registry.kernel.access import is_service_account


class PeopleBackend(ModelBackend):
    """Django's password backend for people: a service account never signs in, whatever password it is given
    (it is made with none). Sessions are only ever made by signing in, so it never has one. With
    MODELHUB_PASSWORD_SIGNIN off, no password signs anyone in (the admin's form included)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.MODELHUB_PASSWORD_SIGNIN:
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        return None if user is None or is_service_account(user) else user


class SignInView(auth_views.LoginView):
    template_name = "pages/signin.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "sso_enabled": sso_enabled(),
            "sso_name": settings.MODELHUB_OIDC_NAME,
            "password_signin": settings.MODELHUB_PASSWORD_SIGNIN,
        }

    def post(self, request, *args, **kwargs):
        if not settings.MODELHUB_PASSWORD_SIGNIN:
            response = self.get(request, *args, **kwargs)
            response.status_code = 403
            return response
        return super().post(request, *args, **kwargs)


class SignOutView(auth_views.LogoutView):
    """POST: sign out here, and at the identity provider too when the session came from single sign-on."""

    def post(self, request, *args, **kwargs):
        id_token = request.session.get(ID_TOKEN)
        response = super().post(request, *args, **kwargs)
        elsewhere = provider_logout_url(request, id_token) if id_token and sso_enabled() else None
        return redirect(elsewhere) if elsewhere else response


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
