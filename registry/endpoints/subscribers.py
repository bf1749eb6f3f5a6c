"""Endpoints follow the catalogue and its releases (registry.kernel.events)."""

from django.db import transaction

from registry.assets.events import AssetDeleting
from registry.endpoints.models import SHADOW_ACTIVE_STATUSES, Endpoint, EndpointShadow, EndpointStatus
from registry.endpoints.services import endpoints_follow_alias, shadows_stop
from registry.endpoints.services.shadows import ENDING_STATUSES
from registry.kernel.errors import Conflict, ErrorCode
from registry.kernel.events import DomainEvent, Event, subscribe


@subscribe(DomainEvent)
def follow_moved_alias(event: DomainEvent) -> None:
    """Endpoints that follow a moved alias are redeployed once the move commits."""
    if event.name != Event.ALIAS_MOVED:
        return
    asset_id, alias = event.subject.asset_id, event.data["alias"]
    transaction.on_commit(lambda: endpoints_follow_alias(asset_id=asset_id, alias=alias))


@subscribe(DomainEvent)
def end_shadows_that_are_done(event: DomainEvent) -> None:
    """A shadow ends once its candidate serves the endpoint itself, or once the candidate is rejected or
    deprecated (after the change commits)."""
    if event.name == Event.ENDPOINT_UPDATED:
        endpoint = event.subject
        transaction.on_commit(
            lambda: shadows_stop(
                endpoints=[endpoint],
                version=endpoint.version,
                reason=f"The endpoint serves {endpoint.version.version} itself now.",
            )
        )
    elif event.name in ENDING_STATUSES:
        version, why = event.subject, ENDING_STATUSES[event.name]
        transaction.on_commit(lambda: shadows_stop(version=version, reason=f"{version.version} ended: {why}."))


@subscribe(AssetDeleting)
def refuse_deleting_a_served_asset(event: AssetDeleting) -> None:
    """Deleting the rows of a served version would leave the runtime serving a model nobody can manage."""
    serving = sorted(
        set(
            Endpoint.objects.filter(version__asset=event.asset)
            .exclude(status=EndpointStatus.DELETED)
            .values_list("name", flat=True)
        )
        | set(
            EndpointShadow.objects.filter(version__asset=event.asset, status__in=SHADOW_ACTIVE_STATUSES).values_list(
                "endpoint__name", flat=True
            )
        )
    )
    if serving:
        raise Conflict(
            f"'{event.asset.full_slug}' is deployed as (or shadows) the endpoint(s) {', '.join(serving)[:300]}; "
            "delete them (or stop their shadows) first.",
            code=ErrorCode.DEPLOYED,
        )
