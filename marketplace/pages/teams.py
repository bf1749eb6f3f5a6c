"""Team pages: the directory, one team's members and roles (maintainers manage them), and its audit log."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from marketplace.pages.forms import MemberForm, RoleForm, TeamForm
from marketplace.pages.responses import portal_view
from registry.kernel.access import Permission, TeamRole, has_permission, team_role
from registry.kernel.audit.selectors import audit_search
from registry.kernel.errors import DomainError, InvalidInput
from registry.teams.selectors import team_get, team_list, team_members
from registry.teams.services import team_create, team_member_add, team_member_remove, team_member_set_role

AUDIT_PAGE_SIZE = 50


@portal_view
def team_index(request):
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = team_create(user=request.user, slug=form.cleaned_data["slug"], name=form.cleaned_data["name"])
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Team {team.slug} created; you are its maintainer.")
            return redirect("pages:team", slug=team.slug)
    return render(
        request,
        "pages/teams.html",
        {"teams": team_list(user=request.user), "form": form},
        status=400 if request.method == "POST" else 200,
    )


@portal_view
def team_detail(request, slug):
    team = team_get(user=request.user, slug=slug)
    return render(
        request,
        "pages/team.html",
        {
            "team": team,
            "members": list(team_members(team=team)),
            "my_role": team_role(request.user, team),
            "can_manage": has_permission(request.user, Permission.TEAM_MANAGE_MEMBERS, team),
            "member_form": MemberForm(),
            "roles": TeamRole.choices,
        },
    )


@require_POST
@portal_view
def team_member_action(request, slug):
    """Add a member, change a role or remove a member (the services check that the caller may)."""
    team = team_get(user=request.user, slug=slug)
    action = request.POST.get("action")
    try:
        if action == "add":
            form = MemberForm(request.POST)
            if not form.is_valid():
                raise InvalidInput("Give a username and a role.")
            team_member_add(
                actor=request.user, team=team, username=form.cleaned_data["username"], role=form.cleaned_data["role"]
            )
            messages.success(request, f"{form.cleaned_data['username']} joined {team.slug}.")
        elif action == "role":
            form = RoleForm(request.POST)
            if not form.is_valid():
                raise InvalidInput("Choose a role.")
            team_member_set_role(
                actor=request.user, team=team, username=request.POST.get("username", ""), role=form.cleaned_data["role"]
            )
            messages.success(request, f"{request.POST.get('username')} is now a {form.cleaned_data['role']}.")
        elif action == "remove":
            team_member_remove(actor=request.user, team=team, username=request.POST.get("username", ""))
            messages.success(request, f"{request.POST.get('username')} left {team.slug}.")
        else:
            raise InvalidInput("Unknown action.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("pages:team", slug=team.slug)


@portal_view
def team_audit(request, slug):
    """The team's audit trail, newest first; the same filters as GET /api/v1/audit/ (action, actor, since, until)."""
    team = team_get(user=request.user, slug=slug)
    params = QueryDict(mutable=True)
    for name in ("action", "actor", "since", "until"):
        if request.GET.get(name):
            params[name] = request.GET[name]
    params["team"] = team.slug
    error = None
    try:
        events = audit_search(user=request.user, params=params)
    except InvalidInput as exc:
        events, error = [], exc.message
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    filters = params.copy()
    filters.pop("team")
    return render(
        request,
        "pages/audit.html",
        {"team": team, "page": page, "error": error, "filters": request.GET, "query": filters.urlencode()},
        status=400 if error else 200,
    )
