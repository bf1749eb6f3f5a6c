from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from registry.kernel.events import Event

# The events a webhook can subscribe to, in the order the API lists them; the rest are audit records only.
SUBSCRIBABLE_EVENTS = [
    Event.VERSION_CREATED,
    Event.VERSION_VALIDATED,
    Event.VERSION_INVALID,
    Event.VERSION_SUBMITTED,
    Event.VERSION_APPROVED,
    Event.VERSION_REJECTED,
    Event.VERSION_CHANGES_REQUESTED,
    Event.VERSION_DEPRECATED,
    Event.ALIAS_MOVED,
    Event.ENDPOINT_READY,
    Event.ENDPOINT_FAILED,
    Event.ENDPOINT_UPDATED,
    Event.ENDPOINT_DELETED,
    Event.ENDPOINT_VERSION_DEPRECATED,
    Event.ENDPOINT_DRIFT_DETECTED,
    Event.ENDPOINT_DRIFT_RESOLVED,
    Event.ENDPOINT_PERFORMANCE_DEGRADED,
    Event.ENDPOINT_PERFORMANCE_RECOVERED,
    Event.ENDPOINT_SHADOW_READY,
    Event.ENDPOINT_SHADOW_FAILED,
]
DELIVERY_EVENT_CHOICES = [(event.value, event.label) for event in [*SUBSCRIBABLE_EVENTS, Event.PING]]
WEBHOOK_URL_MAX_LENGTH = 2000
DELIVERY_ERROR_MAX_LENGTH = 1000


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending (not sent yet, or waiting for a retry)"
    DELIVERED = "delivered", "Delivered (the receiver answered 2xx)"
    FAILED = "failed", "Failed (refused by the receiver, or out of attempts)"


class Webhook(models.Model):
    """A team's HTTP endpoint that receives signed JSON for events on the team's versions, or, when it lists
    `assets`, on exactly those assets' versions, whichever team owns them (while the team may see them).

    The secret signs every delivery (HMAC-SHA256), so it is kept encrypted, not hashed: delivery needs
    it in plain form. It is shown once, when the webhook is created.
    """

    team = models.ForeignKey("registry.Team", on_delete=models.CASCADE, related_name="webhooks")
    url = models.CharField(max_length=WEBHOOK_URL_MAX_LENGTH)
    events = models.JSONField(default=list, blank=True, help_text="Events to send; empty means every event.")
    secret_encrypted = models.TextField(
        help_text="Fernet token of the signing secret (registry.notifications.signing)."
    )
    secret_prefix = models.CharField(max_length=16, help_text="First characters of the secret, to recognise it.")
    active = models.BooleanField(default=True)
    assets = models.ManyToManyField(
        "registry.Asset",
        blank=True,
        related_name="subscribed_webhooks",
        help_text="The assets it follows (any team's it may see); none: every asset of its own team.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team_id", "pk"]

    def __str__(self) -> str:
        return f"webhook {self.pk} of {self.team_id}"

    def clean(self):
        if not isinstance(self.events, list) or any(event not in SUBSCRIBABLE_EVENTS for event in self.events):
            raise ValidationError({"events": f"Events are a list of: {', '.join(SUBSCRIBABLE_EVENTS)}."})

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events


class WebhookDelivery(models.Model):
    """One event sent (or to be sent) to one webhook: the delivery log a team reads.

    `next_attempt_at` is when the next attempt is due; a worker that claims the row moves it forward
    by a lease, so a second worker (a redelivered message, the recovery sweep) leaves it alone.
    """

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=32, choices=DELIVERY_EVENT_CHOICES)
    payload = models.JSONField(default=dict, help_text="The `data` of the JSON body.")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=DELIVERY_ERROR_MAX_LENGTH, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx")]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.event}, {self.status})"


class AssetSubscription(models.Model):
    """A person following an asset they may see (any team's): an email for each of its version and alias events
    they asked for (none listed: all of them), while they may still see it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="asset_subscriptions")
    asset = models.ForeignKey("registry.Asset", on_delete=models.CASCADE, related_name="subscriptions")
    events = models.JSONField(default=list, blank=True, help_text="Events emailed; empty means every version event.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user_id", "asset_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "asset"],
                name="asset_subscription_unique",
                violation_error_message="You follow this asset already.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.asset_id}"

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events
