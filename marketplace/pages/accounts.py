"""Signing in and out with a Django session (CSRF-protected forms); the API keeps its token auth."""

from django.contrib.auth import views as auth_views


class SignInView(auth_views.LoginView):
    template_name = "pages/signin.html"
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass
