"""The version lifecycle: the one table of allowed status transitions that every service asks."""

from registry.kernel.errors import Conflict, ErrorCode
from registry.versions.models import VersionStatus as S

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.VALIDATING}),
    S.VALIDATING: frozenset({S.VALIDATED, S.INVALID}),
    S.VALIDATED: frozenset({S.IN_REVIEW, S.DEPRECATED, S.VALIDATING}),
    S.INVALID: frozenset({S.VALIDATING}),
    # Back to validated when a reviewer asks for changes.
    S.IN_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.VALIDATED}),
    S.APPROVED: frozenset({S.DEPRECATED}),
    S.REJECTED: frozenset({S.IN_REVIEW, S.DEPRECATED}),
    S.DEPRECATED: frozenset(),
}

# What a person does to move a version into each status, for messages.
_ACTIONS = {
    S.VALIDATING: "validate",
    S.VALIDATED: "request changes",
    S.INVALID: "fail validation",
    S.IN_REVIEW: "submit",
    S.APPROVED: "approve",
    S.REJECTED: "reject",
    S.DEPRECATED: "deprecate",
}


def can_transition(current: str, target: str) -> bool:
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())


def require_transition(version, target: str) -> None:
    """Raise Conflict (409) unless `version` may move to `target`; the message names what is allowed."""
    current = version.status
    if can_transition(current, target):
        return
    label = S(current).label.lower()
    allowed = ", ".join(sorted(_ACTIONS[t] for t in ALLOWED_TRANSITIONS.get(current, frozenset()))) or "nothing"
    raise Conflict(
        f"Version {version.version} is {label}: '{_ACTIONS[target]}' is not allowed (allowed when {label}: {allowed}).",
        code=ErrorCode.ILLEGAL_TRANSITION,
    )
