from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditAction(models.TextChoices):
    TEAM_CREATE = "team.create", "Team created"
    TEAM_MEMBER_ADD = "team.member_add", "Member added"
    TEAM_MEMBER_ROLE = "team.member_role", "Member role changed"
    TEAM_MEMBER_REMOVE = "team.member_remove", "Member removed"
    TOKEN_CREATE = "token.create", "API token created"
    TOKEN_REVOKE = "token.revoke", "API token revoked"
    ASSET_CREATE = "asset.create", "Asset created"
    ASSET_UPDATE = "asset.update", "Asset edited"
    ASSET_DELETE = "asset.delete", "Asset deleted"
    VERSION_CREATE = "version.create", "Version uploaded"
    VERSION_UPDATE_METADATA = "version.update_metadata", "Version metadata edited"
    VERSION_VALIDATED = "version.validated", "Version validated"
    VERSION_INVALID = "version.invalid", "Version failed validation"
    VERSION_SUBMIT = "version.submit", "Version submitted for review"
    VERSION_APPROVED = "version.approved", "Version approved"
    VERSION_REJECTED = "version.rejected", "Version rejected"
    VERSION_CHANGES_REQUESTED = "version.changes_requested", "Changes requested on a version"
    VERSION_DEPRECATE = "version.deprecate", "Version deprecated"
    REVIEW_SUBMIT = "review.submit", "Review given"
    ALIAS_MOVE = "alias.move", "Alias set or moved"
    ALIAS_DELETE = "alias.delete", "Alias deleted"
    POLICY_CHANGE = "policy.change", "Review policy changed"
    VERSION_DOWNLOAD = "version.download", "File of a private version downloaded"
    VERSION_SIGNED = "version.signed", "Approved version signed"
    CARD_UPDATE = "card.update", "Model card edited"
    LINEAGE_ADD = "lineage.add", "Lineage edge declared"
    LINEAGE_REMOVE = "lineage.remove", "Lineage edge removed"
    WEBHOOK_CREATE = "webhook.create", "Webhook created"
    WEBHOOK_DELETE = "webhook.delete", "Webhook deleted"
    ENDPOINT_CREATE = "endpoint.create", "Inference endpoint created"
    ENDPOINT_READY = "endpoint.ready", "Inference endpoint ready"
    ENDPOINT_FAILED = "endpoint.failed", "Inference endpoint failed"
    ENDPOINT_UPDATE = "endpoint.update", "Inference endpoint update requested"
    ENDPOINT_DELETE = "endpoint.delete", "Inference endpoint deleted"
    ENDPOINT_KEY_CREATE = "endpoint.key_create", "Endpoint key created"
    ENDPOINT_KEY_REVOKE = "endpoint.key_revoke", "Endpoint key revoked"


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
    action = models.CharField(max_length=64, choices=AuditAction.choices)
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
