from django.conf import settings
from django.db import models


class Scope(models.TextChoices):
    """What a token may do, on top of what its user may do (the user's permissions still apply)."""

    CATALOGUE_READ = "catalogue:read", "Read the catalogue, versions, endpoints, reviews and the audit trail"
    VERSIONS_WRITE = "versions:write", "Create and change assets, versions, uploads, cards, lineage and aliases"
    REVIEW = "review", "Submit review decisions and deprecate releases"
    DEPLOY = "deploy", "Create, change and delete endpoints, their keys, shadows and monitoring"
    ENDPOINTS_CALL = "endpoints:call", "Call endpoints of the user's teams and send them feedback"
    TEAMS_ADMIN = "teams:admin", "Create teams, manage their members and webhooks"


ALL_SCOPES: tuple[str, ...] = tuple(Scope.values)


class APIToken(models.Model):
    """A personal API key. Only its SHA-256 is stored: the key itself is shown once, at creation.

    It acts for its user within its `scopes`, until `expires_at` (never, for one made before tokens expired)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The first characters of the key, so a person can tell their tokens apart in a listing.
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
