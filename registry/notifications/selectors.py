"""Reads of webhooks and their delivery logs, scoped to the caller's team membership."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from registry.kernel.access import Permission
from registry.kernel.errors import NotFound
from registry.kernel.lib.leases import claim_lease
from registry.notifications.models import DeliveryStatus, Webhook, WebhookDelivery
from registry.teams.models import Team
from registry.teams.selectors import team_get_for


def webhook_team_get(*, user, slug: str) -> Team:
    """The team if `user` may see its webhooks (members); everybody else gets a 404, as if it had none."""
    return team_get_for(user=user, slug=slug, permission=Permission.WEBHOOK_VIEW)


def webhook_list(*, team: Team) -> QuerySet[Webhook]:
    return (
        Webhook.objects.filter(team=team)
        .select_related("team", "created_by")
        .prefetch_related("assets__team")
        .order_by("pk")
    )


def webhook_get(*, team: Team, webhook_id: int) -> Webhook:
    found = webhook_list(team=team).filter(pk=webhook_id).first()
    if found is None:
        raise NotFound(f"'{team.slug}' has no webhook {webhook_id}.")
    return found


def delivery_list(*, webhook: Webhook) -> QuerySet[WebhookDelivery]:
    """The webhook's deliveries, newest first."""
    return WebhookDelivery.objects.filter(webhook=webhook).order_by("-created_at", "-pk")


def deliveries_lost(*, limit: int = 1000) -> list[int]:
    """Pending deliveries overdue by a lease (MODELHUB_CLAIM_LEASE), for the sweep: a claimed row whose heartbeat
    stopped (its worker was lost), or a due one whose message never arrived. A row still in a busy queue that is
    sent again meanwhile is harmless: only one message can claim it."""
    cutoff = timezone.now() - claim_lease()
    return list(
        WebhookDelivery.objects.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=cutoff), status=DeliveryStatus.PENDING
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
