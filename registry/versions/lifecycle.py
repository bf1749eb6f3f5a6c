"""The version lifecycle: the one table of allowed status transitions that every service asks."""

from registry.kernel.lib.transitions import TransitionTable
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


TABLE = TransitionTable(allowed=ALLOWED_TRANSITIONS, actions=_ACTIONS)
can_transition = TABLE.can
allowed_actions = TABLE.allowed_actions


def allowed_clause(current: str) -> str:
    """'(allowed when approved: deprecate)': the end of a refusal, so that it says what can be done instead."""
    return TABLE.allowed_clause(current, VersionStatus(current).label.lower())


def require_transition(version, target: str) -> None:
    """Raise Conflict (409) unless `version` may move to `target`; the message names what is allowed."""
    TABLE.require(
        version.status, target, subject=f"Version {version.version}", label=VersionStatus(version.status).label.lower()
    )
