from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet

from registry.kernel.access import Permission, restrict
from registry.kernel.errors import NotFound
from registry.teams.models import Membership, Team


def team_list(*, user) -> QuerySet[Team]:
    """Every team: the team directory is visible to every signed-in user (like an org chart)."""
    return Team.objects.annotate(member_count=Count("memberships")).order_by("slug")


def team_get(*, user, slug: str) -> Team:
    team = team_list(user=user).filter(slug=slug).first()
    if team is None:
        raise NotFound(f"No team with the slug '{slug}'.")
    return team


def team_get_for(*, user, slug: str, permission: Permission) -> Team:
    """The team if `user` has `permission` (one with a rule for teams in READ_RULES) in it; everybody else
    gets NotFound, as if it did not exist."""
    team = restrict(Team.objects.filter(slug=slug), user, permission).first()
    if team is None:
        raise NotFound(f"No team with the slug '{slug}' of which you are a member.")
    return team


def team_members(*, team: Team) -> QuerySet[Membership]:
    return Membership.objects.filter(team=team).select_related("user").order_by("user__username")


def user_get_by_username(username: str):
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(f"No active user named '{username}'.")
    return user


def teams_of(*, user) -> QuerySet[Team]:
    """The teams `user` belongs to, by slug."""
    if user is None or not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user).order_by("slug")
