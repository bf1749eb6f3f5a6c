from django.db import models

from marketplace.audit.models import AuditAction, AuditEvent
from marketplace.lib.jsonsafe import json_safe, text_safe


def audit_record(*, actor, action: AuditAction, target: models.Model, team=None,
                 data: dict | None = None) -> AuditEvent:
    """Append an audit event. Call it inside the same transaction as the change it records.

    `data` may carry names taken from uploaded files: it is made storable (json_safe), never refused.
    """
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}")
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=getattr(actor, "username", "") or "",
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=text_safe(str(target))[:300],
        team=team,
        data=json_safe(data or {}, max_string_bytes=4096),
    )
