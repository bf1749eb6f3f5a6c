from django.conf import settings
from django.db import models

from marketplace.access import Visibility
from marketplace.lib.slugs import slug_validator


class AssetKind(models.TextChoices):
    DATASET = "dataset", "Dataset"
    MODEL = "model", "Model"
    SOLUTION = "solution", "Solution"


class Tag(models.Model):
    name = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Asset(models.Model):
    kind = models.CharField(max_length=16, choices=AssetKind.choices)
    team = models.ForeignKey("marketplace.Team", on_delete=models.PROTECT, related_name="assets")
    name = models.CharField(max_length=200)
    # Unique within the owning team: `team/slug` names an asset, as `owner/name` does on the
    # Hugging Face Hub, so a slug taken in another team's private catalogue is never revealed.
    slug = models.CharField(max_length=100, validators=[slug_validator])
    summary = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True, help_text="Markdown.")
    tags = models.ManyToManyField(Tag, related_name="assets", blank=True)
    license = models.CharField(max_length=64, blank=True, help_text="SPDX licence identifier.")
    task = models.CharField(max_length=64, blank=True)
    framework = models.CharField(max_length=64, blank=True)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.INTERNAL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Tag names joined by spaces: the full-text index is an expression over this row's columns
    # only, so tags are copied here by the service that sets them.
    tags_text = models.TextField(blank=True, editable=False)
    # Kept by the registry's version services, so listing the catalogue never reads the versions.
    latest_version = models.CharField(max_length=100, blank=True, editable=False)
    version_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["team__slug", "slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "slug"],
                name="asset_slug_unique_per_team",
                violation_error_message="This team already has an asset with this slug.",
            ),
        ]
        indexes = [
            models.Index(fields=["kind"], name="asset_kind_idx"),
            models.Index(fields=["task"], name="asset_task_idx"),
            models.Index(fields=["license"], name="asset_license_idx"),
            models.Index(fields=["-updated_at"], name="asset_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.full_slug

    @property
    def full_slug(self) -> str:
        """`team/slug`: the asset's name in URLs, unique across the catalogue."""
        return f"{self.team.slug}/{self.slug}"
