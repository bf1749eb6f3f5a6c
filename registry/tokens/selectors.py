from django.db.models import QuerySet

from registry.tokens.models import APIToken


def token_list(*, user) -> QuerySet[APIToken]:
    """The caller's own active tokens; nobody sees anybody else's."""
    return APIToken.objects.filter(user=user, revoked_at=None)
