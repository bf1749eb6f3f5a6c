"""Domain errors raised by services and selectors; the API layer maps each to a 4xx response.

The message is written for the person who sent the request: it says what is wrong and, where it
helps, what to do instead. The code is for the program that sent it: one of ErrorCode, which the API
documents as an enum (clients branch on these values, so a value never changes once published).
"""

from django.db import models


class ErrorCode(models.TextChoices):
    """Every `code` an API error response can carry: the domain errors' and the API layer's own."""

    # Input
    INVALID = "invalid", "The input is invalid; `detail` says what to change"
    PARSE_ERROR = "parse_error", "The request body could not be parsed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", "The request body's Content-Type is not accepted here"
    PAYLOAD_TOO_LARGE = "payload_too_large", "The request body is over the size limit"
    CHECKSUM_MISMATCH = "checksum_mismatch", "The upload does not match the checksum sent with it"
    UNSUPPORTED_UPLOAD = "unsupported_upload", "The uploaded file is not of a kind this asset takes"
    # Who is asking
    NOT_AUTHENTICATED = "not_authenticated", "No credentials were sent"
    AUTHENTICATION_FAILED = "authentication_failed", "The credentials are malformed, invalid or revoked"
    PERMISSION_DENIED = "permission_denied", "Signed in, but not allowed to do this"
    INSUFFICIENT_SCOPE = "insufficient_scope", "The token lacks the scope this needs (the detail names it)"
    TOKEN_EXPIRED = "token_expired", "The token has expired; create a new one"
    THROTTLED = "throttled", "Too many requests; wait the Retry-After seconds"
    # What is asked for
    NOT_FOUND = "not_found", "Not found, or not visible to you"
    METHOD_NOT_ALLOWED = "method_not_allowed", "This path does not take this HTTP method"
    # The current state
    CONFLICT = "conflict", "Conflicts with the current state"
    DUPLICATE_VERSION = "duplicate_version", "The asset already has this version"
    ILLEGAL_TRANSITION = "illegal_transition", "The object's status does not allow this action now"
    NOT_IN_REVIEW = "not_in_review", "The version has no open review round"
    NOT_APPROVED = "not_approved", "The version is not approved"
    NOT_DEPLOYABLE = "not_deployable", "The version is catalogued but not served (only ONNX models are)"
    ALIASED = "aliased", "An alias points at the version"
    CARD_FROZEN = "card_frozen", "The version's card can no longer change"
    SIGNATURE_INVALID = "signature_invalid", "The version's signature does not verify"
    LINEAGE_CYCLE = "lineage_cycle", "The lineage edge would make a cycle"
    DUPLICATE_LINEAGE = "duplicate_lineage", "The lineage edge exists already"
    NAME_TAKEN = "name_taken", "The name is taken"
    DEPLOYED = "deployed", "Endpoints serve it; delete them first"
    DELETED = "deleted", "It is being deleted"
    TEAM_LIMIT = "team_limit", "The team is at a limit the organisation set (the detail names it and what frees it)"
    # The service
    STORAGE_UNAVAILABLE = "storage_unavailable", "Artifact storage is unavailable; retry later"
    DATABASE_UNAVAILABLE = "database_unavailable", "The database is unavailable (restarting?); retry in a few seconds"
    IDENTITY_PROVIDER_UNAVAILABLE = (
        "identity_provider_unavailable",
        "The identity provider's metadata or keys cannot be fetched; retry later",
    )
    TIMEOUT = "timeout", "The request took too long and was stopped"
    SERVER_ERROR = "server_error", "Internal error; it has been logged"
    ERROR = "error", "Another error of the API layer"


class DomainError(Exception):
    status_code = 400
    code = ErrorCode.INVALID

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.code = ErrorCode(cls.code)  # a ValueError at import for a code the API does not document

    def __init__(self, message: str, *, field: str | None = None, code: ErrorCode | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = ErrorCode(code)


class InvalidInput(DomainError):
    status_code = 400
    code = ErrorCode.INVALID


class NotFound(DomainError):
    status_code = 404
    code = ErrorCode.NOT_FOUND


class PermissionDenied(DomainError):
    status_code = 403
    code = ErrorCode.PERMISSION_DENIED


class Conflict(DomainError):
    status_code = 409
    code = ErrorCode.CONFLICT


class TeamLimitReached(Conflict):
    """A team is at one of the organisation's bounds (open upload sessions, their bytes, live endpoints)."""

    code = ErrorCode.TEAM_LIMIT


class PayloadTooLarge(DomainError):
    status_code = 413
    code = ErrorCode.PAYLOAD_TOO_LARGE


class DuplicateVersion(Conflict):
    code = ErrorCode.DUPLICATE_VERSION


class ChecksumMismatch(InvalidInput):
    code = ErrorCode.CHECKSUM_MISMATCH


class UnsupportedUpload(InvalidInput):
    code = ErrorCode.UNSUPPORTED_UPLOAD


class TransientStorageError(DomainError):
    """Artifact storage could not be reached; the operation may succeed when retried."""

    status_code = 503
    code = ErrorCode.STORAGE_UNAVAILABLE
