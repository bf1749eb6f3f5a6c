"""Webhooks and emails for what happens to a team's versions and endpoints (registry.kernel.events)."""

from registry.kernel.events import DomainEvent, Event, subscribe
from registry.notifications.models import SUBSCRIBABLE_EVENTS
from registry.notifications.services import endpoint_event_publish, event_publish
from registry.versions.events import VersionCreated


@subscribe(DomainEvent)
def notify(event: DomainEvent) -> None:
    if event.name not in SUBSCRIBABLE_EVENTS:
        return
    if event.name.startswith("endpoint."):
        endpoint_event_publish(event=event.name, endpoint=event.subject, actor=event.actor, data=event.data)
    else:
        event_publish(event=event.name, version=event.subject, actor=event.actor, data=event.data)


@subscribe(VersionCreated)
def notify_created(event: VersionCreated) -> None:
    event_publish(event=Event.VERSION_CREATED, version=event.version, actor=event.user, data={})
