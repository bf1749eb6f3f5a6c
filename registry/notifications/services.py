"""Notifications: publishing version events, managing webhooks, and delivering them.

Domain services call `event_publish` inside their transaction. It only inserts one delivery row per
interested webhook (so a delivery is committed with the change, or not at all) and, once the
transaction commits, sends the delivery and email tasks by name. Network I/O happens in the tasks.
"""

import json
import logging
import time
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from registry.assets.selectors import asset_get
from registry.kernel.access import Permission, Visibility, require
from registry.kernel.audit.services import audit_record
from registry.kernel.errors import InvalidInput, NotFound
from registry.kernel.events import Event
from registry.kernel.lib.jsonsafe import json_safe
from registry.kernel.lib.leases import Heartbeat, claim_lease
from registry.kernel.lib.tasks import task_send_on_commit
from registry.lineage.models import LineageEdge, LineageKind
from registry.notifications.delivery import DELIVER_TASK, EMAIL_TASK, USER_AGENT, retry_delay, url_refusal, webhook_post
from registry.notifications.models import (
    DELIVERY_ERROR_MAX_LENGTH,
    SUBSCRIBABLE_EVENTS,
    AssetSubscription,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
)
from registry.notifications.signing import (
    SIGNATURE_HEADER,
    STANDARD_ID_HEADER,
    STANDARD_SIGNATURE_HEADER,
    STANDARD_TIMESTAMP_HEADER,
    TIMESTAMP_HEADER,
    SecretUnreadable,
    payload_signature,
    secret_decrypt,
    secret_encrypt,
    secret_generate,
    standard_signature,
)

logger = logging.getLogger(__name__)

MAX_WEBHOOKS_PER_TEAM = 20
# Celery may start a retry a moment before the due time it was given.
CLOCK_SLACK = timedelta(seconds=1)
# Events that send email as well as webhooks.
EMAIL_EVENTS = {
    Event.VERSION_SUBMITTED,
    Event.VERSION_APPROVED,
    Event.VERSION_REJECTED,
    Event.VERSION_CHANGES_REQUESTED,
    Event.ENDPOINT_DRIFT_DETECTED,
    Event.ENDPOINT_PERFORMANCE_DEGRADED,
}


def version_path(version) -> str:
    return f"/api/v1/assets/{version.asset.full_slug}/versions/{version.version}/"


def event_publish(*, event: str, version, actor, data: dict) -> list[WebhookDelivery]:
    """Publish `event` about `version`: a delivery for each active webhook of the owning team that wants
    it, and (for review events) the emails. Call it inside the transaction of the change: the rows commit
    with it and the tasks are sent only after the commit. `data` adds to (and overrides) the standard
    fields: asset, kind, version, status, actor, url.
    """
    if event not in SUBSCRIBABLE_EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    asset = version.asset
    payload = json_safe(
        {
            "asset": asset.full_slug,
            "kind": asset.kind,
            "version": version.version,
            "status": version.status,
            "actor": getattr(actor, "username", None),
            "url": version_path(version),
            **data,
        },
        max_string_bytes=16_384,
    )
    deliveries = _deliveries_create(team_id=asset.team_id, event=event, payload=payload, asset=asset)
    if event == Event.VERSION_DEPRECATED:
        deliveries += _deprecation_notices(version, payload)
    if event in EMAIL_EVENTS or any(sub.wants(event) for sub in AssetSubscription.objects.filter(asset=asset)):
        task_send_on_commit(EMAIL_TASK, str(event), version.pk, payload)
    return deliveries


# Version events a person may follow an asset for (the endpoint events go to the endpoint's team).
FOLLOWABLE_EVENTS = [event for event in SUBSCRIBABLE_EVENTS if not str(event).startswith("endpoint.")]


def subscription_set(*, user, asset, events: list[str]) -> AssetSubscription:
    """Follow `asset` (which `user` can see: the caller got it with asset_get) for `events` (empty: all of
    FOLLOWABLE_EVENTS), or change what is followed. Idempotent."""
    events = _events(events)
    refused = sorted(set(events) - set(FOLLOWABLE_EVENTS))
    if refused:
        raise InvalidInput(
            f"events: {', '.join(refused)} concern endpoints, which their teams' webhooks hear of; follow "
            f"version events ({', '.join(FOLLOWABLE_EVENTS)}).",
            field="events",
        )
    subscription, _ = AssetSubscription.objects.update_or_create(user=user, asset=asset, defaults={"events": events})
    return subscription


