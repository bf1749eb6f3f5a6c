"""The version lifecycle: the one table of allowed status transitions that every service asks."""

from registry.kernel.errors import Conflict, ErrorCode
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


def allowed_actions(current: str) -> str:
    """What a version in `current` allows, for messages: 'deprecate, submit', or 'nothing'."""
    return ", ".join(sorted(_ACTIONS[status] for status in ALLOWED_TRANSITIONS.get(current, frozenset()))) or "nothing"


def allowed_clause(current: str) -> str:
    """'(allowed when approved: deprecate)': the end of a refusal, so that it says what can be done instead."""
    return f"(allowed when {VersionStatus(current).label.lower()}: {allowed_actions(current)})"


def require_transition(version, target: str) -> None:
    """Raise Conflict (409) unless `version` may move to `target`; the message names what is allowed."""
    current = version.status
    if can_transition(current, target):
        return
    raise Conflict(
        f"Version {version.version} is {VersionStatus(current).label.lower()}: '{_ACTIONS[target]}' is not allowed "
        f"{allowed_clause(current)}.",
        code=ErrorCode.ILLEGAL_TRANSITION,
    )
