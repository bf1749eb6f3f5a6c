"""Content-addressed artifact storage on top of Django's `storages["artifacts"]`.

Slow I/O lives here and must never run inside a transaction or while a row is locked.
"""

import hashlib
import logging
import os
import secrets
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages
from django.db import IntegrityError

from registry.artifacts.models import Blob, blob_key
from registry.kernel.errors import TransientStorageError

logger = logging.getLogger(__name__)
CHUNK = 1024 * 1024


class AtomicFileSystemStorage(FileSystemStorage):
    """Local storage that publishes a file by rename, so a reader never sees half of it.

    Names are content addresses: a second write of the same name carries the same bytes, so it
    replaces the first instead of being renamed aside as FileSystemStorage would do.
    """

    def get_available_name(self, name, max_length=None):
        return name

    def _save(self, name, content):
        full_path = Path(self.path(name))
        full_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=full_path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                content.seek(0)
                shutil.copyfileobj(content, out, CHUNK)
            os.chmod(tmp, self.file_permissions_mode or 0o644)
            os.replace(tmp, full_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return name

    def save_by_link(self, name: str, local_path: Path) -> None:
        """Publish a local file by hard link, with no copy; falls back to a copy across file systems.

        Only for files nobody writes again (our own upload temp files): the blob shares their inode.
        """
        full_path = Path(self.path(name))
        full_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = full_path.parent / f".incoming-{secrets.token_hex(8)}"
        try:
            os.link(local_path, tmp)
        except OSError:
            with open(local_path, "rb") as fh:
                self.save(name, File(fh))
            return
        try:
            os.chmod(tmp, self.file_permissions_mode or 0o644)
            os.replace(tmp, full_path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


class BlobMissing(Exception):
    """A blob row exists but storage has no (or different) content for it."""


def artifact_storage():
    return storages["artifacts"]


def transient_storage_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError, ConnectionError, TimeoutError)


def _is_missing(exc: BaseException) -> bool:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code")) in {"404", "NoSuchKey", "NotFound"}


def _is_upload_temp_file(path: Path) -> bool:
    return Path(path).resolve().is_relative_to(Path(settings.FILE_UPLOAD_TEMP_DIR).resolve())


def blob_store(*, local_path: Path, sha256: str, size: int) -> Blob:
    """Store a local file under its content address and return its Blob row.

    Idempotent and safe under concurrency: identical content is uploaded at most once per row,
    and a row is only created after the object is completely written.
    """
    blob = Blob.objects.filter(sha256=sha256).first()
    if blob is not None:
        return blob
    storage = artifact_storage()
    try:
        if isinstance(storage, AtomicFileSystemStorage) and _is_upload_temp_file(local_path):
            storage.save_by_link(blob_key(sha256), local_path)
        else:
            with open(local_path, "rb") as fh:
                storage.save(blob_key(sha256), File(fh, name=os.path.basename(local_path)))
    except transient_storage_errors() as exc:
        logger.warning("storing blob %s failed: %s", sha256, exc)
        raise TransientStorageError(
            "Artifact storage is unavailable right now, so nothing was stored; try the upload again later."
        ) from exc
    return blob_record(sha256=sha256, size=size)


def blob_record(*, sha256: str, size: int) -> Blob:
    """The Blob row of an object already written completely to its content address."""
    try:
        blob, _ = Blob.objects.get_or_create(sha256=sha256, defaults={"size": size})
    except IntegrityError:
        blob = Blob.objects.get(sha256=sha256)
    return blob


def blob_materialize(blob: Blob, destination: Path) -> None:
    """Copy a blob to a local file, verifying its SHA-256 on the way (storage can rot)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    try:
        with artifact_storage().open(blob.storage_key, "rb") as src, open(destination, "wb") as out:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except FileNotFoundError as exc:
        raise BlobMissing(f"the stored file {blob.sha256[:12]}… is missing from artifact storage") from exc
    except transient_storage_errors() as exc:
        if _is_missing(exc):
            raise BlobMissing(f"the stored file {blob.sha256[:12]}… is missing from artifact storage") from exc
        raise TransientStorageError(f"artifact storage is unavailable: {exc}") from exc
    if digest.hexdigest() != blob.sha256:
        raise BlobMissing(f"the stored file {blob.sha256[:12]}… does not match its SHA-256 any more")


def blob_download_url(blob: Blob, *, filename: str, ttl: int) -> str | None:
    """A short-lived presigned URL when storage is S3; None for local storage (stream it instead)."""
    storage = artifact_storage()
    if not hasattr(storage, "bucket_name"):
        return None
    safe = filename.replace('"', "")
    return storage.url(
        blob.storage_key, parameters={"ResponseContentDisposition": f'attachment; filename="{safe}"'}, expire=ttl
    )


def blob_open(blob: Blob):
    return artifact_storage().open(blob.storage_key, "rb")


def blobs_collect_garbage(*, older_than, dry_run: bool = False) -> list[str]:
    """Delete blobs no version file refers to, created before `older_than`. Returns their digests.

    The age threshold keeps it clear of uploads in flight (a blob is stored before the version
    that uses it is committed). Each row is deleted by a conditional delete that re-checks it is
    still unreferenced, and its object is removed only after that.
    """
    # A blob a live upload session holds (made, not yet taken by a version) is not garbage yet.
    candidates = list(
        Blob.objects.filter(
            created_at__lt=older_than, version_files__isnull=True, upload_sessions__isnull=True
        ).values_list("pk", "sha256")
    )
    removed = []
    for pk, sha256 in candidates:
        if dry_run:
            removed.append(sha256)
            continue
        deleted, _ = Blob.objects.filter(pk=pk, version_files__isnull=True, upload_sessions__isnull=True).delete()
        if deleted:
            try:
                artifact_storage().delete(blob_key(sha256))
            except transient_storage_errors() as exc:
                logger.warning("blob %s: row deleted but object not removed: %s", sha256, exc)
            removed.append(sha256)
    return removed