def subscription_delete(*, user, asset) -> None:
    if not AssetSubscription.objects.filter(user=user, asset=asset).delete()[0]:
        raise NotFound(f"You do not follow '{asset.full_slug}'.")


def _deprecation_notices(version, payload: dict) -> list[WebhookDelivery]:
    """`version.deprecated` for the other teams whose solution versions use the deprecated one, each with its own
    list (`used_by`) from the lineage; their endpoints hear of it as endpoint.version_deprecated."""
    used_by_team: dict[int, list[str]] = {}
    edges = LineageEdge.objects.filter(target=version, kind=LineageKind.USES).exclude(
        source__asset__team_id=version.asset.team_id
    )
    deliveries = []
    for team_id, team_slug, slug, number in edges.values_list(
        "source__asset__team_id", "source__asset__team__slug", "source__asset__slug", "source__version"
    ).order_by("pk"):
        used_by_team.setdefault(team_id, []).append(f"{team_slug}/{slug}@{number}")
    for team_id, used_by in sorted(used_by_team.items()):
        deliveries += _deliveries_create(
            team_id=team_id, event=Event.VERSION_DEPRECATED, payload={**payload, "used_by": used_by[:100]}
        )
    return deliveries


def endpoint_event_publish(*, event: str, endpoint, actor, data: dict | None = None) -> list[WebhookDelivery]:
    """Publish an `endpoint.*` event to the webhooks of the endpoint's (consuming) team. Call it inside the
    transaction of the change, as event_publish."""
    if event not in SUBSCRIBABLE_EVENTS or not str(event).startswith("endpoint."):
        raise ValueError(f"unknown endpoint event {event!r}")
    version = endpoint.version
    payload = json_safe(
        {
            "endpoint": endpoint.name,
            "endpoint_id": endpoint.pk,
            "team": endpoint.team.slug,
            "status": endpoint.status,
            "reason": endpoint.status_reason[:500],
            "endpoint_url": endpoint.url,
            "asset": version.asset.full_slug,
            "version": version.version,
            "actor": getattr(actor, "username", None),
            "url": f"/api/v1/endpoints/{endpoint.pk}/",
            **(data or {}),
        },
        max_string_bytes=16_384,
    )
    deliveries = _deliveries_create(team_id=endpoint.team_id, event=event, payload=payload)
    if event in EMAIL_EVENTS:
        task_send_on_commit(EMAIL_TASK, str(event), version.pk, payload)
    return deliveries


def _deliveries_create(*, team_id: int, event: str, payload: dict, asset=None) -> list[WebhookDelivery]:
    """A delivery row per active webhook that wants `event`, each sent once the transaction commits: the team's
    webhooks; for an event about `asset`, the team's that follow no asset list, and every team's that lists the
    asset and may see it (it is internal, or theirs)."""
    now = timezone.now()
    if asset is None:
        candidates = Webhook.objects.filter(team_id=team_id, active=True)
    else:
        own = Q(team_id=asset.team_id)
        follows = Q(assets=asset) & (own | Q(assets__visibility=Visibility.INTERNAL))
        candidates = Webhook.objects.filter(Q(own, assets=None) | follows, active=True).distinct()
    webhooks = [webhook for webhook in candidates.order_by("pk") if webhook.wants(event)]
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(webhook=webhook, event=event, payload=payload, next_attempt_at=now) for webhook in webhooks]
    )
    for delivery in deliveries:
        task_send_on_commit(DELIVER_TASK, delivery.pk)
    return deliveries


def _events(events) -> list[str]:
    if not isinstance(events, list) or any(not isinstance(event, str) for event in events):
        raise InvalidInput("events is a list of event names.", field="events")
    unknown = sorted(set(events) - set(SUBSCRIBABLE_EVENTS))
    if unknown:
        raise InvalidInput(
            f"Unknown event(s) {', '.join(unknown)[:200]}; events are: {', '.join(SUBSCRIBABLE_EVENTS)}.",
            field="events",
        )
    return [event for event in SUBSCRIBABLE_EVENTS if event in events]


MAX_FOLLOWED_ASSETS = 100


def _assets(user, names) -> list:
    """The assets `names` ("team/slug") name, each visible to `user`; InvalidInput names the first that is not."""
    if not isinstance(names, list) or any(not isinstance(name, str) for name in names):
        raise InvalidInput('assets is a list of "team/slug" names.', field="assets")
    if len(names) > MAX_FOLLOWED_ASSETS:
        raise InvalidInput(f"assets: a webhook follows at most {MAX_FOLLOWED_ASSETS} assets.", field="assets")
    found = []
    for name in dict.fromkeys(names):
        owner, _, slug = name.partition("/")
        try:
            found.append(asset_get(user=user, team=owner, slug=slug))
        except NotFound:
            raise InvalidInput(f"assets: no asset '{name[:130]}' that you may see.", field="assets") from None
    return found


