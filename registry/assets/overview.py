"""Reads for the portal's home page: how big the catalogue is and what moved lately, scoped to the caller.

Built on `asset_list`, so visibility is decided in one place (registry.kernel.access).
"""

from django.db.models import Count, QuerySet

from registry.assets.models import Asset, AssetKind
from registry.assets.selectors import asset_list


def asset_kind_counts(*, user) -> dict[str, int]:
    """{kind: number of assets the caller may see}, every kind present (0 when none)."""
    counts = dict.fromkeys(AssetKind.values, 0)
    rows = asset_list(user=user).order_by().values("kind").annotate(n=Count("pk")).values_list("kind", "n")
    counts.update(dict(rows))
    return counts


def assets_recently_updated(*, user, limit: int = 6) -> QuerySet[Asset]:
    """The caller's visible assets, most recently changed first."""
    return asset_list(user=user).order_by("-updated_at", "-pk")[:limit]


def assets_most_used(*, user, limit: int = 6) -> QuerySet[Asset]:
    """The caller's visible assets served by the most live endpoints (at least one): `usage_count`, which the
    endpoint services keep, under an index."""
    return asset_list(user=user).filter(usage_count__gt=0).order_by("-usage_count", "-updated_at", "-pk")[:limit]
