from django.conf import settings
from django.db import models
from django.db.models.functions import Upper

from registry.kernel.access import Visibility
from registry.kernel.lib.slugs import slug_validator


class AssetKind(models.TextChoices):
    DATASET = "dataset", "Dataset"
    MODEL = "model", "Model"
    SOLUTION = "solution", "Solution"


class ReleaseStatus(models.TextChoices):
    """How far an asset got in the release lifecycle: the furthest status among its versions, in the order
    this enum lists them (an asset with an approved version is `approved`, whatever its newer uploads are
    doing). The registry owns the version lifecycle (`registry.versions.models.VersionStatus`, same values)
    and keeps `Asset.status` in step; the catalogue filters and counts it as the "status" facet."""

    APPROVED = "approved", "Approved"
    IN_REVIEW = "in_review", "In review"
    VALIDATED = "validated", "Validated"
    VALIDATING = "validating", "Validating"
    DRAFT = "draft", "Draft"
    REJECTED = "rejected", "Rejected"
    INVALID = "invalid", "Invalid"
    DEPRECATED = "deprecated", "Deprecated"


class Tag(models.Model):
    name = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Asset(models.Model):
    kind = models.CharField(max_length=16, choices=AssetKind.choices)
    team = models.ForeignKey("registry.Team", on_delete=models.PROTECT, related_name="assets")
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
    # Tag names joined by spaces, copied here by the service that sets them, so a listing and search
    # never read the tag tables. On PostgreSQL, migration 0009 derives two generated columns from the row:
    # `tag_array` (text[], GIN-indexed: tag filters and facets) and `search_vector` (the weighted tsvector).
    tags_text = models.TextField(blank=True, editable=False)
    # Kept by the registry's version services, so listing the catalogue never reads the versions.
    latest_version = models.CharField(max_length=100, blank=True, editable=False)
    version_count = models.PositiveIntegerField(default=0, editable=False)
    # The release status (see ReleaseStatus), kept by the registry's version services; "" without versions.
    status = models.CharField(
        max_length=16, choices=ReleaseStatus.choices, blank=True, default="", db_default="", editable=False
    )
    # Live endpoints serving any of its versions, kept by the endpoint services: "most used" is a sort key.
    usage_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)

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
            models.Index(fields=["status"], name="asset_status_idx"),
            # Licence and framework filters ignore case: these are the expressions they compare.
            models.Index(Upper("license"), name="asset_license_upper_idx"),
            models.Index(Upper("framework"), name="asset_framework_upper_idx"),
            # One per ordering, ending with the primary key: keyset pages seek straight to their rows.
            models.Index(fields=["updated_at", "id"], name="asset_updated_id_idx"),
            models.Index(fields=["created_at", "id"], name="asset_created_id_idx"),
            models.Index(fields=["name", "slug", "id"], name="asset_name_slug_id_idx"),
            models.Index(fields=["usage_count", "updated_at", "id"], name="asset_usage_id_idx"),
        ]

    def __str__(self) -> str:
        return self.full_slug

    @property
    def tag_names(self) -> list[str]:
        """The tags, sorted, from the row itself (no query): `tags_text` is kept by the service that sets them."""
        return sorted(self.tags_text.split())

    @property
    def full_slug(self) -> str:
        """`team/slug`: the asset's name in URLs, unique across the catalogue."""
        return f"{self.team.slug}/{self.slug}"
