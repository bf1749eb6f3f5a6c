"""Personal API tokens: create (the key is shown once, in the answer to the POST), list, revoke."""

from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from marketplace.pages.forms import TokenForm
from marketplace.pages.responses import flash_outcome, portal_view
from registry.kernel.errors import DomainError
from registry.tokens.selectors import token_list
from registry.tokens.services import token_create, token_revoke


@portal_view
def token_index(request):
    form = TokenForm(request.POST or None)
    created = key = None
    if request.method == "POST" and form.is_valid():
        try:
            created, key = token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else "name", exc.message.split(": ", 1)[-1])
        else:
            form = TokenForm()
    response = render(
        request,
        "pages/tokens.html",
        {"tokens": list(token_list(user=request.user)), "form": form, "created": created, "key": key},
    )
    if key:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@portal_view
def token_revoke_view(request, token_id):
    flash_outcome(
        request,
        lambda: token_revoke(user=request.user, token_id=token_id),
        lambda token: f"Token '{token.name}' revoked; it no longer works.",
    )
    return redirect("pages:tokens")
