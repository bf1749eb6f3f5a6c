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
    """What happened, by name, in the past tense: the `action` of an audit event, the `event` of a webhook
    delivery (the subset in registry.notifications.models.SUBSCRIBABLE_EVENTS) and of the emails it causes."""

    TEAM_CREATED = "team.created", "Team created"
    TEAM_MEMBER_ADDED = "team.member_added", "Member added"
    TEAM_MEMBER_ROLE_CHANGED = "team.member_role_changed", "Member role changed"
    TEAM_MEMBER_REMOVED = "team.member_removed", "Member removed"
    TOKEN_CREATED = "token.created", "API token created"
    TOKEN_REVOKED = "token.revoked", "API token revoked"
    SIGNIN_LOCKED = "signin.locked", "Sign-in locked after repeated failures"
    SERVICE_ACCOUNT_CREATED = "service_account.created", "Service account created"
    SERVICE_ACCOUNT_DISABLED = "service_account.disabled", "Service account disabled"
    IDENTITY_PROVISIONED = "identity.provisioned", "User made at the first single sign-on"
    IDENTITY_GROUPS_MAPPED = "identity.groups_mapped", "Groups from the identity provider applied"
    ASSET_CREATED = "asset.created", "Asset created"
    ASSET_UPDATED = "asset.updated", "Asset edited"
    ASSET_DELETED = "asset.deleted", "Asset deleted"
    VERSION_CREATED = "version.created", "Version uploaded"
    VERSION_METADATA_UPDATED = "version.metadata_updated", "Version metadata edited"
    VERSION_TAGGED = "version.tagged", "Version tags set"
    VERSION_UNTAGGED = "version.untagged", "Version tag deleted"
    VERSION_VALIDATED = "version.validated", "Version validated"
    VERSION_INVALID = "version.invalid", "Version failed validation"
    VERSION_SUBMITTED = "version.submitted", "Version submitted for review"
    REVIEW_SUBMITTED = "review.submitted", "Review given"
    VERSION_APPROVED = "version.approved", "Version approved"
    VERSION_REJECTED = "version.rejected", "Version rejected"
    VERSION_CHANGES_REQUESTED = "version.changes_requested", "Changes requested on a version"
    VERSION_SIGNED = "version.signed", "Approved version signed"
    SIGNING_KEY_ADDED = "signing_key.added", "Signing key added to the keyring"
    SIGNING_KEY_ACTIVATED = "signing_key.activated", "Signing key activated"
    SIGNING_KEY_RETIRED = "signing_key.retired", "Signing key retired"
    SIGNING_KEY_REVOKED = "signing_key.revoked", "Signing key revoked"
    UPSTREAM_KEY_TRUSTED = "upstream_key.trusted", "Upstream signing key trusted"
    UPSTREAM_KEY_UNTRUSTED = "upstream_key.untrusted", "Upstream signing key no longer trusted"
    VERSION_DEPRECATED = "version.deprecated", "Version deprecated"
    VERSION_DOWNLOADED = "version.downloaded", "File of a private version downloaded"
    VERSION_INPUT_EXAMPLE_CHANGED = "version.input_example_changed", "Input example of a version set or replaced"
    VERSION_INPUT_EXAMPLE_REMOVED = "version.input_example_removed", "Input example of a version removed"
    ALIAS_MOVED = "alias.moved", "Alias set or moved"
    ALIAS_DELETED = "alias.deleted", "Alias deleted"
    POLICY_CHANGED = "policy.changed", "Review policy changed"
    CARD_UPDATED = "card.updated", "Model card edited"
    LINEAGE_ADDED = "lineage.added", "Lineage edge declared"
    LINEAGE_REMOVED = "lineage.removed", "Lineage edge removed"
    WEBHOOK_CREATED = "webhook.created", "Webhook created"
    WEBHOOK_UPDATED = "webhook.updated", "Webhook changed"
    WEBHOOK_DELETED = "webhook.deleted", "Webhook deleted"
    ENDPOINT_CREATED = "endpoint.created", "Inference endpoint created"
    ENDPOINT_READY = "endpoint.ready", "Inference endpoint ready"
    ENDPOINT_FAILED = "endpoint.failed", "Inference endpoint failed"
    ENDPOINT_UPDATE_REQUESTED = "endpoint.update_requested", "Inference endpoint update requested"
    ENDPOINT_UPDATED = "endpoint.updated", "Inference endpoint updated to another version"
    ENDPOINT_DELETE_REQUESTED = "endpoint.delete_requested", "Inference endpoint deletion requested"
    ENDPOINT_DELETED = "endpoint.deleted", "Inference endpoint deleted"
    ENDPOINT_VERSION_DEPRECATED = "endpoint.version_deprecated", "The version an endpoint serves was deprecated"
    ENDPOINT_KEY_CREATED = "endpoint.key_created", "Endpoint key created"
    ENDPOINT_KEY_REVOKED = "endpoint.key_revoked", "Endpoint key revoked"
    ENDPOINT_DRIFT_DETECTED = "endpoint.drift_detected", "Drift detected on an endpoint"
    ENDPOINT_DRIFT_RESOLVED = "endpoint.drift_resolved", "Drift on an endpoint resolved"
    ENDPOINT_PERFORMANCE_DEGRADED = "endpoint.performance_degraded", "Endpoint performance degraded"
    ENDPOINT_PERFORMANCE_RECOVERED = "endpoint.performance_recovered", "Endpoint performance recovered"
    ENDPOINT_MONITORING_CHANGED = "endpoint.monitoring_changed", "Endpoint monitoring settings changed"
    ENDPOINT_SHADOW_STARTED = "endpoint.shadow_started", "Shadow evaluation of a candidate started"
    ENDPOINT_SHADOW_READY = "endpoint.shadow_ready", "Shadow candidate receiving live traffic"
    ENDPOINT_SHADOW_FAILED = "endpoint.shadow_failed", "Shadow candidate failed to load"
    ENDPOINT_SHADOW_STOPPED = "endpoint.shadow_stopped", "Shadow evaluation stopped"
    # Sent only by "test" on one webhook; never subscribed to, never audited.
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
