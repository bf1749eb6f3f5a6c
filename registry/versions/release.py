"""An asset's release status (`Asset.status`, the catalogue's "status" facet): the furthest status among its
versions, kept in step by every service that creates a version or changes a version's status.

Lock order: a service that changes a version's status locks the asset row first (`asset_lock`), then the
version, and recomputes the release status last, in the same transaction. Every writer of the asset row
(uploads, asset edits, deletes and their cascades) takes the asset first, so no two of them wait on each other
in opposite orders; and each recount reads the versions after the lock, so concurrent changes to two
versions of one asset leave the status of both.
"""

import copy

from django.db.models import Case, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce

from registry.assets.events import AssetChanged
from registry.assets.models import Asset, ReleaseStatus
from registry.kernel.errors import NotFound
from registry.kernel.events import publish
from registry.versions.models import AssetVersion


def asset_lock(asset_id: int) -> Asset:
    """Lock the asset row (with its team, for the search facts) in the caller's transaction; NotFound when
    the asset was deleted meanwhile."""
    asset = Asset.objects.select_for_update(of=("self",)).select_related("team").filter(pk=asset_id).first()
    if asset is None:
        raise NotFound("The asset was deleted.")
    return asset


def release_status(statuses) -> str:
    """The release status of an asset whose versions have these statuses ("" without versions)."""
    present = set(statuses)
    return next((status for status in ReleaseStatus.values if status in present), "")


def asset_release_refresh(asset: Asset) -> None:
    """Recompute `asset.status` from its versions and, when it changed, store it and update the search index
    (facet counts). Call in the transaction that changed a version, with `asset` from `asset_lock`."""
    status = release_status(
        AssetVersion.objects.filter(asset_id=asset.pk).order_by().values_list("status", flat=True).distinct()
    )
    if status == asset.status:
        return
    before = copy.copy(asset)
    Asset.objects.filter(pk=asset.pk).update(status=status)
    asset.status = status
    publish(AssetChanged(before=before, after=asset))


def release_status_rebuild() -> None:
    """Recompute every asset's release status from its versions in one statement (after a bulk load or a
    restore). The search backend's counts derive from it: run `search_rebuild()` after (the `search_rebuild`
    command does both)."""
    precedence = Case(*(When(status=status, then=Value(i)) for i, status in enumerate(ReleaseStatus.values)))
    furthest = (
        AssetVersion.objects.filter(asset_id=OuterRef("pk"))
        .order_by()
        .annotate(p=precedence)
        .order_by("p")
        .values("status")[:1]
    )
    Asset.objects.update(status=Coalesce(Subquery(furthest), Value("")))
