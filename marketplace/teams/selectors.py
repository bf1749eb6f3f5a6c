from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet

from marketplace.errors import NotFound
from marketplace.teams.models import Membership, Team, TeamRole


def team_list(*, user) -> QuerySet[Team]:
    """Every team: the team directory is visible to every signed-in user (like an org chart)."""
    return Team.objects.annotate(member_count=Count("memberships"))


def team_get(*, user, slug: str) -> Team:
    team = team_list(user=user).filter(slug=slug).first()
    if team is None:
        raise NotFound(f"No team with the slug '{slug}'.")
    return team


def team_members(*, team: Team) -> QuerySet[Membership]:
    return Membership.objects.filter(team=team).select_related("user").order_by("user__username")


def membership_role(*, user, team: Team) -> str | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(team=team, user=user).values_list("role", flat=True).first()


def is_team_member(*, user, team: Team) -> bool:
    return user.is_authenticated and (user.is_superuser or membership_role(user=user, team=team) is not None)


def is_team_maintainer(*, user, team: Team) -> bool:
    return user.is_authenticated and (
        user.is_superuser or membership_role(user=user, team=team) == TeamRole.MAINTAINER
    )


def user_get_by_username(username: str):
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(f"No active user named '{username}'.")
    return user
