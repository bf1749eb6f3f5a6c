"""Endpoints follow the catalogue and its releases (registry.kernel.events)."""

from django.db import transaction

from registry.assets.events import AssetDeleting
from registry.endpoints.models import Endpoint, EndpointStatus
from registry.endpoints.services import endpoints_follow_alias
from registry.kernel.errors import Conflict, ErrorCode
from registry.kernel.events import DomainEvent, Event, subscribe


@subscribe(DomainEvent)
def follow_moved_alias(event: DomainEvent) -> None:
    """Endpoints that follow a moved alias are redeployed once the move commits."""
    if event.name != Event.ALIAS_MOVED:
        return
    asset_id, alias = event.subject.asset_id, event.data["alias"]
    transaction.on_commit(lambda: endpoints_follow_alias(asset_id=asset_id, alias=alias))


@subscribe(AssetDeleting)
def refuse_deleting_a_served_asset(event: AssetDeleting) -> None:
    """Deleting the rows of a served version would leave the runtime serving a model nobody can manage."""
    serving = sorted(
        set(
            Endpoint.objects.filter(version__asset=event.asset)
            .exclude(status=EndpointStatus.DELETED)
            .values_list("name", flat=True)
        )
    )
    if serving:
        raise Conflict(
            f"'{event.asset.full_slug}' is deployed as the endpoint(s) {', '.join(serving)[:300]}; delete them first.",
            code=ErrorCode.DEPLOYED,
        )
