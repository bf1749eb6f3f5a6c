"""Endpoints follow the catalogue and its releases (registry.kernel.events)."""

from django.db import transaction

from registry.assets.events import AssetDeleting
from registry.endpoints.lifecycle import GONE_STATUSES
from registry.endpoints.models import SHADOW_ACTIVE_STATUSES, Endpoint, EndpointShadow, EndpointStatus
from registry.endpoints.services import endpoints_follow_alias, shadows_stop
from registry.endpoints.services.shadows import ENDING_STATUSES
from registry.kernel.errors import Conflict, ErrorCode
from registry.kernel.events import DomainEvent, Event, publish, subscribe


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


@subscribe(DomainEvent)
def tell_consumers_of_a_deprecation(event: DomainEvent) -> None:
    """Each live endpoint serving a version that has just been deprecated publishes endpoint.version_deprecated,
    so its (consuming) team hears of it, whoever owns the asset. In the deprecation's transaction."""
    if event.name != Event.VERSION_DEPRECATED:
        return
    serving = (
        Endpoint.objects.filter(version=event.subject)
        .exclude(status__in=GONE_STATUSES)
        .select_related("team", "version__asset__team")
    )
    for endpoint in serving.order_by("pk"):
        publish(
            DomainEvent(
                name=Event.ENDPOINT_VERSION_DEPRECATED,
                subject=endpoint,
                actor=event.actor,
                data={"reason": event.data.get("reason", ""), "deprecated_version": event.subject.version},
            )
        )


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