def webhook_create(*, user, team, url: str, events: list[str], assets: list[str] | None = None) -> tuple[Webhook, str]:
    """Register a webhook for `team` (maintainers) and return it with its secret, which is not shown again.

    The URL is http(s), without credentials, at most 2000 characters, and not a refused address literal;
    an empty `events` list means every event. Transactional and audited.
    """
    require(user, Permission.WEBHOOK_MANAGE, team, f"Only maintainers of '{team.slug}' can manage its webhooks.")
    refusal = url_refusal(url)
    if refusal:
        raise InvalidInput(refusal, field="url")
    events = _events(events)
    followed = _assets(user, assets or [])
    secret = secret_generate()
    with transaction.atomic():
        if Webhook.objects.select_for_update().filter(team=team).count() >= MAX_WEBHOOKS_PER_TEAM:
            raise InvalidInput(f"A team has at most {MAX_WEBHOOKS_PER_TEAM} webhooks; delete one first.")
        webhook = Webhook(
            team=team,
            url=url,
            events=events,
            secret_encrypted=secret_encrypt(secret),
            secret_prefix=secret[:10],
            created_by=user,
        )
        webhook.full_clean()
        webhook.save()
        webhook.assets.set(followed)
        audit_record(
            actor=user,
            action=Event.WEBHOOK_CREATED,
            target=webhook,
            team=team,
            data={"url": url, "events": events, "assets": [a.full_slug for a in followed]},
        )
    return webhook, secret


def webhook_update(
    *,
    user,
    webhook: Webhook,
    url: str | None = None,
    events: list[str] | None = None,
    active: bool | None = None,
    assets: list[str] | None = None,
    rotate_secret: bool = False,
) -> tuple[Webhook, str | None]:
    """Change a webhook's URL, events or active flag, or give it a new secret (maintainers); what is None is left.
    Returns it with the new secret when one was made (shown once; deliveries from now on are signed with it).
    Transactional and audited with what changed (never the secret)."""
    team = webhook.team
    require(user, Permission.WEBHOOK_MANAGE, team, f"Only maintainers of '{team.slug}' can manage its webhooks.")
    if url is not None and (refusal := url_refusal(url)):
        raise InvalidInput(refusal, field="url")
    events = _events(events) if events is not None else None
    followed = _assets(user, assets) if assets is not None else None
    secret = secret_generate() if rotate_secret else None
    with transaction.atomic():
        locked = Webhook.objects.select_for_update().get(pk=webhook.pk)
        wanted = {"url": url, "events": events, "active": active}
        before = {field: getattr(locked, field) for field, value in wanted.items() if value is not None}
        changed = {field: value for field, value in wanted.items() if value is not None and before[field] != value}
        for field, value in changed.items():
            setattr(locked, field, value)
        if followed is not None:
            current = sorted(a.full_slug for a in locked.assets.all())
            if current != sorted(a.full_slug for a in followed):
                before["assets"], changed["assets"] = current, sorted(a.full_slug for a in followed)
                locked.assets.set(followed)
        if secret is not None:
            locked.secret_encrypted, locked.secret_prefix = secret_encrypt(secret), secret[:10]
        if not changed and secret is None:
            return locked, None
        locked.full_clean()
        locked.save()
        audit_record(
            actor=user,
            action=Event.WEBHOOK_UPDATED,
            target=locked,
            team=team,
            data={"secret_rotated": secret is not None},
            before={field: before[field] for field in changed},
            after=changed,
        )
    return locked, secret


def webhook_delete(*, user, webhook: Webhook) -> None:
    """Delete a webhook and its delivery log (maintainers). Audited; pending deliveries are dropped."""
    team = webhook.team
    require(user, Permission.WEBHOOK_MANAGE, team, f"Only maintainers of '{team.slug}' can manage its webhooks.")
    with transaction.atomic():
        audit_record(
            actor=user,
            action=Event.WEBHOOK_DELETED,
            target=webhook,
            team=team,
            data={"url": webhook.url, "events": webhook.events},
        )
        webhook.delete()


