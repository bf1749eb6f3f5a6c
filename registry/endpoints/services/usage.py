"""How much an asset is used: the count the catalogue sorts "most used" by."""

from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from registry.assets.models import Asset
from registry.endpoints.models import Endpoint, EndpointStatus


def asset_usage_refresh(*, asset_ids) -> None:
    """Recount `Asset.usage_count` (live endpoints serving any of the asset's versions) of these assets, in the
    caller's transaction: what the catalogue sorts "most used" by. An update of the count only; updated_at stays."""
    live = (
        Endpoint.objects.filter(version__asset_id=OuterRef("pk"))
        .exclude(status=EndpointStatus.DELETED)
        .order_by()
        .values("version__asset_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Asset.objects.filter(pk__in=sorted(asset_ids)).update(usage_count=Coalesce(Subquery(live), Value(0)))
