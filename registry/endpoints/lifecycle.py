"""The endpoint lifecycle: the one table of allowed status transitions that every service and page asks, and
which versions an endpoint may serve."""

from registry.assets.models import AssetKind
from registry.endpoints.models import WORK_STATUSES, EndpointStatus
from registry.kernel.errors import Conflict, ErrorCode
from registry.kernel.lib.transitions import TransitionTable
from registry.versions.models import VersionStatus

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    EndpointStatus.PENDING: frozenset({EndpointStatus.PROVISIONING, EndpointStatus.FAILED, EndpointStatus.DELETING}),
    EndpointStatus.PROVISIONING: frozenset({EndpointStatus.READY, EndpointStatus.FAILED, EndpointStatus.DELETING}),
    EndpointStatus.READY: frozenset({EndpointStatus.UPDATING, EndpointStatus.DELETING}),
    EndpointStatus.FAILED: frozenset({EndpointStatus.UPDATING, EndpointStatus.DELETING}),
    # Updating again while updating retargets the endpoint; the task working on the old target drops its outcome.
    EndpointStatus.UPDATING: frozenset(
        {EndpointStatus.UPDATING, EndpointStatus.READY, EndpointStatus.FAILED, EndpointStatus.DELETING}
    ),
    # Failed when the runtime refuses to unload: delete again once it is fixed.
    EndpointStatus.DELETING: frozenset({EndpointStatus.DELETED, EndpointStatus.FAILED}),
    EndpointStatus.DELETED: frozenset(),
}

# What moves an endpoint into each status, for messages: a person updates or deletes; the worker does the rest.
_ACTIONS = {
    EndpointStatus.PROVISIONING: "provision",
    EndpointStatus.READY: "mark ready",
    EndpointStatus.FAILED: "mark failed",
    EndpointStatus.UPDATING: "update",
    EndpointStatus.DELETING: "delete",
    EndpointStatus.DELETED: "mark deleted",
}

# Nothing left for a worker to do: the page stops polling fast and forgets a key it showed once.
SETTLED_STATUSES = frozenset(EndpointStatus.values) - frozenset(WORK_STATUSES)

# Deleting or deleted: its keys are revoked, and it takes no new key, no call and no alias move.
GONE_STATUSES = frozenset({EndpointStatus.DELETING, EndpointStatus.DELETED})

# An endpoint serves approved versions of models (a solution deploys the models it uses), never datasets.
DEPLOYABLE_VERSION_STATUSES = frozenset({VersionStatus.APPROVED})
DEPLOYABLE_KINDS = frozenset({AssetKind.MODEL, AssetKind.SOLUTION})
# A shadow's candidate is a model release not serving yet: checked, possibly in review or approved, not rejected or
# retired (registry.endpoints.services.shadows).
SHADOWABLE_VERSION_STATUSES = (VersionStatus.VALIDATED, VersionStatus.IN_REVIEW, VersionStatus.APPROVED)


TABLE = TransitionTable(allowed=ALLOWED_TRANSITIONS, actions=_ACTIONS)
can_transition = TABLE.can
allowed_actions = TABLE.allowed_actions


def require_transition(endpoint, target: str) -> None:
    """Raise Conflict (409) unless `endpoint` may move to `target`; the message names what is allowed."""
    TABLE.require(endpoint.status, target, subject=f"Endpoint '{endpoint.name}'", label=endpoint.status)


def is_settled(status: str) -> bool:
    return status in SETTLED_STATUSES


def can_deploy(version_status: str, asset_kind: str) -> bool:
    """Whether an endpoint may serve a version in `version_status` of an asset of `asset_kind` (a deploy also
    verifies the version's approval signature against its files, which this does not)."""
    return version_status in DEPLOYABLE_VERSION_STATUSES and asset_kind in DEPLOYABLE_KINDS


def require_deployable_status(version) -> None:
    """Raise Conflict (409) unless `version`'s status is one an endpoint may serve; the message names those."""
    if version.status in DEPLOYABLE_VERSION_STATUSES:
        return
    allowed = " or ".join(sorted(VersionStatus(s).label.lower() for s in DEPLOYABLE_VERSION_STATUSES))
    raise Conflict(
        f"Only {allowed} versions can be deployed; {version.asset.full_slug} {version.version} is "
        f"{VersionStatus(version.status).label.lower()}.",
        code=ErrorCode.NOT_APPROVED,
    )
