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
