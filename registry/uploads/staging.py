"""Where a session's parts wait until they are one verified blob: a file on local disk, or an S3 multipart upload.

Slow I/O lives here and must never run inside a transaction or while a row is locked.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from registry.artifacts.models import Blob, blob_key
from registry.artifacts.storage import artifact_storage, blob_record, blob_store, transient_storage_errors
from registry.kernel.errors import InvalidInput, TransientStorageError
from registry.uploads.models import UploadBackend, UploadSession

logger = logging.getLogger(__name__)
CHUNK = 1024 * 1024


class Mismatch(Exception):
    """The assembled file is not what the client said it is (its SHA-256 or its size), or it is gone:
    `staged_gone` when an earlier run of the same verification stored it and removed the staged copy."""

    def __init__(self, message: str, *, staged_gone: bool = False):
        super().__init__(message)
        self.staged_gone = staged_gone


def backend_in_use() -> str:
    return UploadBackend.S3 if hasattr(artifact_storage(), "bucket_name") else UploadBackend.LOCAL


def staging_for(session: UploadSession) -> LocalStaging | S3Staging:
    return S3Staging() if session.backend == UploadBackend.S3 else LocalStaging()


def _unavailable(exc: BaseException) -> TransientStorageError:
    return TransientStorageError(f"Artifact storage is unavailable right now ({exc}); try again later.")


class LocalStaging:
    """One sparse file of the declared size under FILE_UPLOAD_TEMP_DIR; a part is written at its offset.

    Writers hold a shared flock on the file while they write, the verification an exclusive one: a part
    still being written when the session completes is finished before the file is hashed, and a writer that
    gets its lock after verification finds the session no longer open (it re-reads it under the lock).
    """

    @staticmethod
    def path(session: UploadSession) -> Path:
        return Path(settings.FILE_UPLOAD_TEMP_DIR) / "sessions" / f"{session.pk}.part"

    def create(self, session: UploadSession) -> None:
        path = self.path(session)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.truncate(session.size)

    @contextmanager
    def writing(self, session: UploadSession):
        """An open file to write parts into, under a shared lock; FileNotFoundError once it is gone."""
        with open(self.path(session), "r+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_SH)
            yield fh

    @staticmethod
    def write_part(fh, offset: int, length: int, stream) -> None:
        """Copy exactly `length` bytes of `stream` to `offset`; InvalidInput if the stream ends sooner."""
        fh.seek(offset)
        left = length
        while left:
            chunk = stream.read(min(CHUNK, left))
            if not chunk:
                raise InvalidInput(
                    f"The part ended after {length - left:,} of its {length:,} bytes; send it again.", field="part"
                )
            fh.write(chunk)
            left -= len(chunk)

    def store(self, session: UploadSession, sha256: str) -> Blob:
        """Hash the assembled file; if it is `sha256`, publish it as a blob (a hard link, no copy)."""
        path = self.path(session)
        try:
            fh = open(path, "rb")
        except FileNotFoundError:
            raise Mismatch("The staged file is gone.", staged_gone=True) from None
        with fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
            if digest != sha256:
                raise Mismatch(f"The assembled file's SHA-256 is {digest}, not {sha256}.")
            blob = blob_store(local_path=path, sha256=sha256, size=session.size)
            path.unlink(missing_ok=True)
        return blob

    def discard(self, session: UploadSession) -> None:
        self.path(session).unlink(missing_ok=True)


class S3Staging:
    """An S3 multipart upload at `uploads/<session id>` beside the blobs; the client sends the parts itself."""

    def __init__(self):
        storage = artifact_storage()
        self.client = storage.connection.meta.client
        self.bucket = storage.bucket_name
        self._storage = storage

    def key(self, session: UploadSession) -> str:
        return self._storage._normalize_name(f"uploads/{session.pk}")

    def create(self, session: UploadSession) -> None:
        try:
            created = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key(session), ContentType="application/octet-stream"
            )
        except transient_storage_errors() as exc:
            raise _unavailable(exc) from exc
        session.s3_upload_id = created["UploadId"]

    def part_url(self, session: UploadSession, number: int) -> str:
        return self.client.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": self.bucket,
                "Key": self.key(session),
                "UploadId": session.s3_upload_id,
                "PartNumber": number,
            },
            ExpiresIn=settings.MODELHUB_UPLOAD_PART_URL_TTL,
        )

    def received(self, session: UploadSession) -> dict[int, dict]:
        """{part number: {"size", "etag"}} of the parts S3 holds for the session."""
        parts, marker = {}, 0
        try:
            while True:
                page = self.client.list_parts(
                    Bucket=self.bucket,
                    Key=self.key(session),
                    UploadId=session.s3_upload_id,
                    PartNumberMarker=marker,
                    MaxParts=1000,
                )
                for part in page.get("Parts", []):
                    parts[part["PartNumber"]] = {"size": part["Size"], "etag": part["ETag"]}
                if not page.get("IsTruncated"):
                    return parts
                marker = page["NextPartNumberMarker"]
        except transient_storage_errors() as exc:
            if _error_code(exc) == "NoSuchUpload":
                return {}
            raise _unavailable(exc) from exc

    def store(self, session: UploadSession, sha256: str) -> Blob:
        """Complete the multipart upload (if not done yet), hash the object, copy it to its blob key if new."""
        key = self.key(session)
        try:
            parts = self.received(session)
            if parts:
                self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=session.s3_upload_id,
                    MultipartUpload={"Parts": [{"PartNumber": n, "ETag": parts[n]["etag"]} for n in sorted(parts)]},
                )
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            except transient_storage_errors() as exc:
                if _error_code(exc) in {"NoSuchKey", "404"}:
                    raise Mismatch("The staged object is gone.", staged_gone=True) from None
                raise
            digest, size = hashlib.sha256(), 0
            for chunk in body.iter_chunks(CHUNK):
                digest.update(chunk)
                size += len(chunk)
            if size != session.size:
                raise Mismatch(f"The assembled file holds {size:,} bytes, not the {session.size:,} declared.")
            if digest.hexdigest() != sha256:
                raise Mismatch(f"The assembled file's SHA-256 is {digest.hexdigest()}, not {sha256}.")
            if not Blob.objects.filter(sha256=sha256).exists():
                target = self._storage._normalize_name(blob_key(sha256))
                self.client.copy({"Bucket": self.bucket, "Key": key}, self.bucket, target)
            blob = blob_record(sha256=sha256, size=size)
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except transient_storage_errors() as exc:
            raise _unavailable(exc) from exc
        return blob

    def discard(self, session: UploadSession) -> None:
        try:
            if session.s3_upload_id:
                try:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=self.key(session), UploadId=session.s3_upload_id
                    )
                except transient_storage_errors() as exc:
                    if _error_code(exc) != "NoSuchUpload":
                        raise
            self.client.delete_object(Bucket=self.bucket, Key=self.key(session))
        except transient_storage_errors() as exc:
            raise _unavailable(exc) from exc


def _error_code(exc: BaseException) -> str:
    return str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))
