"""Domain errors raised by services and selectors; the API layer maps each to a 4xx response.

The message is written for the person who sent the request: it says what is wrong and, where it
helps, what to do instead.
"""


class DomainError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class InvalidInput(DomainError):
    status_code = 400
    code = "invalid"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status_code = 403
    code = "permission_denied"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


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
