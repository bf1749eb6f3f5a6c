"""Release governance: review policies, review rounds and their reviews, and aliases."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce

from registry.kernel.lib.slugs import slug_validator


class ReviewPolicy(models.Model):
    """The rules a version's release review runs under: one default (no team) plus per-team overrides.

    A round copies the policy when it opens (ReviewRound), so editing a policy never changes the
    rules of a review already under way.
    """

    team = models.OneToOneField(
        "registry.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="review_policy",
        help_text="Empty: the default policy for every team.",
    )
    approvals_required = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    reviewer_groups = models.ManyToManyField(
        "auth.Group",
        blank=True,
        related_name="+",
        help_text="Members of these groups may review. With none, only superusers may review.",
    )
    forbid_owning_team = models.BooleanField(
        default=True, help_text="Members of the team that owns the asset may not review its versions."
    )
    min_card_completeness = models.PositiveSmallIntegerField(
        default=50,
        validators=[MaxValueValidator(100)],
        help_text="Least model-card completeness (0-100) a version needs to be submitted.",
    )
    protected_aliases = models.JSONField(
        default=list, blank=True, help_text='Aliases only reviewers may move, e.g. ["production"].'
    )
    deployable_aliases = models.JSONField(
        default=list,
        blank=True,
        help_text='Aliases that may point only at deployable (ONNX) versions, e.g. ["production"]: a safetensors or '
        "pickle version is catalogued, never served.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "review policies"
        constraints = [
            # COALESCE makes the NULL team (the default policy) count as one value, on every database.
            models.UniqueConstraint(
                Coalesce("team", Value(0)),
                name="one_review_policy_per_team",
                violation_error_message="This team (or the default) already has a review policy.",
            ),
            models.CheckConstraint(
                condition=Q(approvals_required__gte=1),
                name="review_policy_approvals_positive",
                violation_error_message="At least one approval is required.",
            ),
        ]

    def __str__(self) -> str:
        return f"review policy of {self.team.slug}" if self.team_id else "default review policy"


class RoundStatus(models.TextChoices):
    OPEN = "open", "Open"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"


class ReviewRound(models.Model):
    """One submission of a version for release; re-submitting opens the next round."""

    version = models.ForeignKey("registry.AssetVersion", on_delete=models.CASCADE, related_name="review_rounds")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=24, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The policy as it was when the round opened.
    policy = models.ForeignKey(ReviewPolicy, on_delete=models.SET_NULL, null=True, related_name="+")
    approvals_required = models.PositiveSmallIntegerField()
    reviewer_groups = models.ManyToManyField("auth.Group", blank=True, related_name="+")
    forbid_owning_team = models.BooleanField()
    # Stamped when a signing task starts on an approved round and renewed by its heartbeat while it signs: a stamp
    # older than MODELHUB_CLAIM_LEASE is a lost worker's, and the recovery sweep sends the signing again.
    signing_claimed_at = models.DateTimeField(null=True, blank=True)
    # When the approved round's signature was recorded: the sweep reads only approved rounds without it.
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["version_id", "number"]
        indexes = [
            models.Index(
                fields=["signing_claimed_at"],
                condition=Q(status="approved", signed_at__isnull=True),
                name="review_round_unsigned_idx",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "number"],
                name="review_round_number_unique",
                violation_error_message="This review round already exists.",
            ),
            models.UniqueConstraint(
                fields=["version"],
                condition=Q(status="open"),
                name="one_open_round_per_version",
                violation_error_message="This version is already in review.",
            ),
        ]

    def __str__(self) -> str:
        return f"review round {self.number} of version {self.version_id}"


class ReviewDecision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    REQUEST_CHANGES = "request_changes", "Request changes"


class Review(models.Model):
    round = models.ForeignKey(ReviewRound, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=16, choices=ReviewDecision.choices)
    comment = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["round_id", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "reviewer"],
                name="one_review_per_reviewer_and_round",
                violation_error_message="You have already reviewed this round.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision} by {self.reviewer_id} in round {self.round_id}"


class Alias(models.Model):
    """A movable, named pointer from an asset to one of its approved versions (`production`, `champion`)."""

    asset = models.ForeignKey("registry.Asset", on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=64, validators=[slug_validator])
    version = models.ForeignKey("registry.AssetVersion", on_delete=models.PROTECT, related_name="aliases")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["asset_id", "name"]
        verbose_name_plural = "aliases"
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "name"],
                name="alias_name_unique_per_asset",
                violation_error_message="The asset already has an alias of this name.",
            ),
        ]

    def __str__(self) -> str:
        return f"@{self.name}"


class VersionSignature(models.Model):
    """The organisation's signature over an approved version's files and approval record (see signing.py)."""

    version = models.OneToOneField("registry.AssetVersion", on_delete=models.CASCADE, related_name="signature_record")
    # The Sigstore bundle (JSON text) exactly as model_signing wrote it.
    bundle = models.TextField()
    # modelhub-approval.json exactly as signed.
    approval = models.TextField()
    key_id = models.CharField(max_length=64, help_text="sha256 of the signing public key (DER).")
    signed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"signature of version {self.version_id}"


class SigningKeyStatus(models.TextChoices):
    PENDING = "pending", "Pending (added, signs nothing yet)"
    ACTIVE = "active", "Active (signs new approvals)"
    RETIRED = "retired", "Retired (still verifies what it signed)"
    REVOKED = "revoked", "Revoked (its signatures no longer verify)"


class SigningKey(models.Model):
    """A key of the organisation's keyring: the public half, and where it stands (registry/governance/keys.py).

    The private half never reaches the database: it lives in the key store (registry/governance/keystore.py).
    Exactly one key is active at a time and signs new approvals; a signature names its key (`VersionSignature.key_id`)
    and is verified with that key for as long as it is not revoked."""

    key_id = models.CharField(max_length=64, unique=True, help_text="sha256 of the public key (DER), hex.")
    name = models.CharField(max_length=100)
    public_key_pem = models.TextField()
    status = models.CharField(max_length=16, choices=SigningKeyStatus.choices, default=SigningKeyStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True, help_text="When it last became the active key.")
    retired_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="active"),
                name="one_active_signing_key",
                violation_error_message="Another signing key is active; activating this one retires it.",
            ),
            models.CheckConstraint(
                condition=~Q(status="revoked") | (Q(revoked_at__isnull=False) & ~Q(revoked_reason="")),
                name="signing_key_revoked_with_reason",
                violation_error_message="A revoked signing key records when and why it was revoked.",
            ),
        ]

    def __str__(self) -> str:
        return f"signing key {self.key_id[:16]} ({self.name})"
