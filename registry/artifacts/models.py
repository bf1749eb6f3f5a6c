from django.db import models


class Blob(models.Model):
    """A stored object named by the SHA-256 of its content: identical content is stored once.

    A row exists only once the object has been written completely to artifact storage.
    """

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.sha256

    @property
    def storage_key(self) -> str:
        return blob_key(self.sha256)


def blob_key(sha256: str) -> str:
    return f"blobs/sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


class VersionFile(models.Model):
    """A file of a version at a relative path (a model's .onnx, its external data, a dataset)."""

    version = models.ForeignKey("registry.AssetVersion", on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=255)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="version_files")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["version_id", "-is_primary", "path"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "path"],
                name="version_file_unique_path",
                violation_error_message="A version cannot hold two files at the same path.",
            ),
        ]

    def __str__(self) -> str:
        return self.path
