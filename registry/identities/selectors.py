from django.db.models import QuerySet

from registry.identities.models import ServiceAccount
from registry.teams.models import Team


def service_account_list(*, team: Team) -> QuerySet[ServiceAccount]:
    """The team's service accounts, disabled ones too (the record of who acted), by name."""
    return ServiceAccount.objects.filter(team=team).select_related("user", "created_by").order_by("name")
