"""Registry domain errors (versions, artifacts, validation); all map to 4xx responses."""

from marketplace.errors import Conflict, DomainError, InvalidInput, NotFound, PayloadTooLarge, PermissionDenied

__all__ = ["ChecksumMismatch", "Conflict", "DomainError", "DuplicateVersion", "InvalidInput", "NotFound",
           "PayloadTooLarge", "PermissionDenied", "TransientStorageError", "UnsupportedUpload"]


class DuplicateVersion(Conflict):
    code = "duplicate_version"


class ChecksumMismatch(InvalidInput):
    code = "checksum_mismatch"


class UnsupportedUpload(InvalidInput):
    code = "unsupported_upload"


class TransientStorageError(DomainError):
    """Artifact storage could not be reached; the operation may succeed when retried."""

    status_code = 503
    code = "storage_unavailable"
