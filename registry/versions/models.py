from django.conf import settings
from django.db import models


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    VALIDATING = "validating", "Validating"
    VALIDATED = "validated", "Validated"
    INVALID = "invalid", "Invalid"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    DEPRECATED = "deprecated", "Deprecated"


class AssetVersion(models.Model):
    """One immutable release of an asset: its files never change once uploaded; metadata may."""

    asset = models.ForeignKey("registry.Asset", on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=100)
    # The parsed semantic version, so versions sort numerically (1.10.0 after 1.9.0).
    major = models.PositiveBigIntegerField()
    minor = models.PositiveBigIntegerField()
    patch = models.PositiveBigIntegerField()
    prerelease = models.CharField(max_length=100, blank=True)
    is_prerelease = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    metadata = models.JSONField(default=dict, blank=True)
    filename = models.CharField(max_length=255, help_text="Name of the uploaded file.")
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the uploaded file.")
    size = models.PositiveBigIntegerField(help_text="Size of the uploaded file in bytes.")
    # Models: {"inputs": [...], "outputs": [...]}; tabular datasets: {"columns": [...]}.
    signature = models.JSONField(null=True, blank=True)
    deprecation_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Newest release first; a pre-release sorts below its release (semver precedence).
        ordering = ["asset_id", "-major", "-minor", "-patch", "is_prerelease", "-prerelease"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "version"],
                name="version_unique_per_asset",
                violation_error_message="This asset already has a version with this number.",
            ),
            # Build metadata (+...) does not count in semver precedence: 1.0.0+a and 1.0.0+b would
            # tie for "latest", so only one of them may exist.
            models.UniqueConstraint(
                fields=["asset", "major", "minor", "patch", "prerelease"],
                name="version_precedence_unique_per_asset",
                violation_error_message="This asset already has a version of the same precedence.",
            ),
        ]
        indexes = [models.Index(fields=["status"], name="version_status_idx")]

    def __str__(self) -> str:
        return f"{self.asset_id}@{self.version}"


class VersionTag(models.Model):
    """A key/value label on a version, as MLflow's model version tags (`stage=candidate`, `git_sha=...`,
    `run_id=...`): set at upload or later by the asset's team, audited, and filterable (`?tag=key:value`)."""

    version = models.ForeignKey(AssetVersion, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=64)
    value = models.CharField(max_length=500, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "key"],
                name="version_tag_key_unique",
                violation_error_message="The version has a tag of this key already.",
            )
        ]
        indexes = [models.Index(fields=["key", "value"], name="version_tag_idx")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class MetricSource(models.TextChoices):
    CARD = "card", "The model card's model-index"
    API = "api", "Set directly"


class VersionMetric(models.Model):
    """A number a version declares about itself (accuracy 0.97 on iris), stored as data so versions can be filtered
    (`?metric=accuracy>0.9`) and compared: from its card's `model-index`, or set directly."""

    version = models.ForeignKey(AssetVersion, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=100)
    dataset = models.CharField(max_length=200, blank=True)
    value = models.FloatField()
    source = models.CharField(max_length=8, choices=MetricSource.choices)

    class Meta:
        ordering = ["name", "dataset"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "source", "name", "dataset"],
                name="version_metric_unique",
                violation_error_message="The version declares this metric on this dataset already.",
            )
        ]
        indexes = [models.Index(fields=["name", "value"], name="version_metric_idx")]

    def __str__(self) -> str:
        return f"{self.name}={self.value:g}" + (f" on {self.dataset}" if self.dataset else "")
