from django.db import models

from registry.audit.models import AuditEvent


def audit_record(*, actor, action: str, target: models.Model, team=None, data: dict | None = None) -> AuditEvent:
    """Append an audit event. Call it inside the same transaction as the change it records."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=getattr(actor, "username", "") or "",
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=str(target)[:300],
        team=team,
        data=data or {},
    )
