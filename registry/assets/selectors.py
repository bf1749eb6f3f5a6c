from django.db.models import QuerySet

from registry.assets.models import Asset
from registry.kernel.access import Permission, restrict
from registry.kernel.errors import NotFound


def asset_list(*, user) -> QuerySet[Asset]:
    """The assets `user` may see, with what a listing shows loaded in one query (tags are on the row)."""
    return restrict(Asset.objects.all(), user, Permission.ASSET_VIEW).select_related("team", "created_by")


def asset_get(*, user, team: str, slug: str) -> Asset:
    """The asset `team/slug` if the caller may see it; otherwise NotFound, never a hint it exists."""
    asset = asset_list(user=user).filter(team__slug=team, slug=slug).first()
    if asset is None:
        raise NotFound(f"No asset named '{team}/{slug}'.")
    return asset
