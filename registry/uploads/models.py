import uuid

from django.conf import settings
from django.db import models


class UploadStatus(models.TextChoices):
    OPEN = "open", "Open: parts are being sent"
    VERIFYING = "verifying", "Verifying: parts assembled, SHA-256 being checked"
    COMPLETE = "complete", "Complete: stored as a blob, ready to become a version file"
    FAILED = "failed", "Failed: the assembled file did not match; nothing was stored"


class UploadBackend(models.TextChoices):
    LOCAL = "local", "Parts streamed through the API to a file on local storage"
    S3 = "s3", "An S3 multipart upload: parts sent straight to the bucket with presigned URLs"


class UploadSession(models.Model):
    """One file of a declared size sent in fixed-size parts, in any order, as often as needed.

    Its bytes become a blob only after they are assembled and match the SHA-256 given at completion; a
    version can then take the blob as one of its files. Sessions not used by `expires_at` are deleted
    with everything they staged.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    asset = models.ForeignKey("registry.Asset", on_delete=models.CASCADE, related_name="upload_sessions")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    part_size = models.PositiveBigIntegerField()
    backend = models.CharField(max_length=8, choices=UploadBackend.choices)
    s3_upload_id = models.CharField(max_length=1024, blank=True)
    status = models.CharField(max_length=16, choices=UploadStatus.choices, default=UploadStatus.OPEN)
    sha256 = models.CharField(max_length=64, blank=True, help_text="Given at completion.")
    error = models.TextField(blank=True)
    blob = models.ForeignKey(
        "registry.Blob", on_delete=models.PROTECT, null=True, blank=True, related_name="upload_sessions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"

    @property
    def part_count(self) -> int:
        return max(1, -(-self.size // self.part_size))

    def part_range(self, number: int) -> tuple[int, int]:
        """(offset, size) of part `number` (1-based)."""
        offset = (number - 1) * self.part_size
        return offset, min(self.part_size, self.size - offset)


class UploadPart(models.Model):
    """A part received through the API (local backend; S3 keeps its own list of parts)."""

    session = models.ForeignKey(UploadSession, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    size = models.PositiveBigIntegerField()
    received_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session_id", "number"]
        constraints = [models.UniqueConstraint(fields=["session", "number"], name="upload_part_unique_number")]

    def __str__(self) -> str:
        return f"part {self.number}"
