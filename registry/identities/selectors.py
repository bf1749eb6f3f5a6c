from django.db.models import QuerySet

from registry.identities.models import ServiceAccount
from registry.kernel.access import Permission, require
from registry.teams.models import Team


def service_account_list(*, user, team: Team) -> QuerySet[ServiceAccount]:
    """The team's service accounts, disabled ones too (the record of who acted), by name: for its maintainers."""
    require(user, Permission.TEAM_MANAGE_MEMBERS, team, f"Only maintainers of '{team.slug}' see its service accounts.")
    return ServiceAccount.objects.filter(team=team).select_related("user", "created_by").order_by("name")
