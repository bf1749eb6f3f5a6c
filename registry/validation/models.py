from django.db import models


class ValidationOutcome(models.TextChoices):
    PENDING = "pending", "Pending"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"


class ValidationReport(models.Model):
    """The result of checking a version's files, and the claim on the task doing it."""

    version = models.OneToOneField("registry.AssetVersion", on_delete=models.CASCADE, related_name="validation")
    outcome = models.CharField(max_length=16, choices=ValidationOutcome.choices, default=ValidationOutcome.PENDING)
    # Which check failed ("parse", "external_data", "checker", "runtime_session", ...).
    failed_check = models.CharField(max_length=32, blank=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # The Celery task currently holding the work; its lease ends at claimed_at + time limit.
    task_id = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"validation of {self.version_id}: {self.outcome}"


class DatasetProfile(models.Model):
    """The profile of every listed column of a validated dataset version, as registry.profiles dicts: the
    reference that drift monitoring compares an endpoint's traffic with.

    `columns` is [[name, profile], ...] in the file's order, a list because jsonb does not keep the order of an
    object's keys, and the order is what a feature map is inferred from."""

    version = models.OneToOneField("registry.AssetVersion", on_delete=models.CASCADE, related_name="dataset_profile")
    columns = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"profile of dataset version {self.version_id}"

    def profiles(self) -> dict[str, dict]:
        """{column: profile dict}, in the file's order."""
        return dict(self.columns)


class TrustedUpstreamKey(models.Model):
    """A public key the organisation trusts for signatures made upstream (a training pipeline signing its model
    with `model-signing`): a version carrying `model.sig` is valid only if one of these verifies it
    (registry/validation/upstream.py). Untrusting a key keeps its row, stamped, for the record."""

    key_id = models.CharField(max_length=64, unique=True, help_text="sha256 of the public key (DER), hex.")
    name = models.CharField(max_length=100)
    public_key_pem = models.TextField()
    added_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="When it stopped being trusted.")

    class Meta:
        ordering = ["added_at", "id"]

    def __str__(self) -> str:
        return f"upstream key {self.key_id[:16]} ({self.name})"
