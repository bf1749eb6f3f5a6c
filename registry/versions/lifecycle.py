"""The version lifecycle: the one table of allowed status transitions that every service asks."""

from registry.kernel.errors import Conflict
from registry.versions.models import VersionStatus

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    VersionStatus.DRAFT: frozenset({VersionStatus.VALIDATING}),
    VersionStatus.VALIDATING: frozenset({VersionStatus.VALIDATED, VersionStatus.INVALID}),
    VersionStatus.VALIDATED: frozenset({VersionStatus.IN_REVIEW, VersionStatus.DEPRECATED, VersionStatus.VALIDATING}),
    VersionStatus.INVALID: frozenset({VersionStatus.VALIDATING}),
    # Back to validated when a reviewer asks for changes.
    VersionStatus.IN_REVIEW: frozenset({VersionStatus.APPROVED, VersionStatus.REJECTED, VersionStatus.VALIDATED}),
    VersionStatus.APPROVED: frozenset({VersionStatus.DEPRECATED}),
    VersionStatus.REJECTED: frozenset({VersionStatus.IN_REVIEW, VersionStatus.DEPRECATED}),
    VersionStatus.DEPRECATED: frozenset(),
}

# What a person does to move a version into each status, for messages.
_ACTIONS = {
    VersionStatus.VALIDATING: "validate",
    VersionStatus.VALIDATED: "request changes",
    VersionStatus.INVALID: "fail validation",
    VersionStatus.IN_REVIEW: "submit",
    VersionStatus.APPROVED: "approve",
    VersionStatus.REJECTED: "reject",
    VersionStatus.DEPRECATED: "deprecate",
}


def can_transition(current: str, target: str) -> bool:
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())


def require_transition(version, target: str) -> None:
    """Raise Conflict (409) unless `version` may move to `target`; the message names what is allowed."""
    current = version.status
    if can_transition(current, target):
        return
    label = VersionStatus(current).label.lower()
    allowed = (
        ", ".join(sorted(_ACTIONS[allowed] for allowed in ALLOWED_TRANSITIONS.get(current, frozenset()))) or "nothing"
    )
    raise Conflict(
        f"Version {version.version} is {label}: '{_ACTIONS[target]}' is not allowed (allowed when {label}: {allowed}).",
        code="illegal_transition",
    )
