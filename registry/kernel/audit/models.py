from django.conf import settings
from django.db import models
from django.utils import timezone

from registry.kernel.events import Event

# The actions recorded before audit actions and webhook events became one vocabulary (registry.kernel.events.Event,
# 2026-12). Their rows keep them, since the hash chain covers `action`; a read by action asks for both names.
_RENAMED = {
    "team.create": Event.TEAM_CREATED,
    "team.member_add": Event.TEAM_MEMBER_ADDED,
    "team.member_role": Event.TEAM_MEMBER_ROLE_CHANGED,
    "team.member_remove": Event.TEAM_MEMBER_REMOVED,
    "token.create": Event.TOKEN_CREATED,
    "token.revoke": Event.TOKEN_REVOKED,
    "asset.create": Event.ASSET_CREATED,
    "asset.update": Event.ASSET_UPDATED,
    "asset.delete": Event.ASSET_DELETED,
    "version.create": Event.VERSION_CREATED,
    "version.update_metadata": Event.VERSION_METADATA_UPDATED,
    "version.submit": Event.VERSION_SUBMITTED,
    "version.deprecate": Event.VERSION_DEPRECATED,
    "review.submit": Event.REVIEW_SUBMITTED,
    "alias.move": Event.ALIAS_MOVED,
    "alias.delete": Event.ALIAS_DELETED,
    "policy.change": Event.POLICY_CHANGED,
    "version.download": Event.VERSION_DOWNLOADED,
    "card.update": Event.CARD_UPDATED,
    "lineage.add": Event.LINEAGE_ADDED,
    "lineage.remove": Event.LINEAGE_REMOVED,
    "webhook.create": Event.WEBHOOK_CREATED,
    "webhook.delete": Event.WEBHOOK_DELETED,
    "endpoint.create": Event.ENDPOINT_CREATED,
    "endpoint.update": Event.ENDPOINT_UPDATE_REQUESTED,
    "endpoint.key_create": Event.ENDPOINT_KEY_CREATED,
    "endpoint.key_revoke": Event.ENDPOINT_KEY_REVOKED,
}
# Each former name with what it is called now; one former name stood for two events.
FORMER_ACTIONS: dict[str, tuple[Event, ...]] = {
    **{former: (current,) for former, current in _RENAMED.items()},
    # Recorded both when a deletion was asked for and when it was done.
    "endpoint.delete": (Event.ENDPOINT_DELETED, Event.ENDPOINT_DELETE_REQUESTED),
}
AUDIT_ACTION_CHOICES = [
    *((event.value, event.label) for event in Event if event != Event.PING),
    *((former, f"{current[0].label} (as recorded before 2026-12)") for former, current in FORMER_ACTIONS.items()),
]


def action_names(action: str) -> list[str]:
    """The names events of `action` were recorded under: itself, and its former names."""
    return [action, *(former for former, current in FORMER_ACTIONS.items() if action in current)]


class AuditEvent(models.Model):
    """An append-only record of a change: who did what to which object, and with what data.

    Hash-chained (registry.kernel.audit.chain) and, on PostgreSQL, protected by a trigger that refuses
    UPDATE and DELETE. References to users and teams are kept without database constraints, so
    deleting an account or a team never has to touch (or is blocked by) the trail.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    # Kept as text too, so the record still names the actor after the account is deleted.
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, choices=AUDIT_ACTION_CHOICES)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=300, blank=True)
    team = models.ForeignKey(
        "registry.Team", on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    # The state of what changed, where the action has one (a status, an alias target, a role).
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True, help_text="The API request that made the change.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    seq = models.PositiveBigIntegerField(unique=True, help_text="Position in the hash chain: 1, 2, 3, ...")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"{self.actor_name or 'system'} {self.action} {self.target_type}:{self.target_id}"


# Events written before the catalogue's models moved from the `marketplace` app into `registry` (migration
# registry 0011) name their targets by the old label. They stay as written, since the hash chain covers
# `target_type`; a read by target type asks for both names.
_FORMER_TARGET_TYPES = {
    f"registry.{name}": f"marketplace.{name}" for name in ("team", "membership", "apitoken", "asset", "tag")
}


def target_type_names(target_type: str) -> list[str]:
    """The names events of `target_type` (a model's `app_label.model`) were recorded under."""
    former = _FORMER_TARGET_TYPES.get(target_type)
    return [target_type, former] if former else [target_type]
