"""The version lifecycle: the one table of allowed status transitions that every service asks."""

from registry.versions.models import VersionStatus as S

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.VALIDATING}),
    S.VALIDATING: frozenset({S.VALIDATED, S.INVALID}),
    S.VALIDATED: frozenset({S.IN_REVIEW, S.DEPRECATED, S.VALIDATING}),
    S.INVALID: frozenset({S.VALIDATING}),
    S.IN_REVIEW: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.DEPRECATED}),
    S.REJECTED: frozenset({S.IN_REVIEW, S.DEPRECATED}),
    S.DEPRECATED: frozenset(),
}


def can_transition(current: str, target: str) -> bool:
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())
