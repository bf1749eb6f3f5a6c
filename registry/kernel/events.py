"""Domain events: how one area reacts to another's change without the owner of the change importing it.

The area that owns a change defines its events (frozen dataclasses in its `events.py`) and publishes them from
the service that makes the change; an area that must react subscribes to the event's class in its
`subscribers.py`, which the registry app imports at start (`registry/apps.py`). Imports then run from the
reacting area to the owner, the direction the import contracts in pyproject.toml allow.

Subscribers run at once, in the publisher's transaction, in the order they subscribed: what they write commits
or rolls back with the change (a version is never left without its validation report), and a subscriber that
raises a domain error refuses the change with its message. A subscriber with slow or outside work (a task, a
webhook, an email) defers it with `transaction.on_commit` itself.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models


class Event(models.TextChoices):
    """What happened, by name: the `event` of a webhook delivery and of the emails it causes."""

    VERSION_VALIDATED = "version.validated", "Version validated"
    VERSION_INVALID = "version.invalid", "Version failed validation"
    VERSION_SUBMITTED = "version.submitted", "Version submitted for review"
    VERSION_APPROVED = "version.approved", "Version approved"
    VERSION_REJECTED = "version.rejected", "Version rejected"
    VERSION_CHANGES_REQUESTED = "version.changes_requested", "Changes requested on a version"
    ALIAS_MOVED = "alias.moved", "Alias set or moved"
    ENDPOINT_READY = "endpoint.ready", "Inference endpoint ready"
    ENDPOINT_FAILED = "endpoint.failed", "Inference endpoint failed"
    ENDPOINT_UPDATED = "endpoint.updated", "Inference endpoint updated to another version"
    ENDPOINT_DELETED = "endpoint.deleted", "Inference endpoint deleted"
    # Sent only by "test" on one webhook; never subscribed to.
    PING = "ping", "Test delivery"


@dataclass(frozen=True)
class DomainEvent:
    """A change its team may want to hear of (webhooks, email) or another area must follow: `name` says what
    happened, `subject` is the version or endpoint it happened to, `data` adds to the standard fields."""

    name: Event
    subject: object
    actor: object = None
    data: dict = field(default_factory=dict)


_subscribers: dict[type, list[Callable]] = defaultdict(list)


def subscribe(event_type: type) -> Callable[[Callable], Callable]:
    """Decorator: call the function with every published event of `event_type` (or of a subclass)."""

    def register(handler: Callable) -> Callable:
        if handler not in _subscribers[event_type]:
            _subscribers[event_type].append(handler)
        return handler

    return register


def publish(event) -> None:
    """Call every subscriber of the event's class and of its base classes, in subscription order."""
    for event_type in type(event).__mro__:
        for handler in list(_subscribers.get(event_type, ())):
            handler(event)
