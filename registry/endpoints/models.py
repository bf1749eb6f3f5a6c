from django.conf import settings as django_settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from registry.kernel.access import Visibility

# An endpoint's name is the V2 model name and (kubernetes backend) a resource name: a DNS label.
ENDPOINT_NAME_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
ENDPOINT_NAME_MAX_LENGTH = 63
endpoint_name_validator = RegexValidator(
    ENDPOINT_NAME_PATTERN,
    "An endpoint name is 1-63 lowercase letters, digits and '-', starting and ending with a "
    "letter or digit (for example fraud-scorer).",
)


class EndpointStatus(models.TextChoices):
    PENDING = "pending", "Pending (waiting for a worker)"
    PROVISIONING = "provisioning", "Provisioning"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    UPDATING = "updating", "Updating to another version"
    DELETING = "deleting", "Deleting"
    DELETED = "deleted", "Deleted"


class EndpointBackend(models.TextChoices):
    LOCAL = "local", "Local runtime (registry.runtime)"
    KUBERNETES = "kubernetes", "KServe on Kubernetes"


# The statuses a worker still has to act on: the provisioning task claims endpoints in these.
WORK_STATUSES = (EndpointStatus.PENDING, EndpointStatus.PROVISIONING, EndpointStatus.UPDATING, EndpointStatus.DELETING)
# Endpoints that hold their name (a deleted endpoint frees it).
LIVE_Q = ~Q(status=EndpointStatus.DELETED)


class Endpoint(models.Model):
    """An inference endpoint: one approved model version served under `name` by the inference runtime.

    `team` is the consuming team (who may call and manage it), not necessarily the asset's owner. When
    created from an alias, `alias` is remembered and the endpoint follows the alias when it moves.
    `task_id`, `claimed_at` and `attempts` are the provisioning claim (registry.endpoints.services.provisioning).
    """

    team = models.ForeignKey("registry.Team", on_delete=models.CASCADE, related_name="endpoints")
    name = models.CharField(max_length=ENDPOINT_NAME_MAX_LENGTH, validators=[endpoint_name_validator])
    version = models.ForeignKey("registry.AssetVersion", on_delete=models.CASCADE, related_name="endpoints")
    alias = models.CharField(max_length=64, blank=True, help_text="The alias this endpoint follows, if any.")
    status = models.CharField(max_length=16, choices=EndpointStatus.choices, default=EndpointStatus.PENDING)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    settings = models.JSONField(default=dict, blank=True)
    backend = models.CharField(max_length=16, choices=EndpointBackend.choices, default=EndpointBackend.LOCAL)
    url = models.CharField(max_length=500, blank=True)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Technical detail of the last failure (for operators).")
    # The version the runtime serves now (differs from `version` while updating).
    deployed_version = models.ForeignKey(
        "registry.AssetVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    task_id = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=LIVE_Q,
                name="endpoint_name_unique_live",
                violation_error_message="An endpoint with this name exists already.",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "status_changed_at"], name="endpoint_status_idx"),
            models.Index(fields=["version"], name="endpoint_version_idx"),
        ]

    def __str__(self) -> str:
        return f"endpoint {self.name}"


class EndpointKey(models.Model):
    """A key that calls one endpoint. Only its SHA-256 is stored; the key is shown once, at creation."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="keys")
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The short-lived key the provisioning task calls the model with (conformance check); never listed.
    internal = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… (endpoint {self.endpoint_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ShadowStatus(models.TextChoices):
    LOADING = "loading", "Loading beside the live version"
    READY = "ready", "Receiving a copy of live traffic"
    FAILED = "failed", "Failed to load"
    STOPPING = "stopping", "Stopping"
    STOPPED = "stopped", "Stopped"


# A shadow in these holds the endpoint's one shadow place; the shadow task acts on the first and the last.
SHADOW_ACTIVE_STATUSES = (ShadowStatus.LOADING, ShadowStatus.READY, ShadowStatus.FAILED)
SHADOW_WORK_STATUSES = (ShadowStatus.LOADING, ShadowStatus.STOPPING)
SHADOW_SUFFIX = ".shadow"


class EndpointShadow(models.Model):
    """A candidate version (validated or in review, same asset) that an endpoint mirrors its traffic to.

    The runtime serves it as `<endpoint>.shadow` with `shadow_of=<endpoint>`: after each live answer a copy of
    the request goes to the candidate, whose answer nobody sees (registry/runtime/README.md, Shadows); its
    windows go to registry.monitoring's ShadowWindow. One active shadow per endpoint; stopped ones are kept as the
    record of what was compared, when. `status_changed_at` doubles as the shadow task's claim time.
    """

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="shadows")
    version = models.ForeignKey("registry.AssetVersion", on_delete=models.CASCADE, related_name="shadows")
    status = models.CharField(max_length=16, choices=ShadowStatus.choices, default=ShadowStatus.LOADING)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint"],
                condition=Q(status__in=SHADOW_ACTIVE_STATUSES),
                name="endpoint_one_active_shadow",
                violation_error_message="This endpoint has a shadow already.",
            ),
        ]
        indexes = [models.Index(fields=["status", "status_changed_at"], name="endpoint_shadow_status_idx")]

    def __str__(self) -> str:
        return f"shadow of endpoint {self.endpoint_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in SHADOW_ACTIVE_STATUSES


def shadow_runtime_name(endpoint_name: str) -> str:
    """The runtime's name for an endpoint's shadow: never an endpoint's name (those have no dot)."""
    return endpoint_name + SHADOW_SUFFIX
