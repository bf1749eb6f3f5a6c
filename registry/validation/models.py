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
