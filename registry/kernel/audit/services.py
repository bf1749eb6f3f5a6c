from django.db import connection, models, transaction
from django.utils import timezone

from registry.kernel.audit.chain import CHAIN_LOCK_KEY, GENESIS_HASH, event_hash
from registry.kernel.audit.models import AuditEvent
from registry.kernel.events import Event
from registry.kernel.lib.jsonsafe import json_safe, text_safe
from registry.kernel.lib.request_context import request_id_get


def _lock_chain() -> None:
    # Held to the end of the caller's transaction, so the next event reads this one as its predecessor.
    # SQLite needs no lock: it runs one writing transaction at a time.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def audit_record(
    *, actor, action: Event, target: models.Model, team=None, data: dict | None = None, before=None, after=None
) -> AuditEvent:
    """Append an audit event to the hash chain. Call it inside the transaction of the change it records,
    as late as possible: appending holds the chain's lock until that transaction ends.

    `data`, `before` and `after` may carry names taken from uploaded files: they are made storable
    (json_safe), never refused.
    """
    if action not in Event.values or action == Event.PING:
        raise ValueError(f"unknown audit action {action!r}")
    fields = {
        "actor_id": actor.pk if actor is not None and actor.is_authenticated else None,
        "actor_name": getattr(actor, "username", "") or "",
        "action": str(action),
        "target_type": target._meta.label_lower,
        "target_id": str(target.pk),
        "target_repr": text_safe(str(target))[:300],
        "team_id": team.pk if team is not None else None,
        "data": json_safe(data or {}, max_string_bytes=4096),
        "before": json_safe(before, max_string_bytes=4096),
        "after": json_safe(after, max_string_bytes=4096),
        "request_id": request_id_get(),
        "created_at": timezone.now(),
    }
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        digest = event_hash(seq=seq, prev_hash=prev_hash, **fields)
        return AuditEvent.objects.create(seq=seq, prev_hash=prev_hash, hash=digest, **fields)
