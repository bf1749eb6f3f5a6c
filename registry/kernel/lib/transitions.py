"""A state machine as data: the one table of allowed status transitions that every service and page asks, and
the refusal that names what the current status allows instead."""

from collections.abc import Mapping
from dataclasses import dataclass

from registry.kernel.errors import Conflict, ErrorCode


@dataclass(frozen=True)
class TransitionTable:
    """`allowed` maps each status to the statuses it may move to; `actions` names, for messages, what moves an
    object into each status ("submit", "deprecate")."""

    allowed: Mapping[str, frozenset[str]]
    actions: Mapping[str, str]

    def can(self, current: str, target: str) -> bool:
        return target in self.allowed.get(current, frozenset())

    def allowed_actions(self, current: str) -> str:
        """What `current` allows, for messages: 'deprecate, submit', or 'nothing'."""
        return ", ".join(sorted(self.actions[status] for status in self.allowed.get(current, frozenset()))) or "nothing"

    def allowed_clause(self, current: str, label: str) -> str:
        """'(allowed when approved: deprecate)': the end of a refusal, so that it says what can be done instead."""
        return f"(allowed when {label}: {self.allowed_actions(current)})"

    def require(self, current: str, target: str, *, subject: str, label: str) -> None:
        """Raise Conflict (409) unless `current` may move to `target`; `subject` ("Version 1.0.0") and `label` (the
        current status as a person reads it) make the message, which names what is allowed."""
        if not self.can(current, target):
            raise Conflict(
                f"{subject} is {label}: '{self.actions[target]}' is not allowed {self.allowed_clause(current, label)}.",
                code=ErrorCode.ILLEGAL_TRANSITION,
            )