def webhook_ping(*, user, webhook: Webhook) -> WebhookDelivery:
    """Queue a `ping` delivery to one webhook (maintainers), to check the receiver and its secret."""
    team = webhook.team
    require(user, Permission.WEBHOOK_MANAGE, team, f"Only maintainers of '{team.slug}' can manage its webhooks.")
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            webhook=webhook,
            event=Event.PING,
            next_attempt_at=timezone.now(),
            payload={"webhook": webhook.pk, "team": team.slug, "actor": user.username},
        )
        task_send_on_commit(DELIVER_TASK, delivery.pk)
    return delivery


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The JSON body of a delivery: the same bytes on every attempt."""
    return json.dumps(
        {
            "id": delivery.pk,
            "event": delivery.event,
            "created_at": delivery.created_at.isoformat(),
            "data": delivery.payload,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def _record(delivery_id: int, attempt: int, **fields) -> bool:
    """Record attempt number `attempt`'s outcome, unless the row was claimed again since (this attempt's claim
    lapsed and another worker took the row): a late outcome is dropped, never written over a newer one."""
    if "last_error" in fields:
        fields["last_error"] = fields["last_error"][:DELIVERY_ERROR_MAX_LENGTH]
    return bool(
        WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, attempts=attempt).update(**fields)
    )


def webhook_deliver(*, delivery_id: int, max_attempts: int) -> int | None:
    """Make one attempt at a pending delivery; returns the seconds until the next attempt, or None when
    there is nothing more to do (delivered, failed for good, gone, or claimed by someone else).

    Idempotent: the row is claimed with a conditional update (pending, due, attempts left), which also
    moves its due time forward by a lease (MODELHUB_CLAIM_LEASE), and a heartbeat keeps moving it while the POST
    runs, so a redelivered message or the recovery sweep never sends a delivered row again nor sends one twice at
    once, and a worker killed mid-POST leaves a row the sweep takes within a lease. No transaction is open during
    the POST.
    """
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + CLOCK_SLACK),
        pk=delivery_id,
        status=DeliveryStatus.PENDING,
        attempts__lt=max_attempts,
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + claim_lease())
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    webhook, attempt = delivery.webhook, delivery.attempts
    if not webhook.active and delivery.event != Event.PING:
        _record(
            delivery_id,
            attempt,
            status=DeliveryStatus.FAILED,
            next_attempt_at=None,
            last_error="The webhook is inactive.",
        )
        return None
    try:
        secret = secret_decrypt(webhook.secret_encrypted)
    except SecretUnreadable as exc:
        _record(delivery_id, attempt, status=DeliveryStatus.FAILED, next_attempt_at=None, last_error=str(exc))
        return None
    body = delivery_body(delivery)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Modelhub-Event": delivery.event,
        "X-Modelhub-Delivery": str(delivery.pk),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: payload_signature(secret=secret, timestamp=timestamp, body=body),
        # The same id on every attempt of one delivery, so a receiver can drop a retry it has seen.
        STANDARD_ID_HEADER: f"msg_{delivery.pk}",
        STANDARD_TIMESTAMP_HEADER: str(timestamp),
        STANDARD_SIGNATURE_HEADER: standard_signature(
            secret=secret, message_id=f"msg_{delivery.pk}", timestamp=timestamp, body=body
        ),
    }

    def renew() -> int:
        return WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, attempts=attempt).update(
            next_attempt_at=timezone.now() + claim_lease()
        )

    with Heartbeat(renew, name=f"webhook delivery {delivery_id}"):
        result = webhook_post(url=webhook.url, body=body, headers=headers)
    outcome = {"last_status_code": result.status_code, "last_error": result.error, "response_ms": result.response_ms}
    if result.delivered:
        _record(
            delivery_id,
            attempt,
            status=DeliveryStatus.DELIVERED,
            delivered_at=timezone.now(),
            next_attempt_at=None,
            **outcome,
        )
        return None
    if result.retryable and attempt < max_attempts:
        delay = retry_delay(attempt)
        _record(delivery_id, attempt, next_attempt_at=timezone.now() + timedelta(seconds=delay), **outcome)
        return delay
    logger.info("webhook delivery %s failed after %s attempt(s): %s", delivery_id, delivery.attempts, result.error)
    _record(delivery_id, attempt, status=DeliveryStatus.FAILED, next_attempt_at=None, **outcome)
    return None


def deliveries_expire(*, max_attempts: int) -> int:
    """Fail pending deliveries that have used every attempt but whose last one never recorded an outcome
    (the worker died during it). Returns how many."""
    return WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING,
        attempts__gte=max_attempts,
        next_attempt_at__lt=timezone.now(),
    ).update(
        status=DeliveryStatus.FAILED,
        next_attempt_at=None,
        last_error="Out of attempts: the last attempt never finished (worker lost).",
    )
