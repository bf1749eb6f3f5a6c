from django.conf import settings
from django.db import models


class ServiceAccount(models.Model):
    """A team-owned identity for a pipeline: a user that only ever acts through scoped tokens its team's maintainers
    make for it. It cannot sign in to the portal (no password, refused by the sign-in backend) and never reviews."""

    team = models.ForeignKey("registry.Team", on_delete=models.CASCADE, related_name="service_accounts")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="service_account")
    name = models.CharField(max_length=64)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    disabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["team_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "name"],
                name="service_account_name_unique",
                violation_error_message="The team has a service account of this name already.",
            )
        ]

    def __str__(self) -> str:
        return f"service account {self.name} of {self.team_id}"


class ExternalIdentity(models.Model):
    """A person (or a machine client) known to the organisation's OpenID Connect provider: the Modelhub user that
    an issuer's `sub` signs in as. Made at the first sign-in (or first API call with the provider's token); never
    matched to an existing account by name or email, so an identity at the provider cannot take over a local one."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identity")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    # The provider's groups as of the last sign-in (what the group map was applied to), for the admin and the audit.
    groups = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "subject"],
                name="external_identity_unique",
                violation_error_message="This provider's subject is linked to a user already.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
