"""Shadow evaluation: an endpoint mirrors its live traffic to a candidate version, whose answers nobody sees.

A team starts a shadow of a validated, in-review or approved version of the endpoint's own asset whose inputs
take what the live version takes (`shadow_start`); `shadow_stop` ends it, and so do deleting the endpoint,
updating it to the candidate (it is live now), and rejecting or deprecating the candidate (subscribers). Each
writes rows only, audited, and sends the shadow task on commit. The task (`endpoint_shadow_sync`) makes the
runtime match the rows: it loads the endpoint's active shadow (`<endpoint>.shadow`, `shadow_of` the endpoint),
checks it answers as validated, or unloads it; it reads what the rows want again after acting, so two tasks
racing on one endpoint leave the runtime as the last request asked. The runtime records the shadow's windows
(registry.monitoring: ShadowWindow), which the review page shows as evidence from live traffic.
"""

from __future__ import annotations

import logging
import shutil
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from registry.artifacts.storage import BlobMissing
from registry.assets.models import AssetKind
from registry.endpoints.backends import DeployRefused, backend_for, shadows_supported
from registry.endpoints.conformance import ConformanceFailure, conformance_check
from registry.endpoints.lifecycle import SHADOWABLE_VERSION_STATUSES
from registry.endpoints.models import (
    SHADOW_ACTIVE_STATUSES,
    SHADOW_WORK_STATUSES,
    Endpoint,
    EndpointKey,
    EndpointShadow,
    EndpointStatus,
    ShadowStatus,
    shadow_runtime_name,
)
from registry.endpoints.services.keys import conformance_key_new
from registry.endpoints.services.provisioning import (
    endpoint_files_dir,
    endpoint_files_materialize,
    version_expected_outputs,
)
from registry.examples.selectors import input_example_v2_inputs
from registry.kernel.access import Permission, require
from registry.kernel.audit.services import audit_record
from registry.kernel.errors import Conflict, ErrorCode, InvalidInput, NotFound
from registry.kernel.events import DomainEvent, Event, publish
from registry.kernel.lib.tasks import task_send, task_send_on_commit
from registry.versions.models import AssetVersion, VersionStatus
from registry.versions.selectors import version_get

logger = logging.getLogger(__name__)

# Registered under this name by registry.endpoints.tasks; services send it by name, never import it.
SHADOW_TASK = "registry.endpoints.tasks.endpoint_shadow_task"
# The candidate's statuses that end its shadows: a reviewer said no, or its owners retired it.
ENDING_STATUSES = {Event.VERSION_REJECTED: "it was rejected", Event.VERSION_DEPRECATED: "it was deprecated"}
# How long the shadow task may leave a shadow loading or stopping before the recovery sweep sends it again.
SHADOW_GRACE = timedelta(minutes=2)
# Passes of one task over what the rows want before it leaves the rest to a task of its own.
SYNC_PASSES = 3
_NOTHING_YET = object()


def _signature_fits(live: dict, candidate: dict) -> str:
    """Why the candidate cannot take the live version's requests ('' when it can): every input it needs, with the
    same type, rank and fixed sizes."""
    given = {t.get("name"): t for t in (live or {}).get("inputs") or []}
    for tensor in (candidate or {}).get("inputs") or []:
        name, mine = tensor.get("name"), tensor
        theirs = given.get(name)
        if theirs is None:
            return f"it needs the input '{name}', which the live version's requests do not carry"
        if mine.get("dtype") != theirs.get("dtype"):
            return f"its input '{name}' is {mine.get('dtype')}, the live version's is {theirs.get('dtype')}"
        a, b = mine.get("shape") or [], theirs.get("shape") or []
        if len(a) != len(b) or any(isinstance(x, int) and isinstance(y, int) and x != y for x, y in zip(a, b)):
            return f"its input '{name}' has the shape {a}, the live version's has {b}"
    return ""


def _check_candidate(endpoint: Endpoint, candidate: AssetVersion) -> None:
    live = endpoint.version
    if candidate.asset.kind != AssetKind.MODEL:
        raise InvalidInput("Only a model version can shadow an endpoint.", field="version")
    if candidate.pk == live.pk:
        raise Conflict(
            f"Endpoint '{endpoint.name}' serves {candidate.version} already; shadow another version.",
            code=ErrorCode.CONFLICT,
            field="version",
        )
    if candidate.status not in SHADOWABLE_VERSION_STATUSES:
        allowed = ", ".join(VersionStatus(s).label.lower() for s in SHADOWABLE_VERSION_STATUSES)
        raise Conflict(
            f"Only {allowed} versions can shadow an endpoint; {candidate.version} is "
            f"{VersionStatus(candidate.status).label.lower()}.",
            code=ErrorCode.ILLEGAL_TRANSITION,
            field="version",
        )
    if not candidate.signature:
        raise Conflict(f"{candidate.version} has no ONNX signature to serve.", code=ErrorCode.CONFLICT, field="version")
    misfit = _signature_fits(live.signature, candidate.signature)
    if misfit:
        raise Conflict(
            f"{candidate.version} cannot shadow {live.version}: {misfit}.", code=ErrorCode.CONFLICT, field="version"
        )


def _lock(endpoint: Endpoint) -> Endpoint:
    return (
        Endpoint.objects.select_for_update(of=("self",))
        .select_related("team", "version__asset__team")
        .get(pk=endpoint.pk)
    )


def _set_status(shadow: EndpointShadow, status: str, reason: str, **fields) -> None:
    now = timezone.now()
    shadow.status, shadow.status_reason, shadow.status_changed_at = status, reason[:2000], now
    if status == ShadowStatus.STOPPED:
        fields["stopped_at"] = now
    for name, value in fields.items():
        setattr(shadow, name, value)
    shadow.save(update_fields=["status", "status_reason", "status_changed_at", *fields])


def shadow_stop_locked(actor, endpoint: Endpoint, shadow: EndpointShadow, reason: str) -> None:
    """In the caller's transaction, with the endpoint locked: the active shadow stops (the task unloads it)."""
    _set_status(shadow, ShadowStatus.STOPPING, reason)
    audit_record(
        actor=actor,
        action=Event.ENDPOINT_SHADOW_STOPPED,
        target=endpoint,
        team=endpoint.team,
        data={"version": shadow.version.version, "reason": reason[:500]},
    )
    task_send_on_commit(SHADOW_TASK, endpoint.pk)


def shadow_active(endpoint: Endpoint) -> EndpointShadow | None:
    return (
        EndpointShadow.objects.filter(endpoint=endpoint, status__in=SHADOW_ACTIVE_STATUSES)
        .select_related("version__asset")
        .first()
    )


def shadow_start(*, user, endpoint: Endpoint, version: str) -> EndpointShadow:
    """Mirror the endpoint's traffic to `version` of its asset (members of its team): a validated, in-review or
    approved version whose inputs take the live version's requests, on a backend that mirrors (the local
    runtime). Replaces the endpoint's shadow of another version; asking again for the same one changes nothing.
    Audited; the shadow task loads it."""
    team = endpoint.team
    require(user, Permission.ENDPOINT_MANAGE, team, f"Only members of '{team.slug}' can change its endpoints.")
    if not shadows_supported(backend_for(endpoint)):
        raise Conflict(
            f"Endpoint '{endpoint.name}' runs on the {endpoint.backend} backend, which cannot mirror traffic; shadow "
            "evaluation needs the local runtime.",
            code=ErrorCode.CONFLICT,
        )
    if not isinstance(version, str) or not version:
        raise InvalidInput("version names the candidate version of the endpoint's asset.", field="version")
    candidate = version_get(asset=endpoint.version.asset, version=version)
    with transaction.atomic():
        locked = _lock(endpoint)
        if locked.status != EndpointStatus.READY:
            raise Conflict(
                f"Endpoint '{locked.name}' is {EndpointStatus(locked.status).label.lower()}; a shadow needs it ready.",
                code=ErrorCode.ILLEGAL_TRANSITION,
            )
        _check_candidate(locked, candidate)
        current = shadow_active(locked)
        if current is not None and current.version_id == candidate.pk and current.status != ShadowStatus.FAILED:
            return current
        if current is not None:
            shadow_stop_locked(user, locked, current, f"Replaced by a shadow of {candidate.version}.")
        try:
            with transaction.atomic():
                shadow = EndpointShadow.objects.create(endpoint=locked, version=candidate, created_by=user)
        except IntegrityError:  # another request started one at the same moment (the lock makes this rare)
            raise Conflict(f"Endpoint '{locked.name}' got another shadow meanwhile.", code=ErrorCode.CONFLICT) from None
        audit_record(
            actor=user,
            action=Event.ENDPOINT_SHADOW_STARTED,
            target=locked,
            team=team,
            data={"version": candidate.version, "live_version": locked.version.version},
        )
        task_send_on_commit(SHADOW_TASK, locked.pk)
    shadow.endpoint = locked
    return shadow


def shadow_stop(*, user, endpoint: Endpoint) -> EndpointShadow:
    """Stop the endpoint's shadow (members of its team); NotFound when it has none. Audited; the task unloads it."""
    team = endpoint.team
    require(user, Permission.ENDPOINT_MANAGE, team, f"Only members of '{team.slug}' can change its endpoints.")
    with transaction.atomic():
        locked = _lock(endpoint)
        current = shadow_active(locked)
        if current is None:
            raise NotFound(f"Endpoint '{locked.name}' has no shadow.")
        shadow_stop_locked(user, locked, current, f"Stopped by {user.username}.")
    return current


def shadows_stop(*, endpoints=None, version=None, reason: str) -> list[int]:
    """Stop the active shadows of `endpoints` (or of candidate `version`), for the system (no actor): called when
    an endpoint is deleted or updated to its candidate, and when a candidate is rejected or deprecated."""
    found = EndpointShadow.objects.filter(status__in=SHADOW_ACTIVE_STATUSES)
    if endpoints is not None:
        found = found.filter(endpoint__in=endpoints)
    if version is not None:
        found = found.filter(version=version)
    stopped = []
    for endpoint_id in found.values_list("endpoint_id", flat=True).distinct():
        with transaction.atomic():
            locked = _lock(Endpoint(pk=endpoint_id))
            current = shadow_active(locked)
            if current is None or (version is not None and current.version_id != version.pk):
                continue
            shadow_stop_locked(None, locked, current, reason)
            stopped.append(endpoint_id)
    return stopped


# ------------------------------------------------------------------------------------------------ the task


def _wanted(endpoint_id: int) -> EndpointShadow | None:
    """The shadow the runtime should serve for the endpoint now (loading or ready), or None."""
    return (
        EndpointShadow.objects.filter(endpoint_id=endpoint_id, status__in=(ShadowStatus.LOADING, ShadowStatus.READY))
        .select_related("version__asset", "version__validation")
        .prefetch_related("version__files__blob")
        .first()
    )


def _finish(shadow: EndpointShadow, *, ok: bool, reason: str) -> None:
    """Record a load's outcome if the shadow is still wanted (a stop or a replacement meanwhile wins)."""
    with transaction.atomic():
        locked = (
            EndpointShadow.objects.select_for_update()
            .select_related("endpoint__team", "version")
            .filter(pk=shadow.pk, status__in=(ShadowStatus.LOADING, ShadowStatus.READY))
            .first()
        )
        if locked is None or (ok and locked.status == ShadowStatus.READY):
            return
        if ok:
            _set_status(locked, ShadowStatus.READY, reason, ready_at=timezone.now())
        else:
            _set_status(locked, ShadowStatus.FAILED, reason)
        event = Event.ENDPOINT_SHADOW_READY if ok else Event.ENDPOINT_SHADOW_FAILED
        audit_record(
            actor=None,
            action=event,
            target=locked.endpoint,
            team=locked.endpoint.team,
            data={"version": locked.version.version, "reason": reason[:500]},
        )
        publish(DomainEvent(name=event, subject=locked.endpoint, data={"version": locked.version.version}))


def _load(endpoint: Endpoint, backend, shadow: EndpointShadow) -> None:
    version = shadow.version
    try:
        files_dir = endpoint_files_materialize(endpoint, version)
    except BlobMissing as exc:
        _finish(shadow, ok=False, reason=f"The files of {version.version} cannot be loaded: {exc}.")
        return
    try:
        backend.deploy_shadow(endpoint, version, files_dir)
    except DeployRefused as exc:
        _finish(shadow, ok=False, reason=str(exc))
        return
    key, raw = conformance_key_new(endpoint)
    try:
        summary = conformance_check(
            base_url=backend.internal_url(endpoint),
            name=shadow_runtime_name(endpoint.name),
            signature=version.signature or {},
            expected_outputs=version_expected_outputs(version),
            headers={"Authorization": f"Bearer {raw}"},
            inputs=input_example_v2_inputs(version_id=version.pk),
        )
    except ConformanceFailure as exc:
        backend.remove_shadow(endpoint)
        _finish(shadow, ok=False, reason=f"The runtime loads {version.version}, but not as it was validated: {exc}.")
        return
    finally:
        EndpointKey.objects.filter(pk=key.pk).delete()
    _finish(
        shadow,
        ok=True,
        reason=f"{version.version} gets a copy of every request to {endpoint.version.version}; conformance check "
        f"passed (outputs {', '.join(summary['outputs'])}).",
    )


def _mark_stopped(endpoint_id: int) -> None:
    """Stopping shadows of the endpoint are stopped (the runtime no longer serves them); their files go."""
    stopping = EndpointShadow.objects.filter(endpoint_id=endpoint_id, status=ShadowStatus.STOPPING)
    wanted = _wanted(endpoint_id)
    for shadow in stopping.select_related("version", "endpoint__version", "endpoint__deployed_version"):
        _set_status(shadow, ShadowStatus.STOPPED, shadow.status_reason)
        endpoint = shadow.endpoint
        keep = {v.sha256 for v in (endpoint.version, endpoint.deployed_version) if v is not None}
        if wanted is not None:
            keep.add(wanted.version.sha256)
        if shadow.version.sha256 not in keep:
            shutil.rmtree(endpoint_files_dir(endpoint, shadow.version), ignore_errors=True)


def endpoint_shadow_sync(*, endpoint_id: int) -> None:
    """Make the runtime's shadow of the endpoint what its rows want: load the loading or ready shadow, or unload;
    then record the outcome. Idempotent. Raises RuntimeUnavailable (the task retries). Never inside a
    transaction: it does network and file I/O."""
    done: object = _NOTHING_YET
    for _ in range(SYNC_PASSES):
        endpoint = (
            Endpoint.objects.select_related("team", "version__asset", "deployed_version").filter(pk=endpoint_id).first()
        )
        if endpoint is None:
            return
        wanted = _wanted(endpoint_id)
        target = (wanted.pk, wanted.version_id) if wanted is not None else None
        if target == done:
            return
        backend = backend_for(endpoint)
        if wanted is not None and endpoint.status not in (EndpointStatus.DELETING, EndpointStatus.DELETED):
            # A ready shadow is loaded again only if the runtime serves another version under its name (a task
            # that lost a race loaded the one it was sent for last).
            served = backend.shadow_status(endpoint)
            if wanted.status == ShadowStatus.LOADING or served.get("version") != wanted.version.version:
                _load(endpoint, backend, wanted)
        elif shadows_supported(backend):
            backend.remove_shadow(endpoint)
        _mark_stopped(endpoint_id)
        done = target
    task_send(SHADOW_TASK, endpoint_id)  # the rows kept changing under this task: let a fresh one finish


def shadow_give_up(*, endpoint_id: int, reason: str) -> None:
    """After the task's last retry: a loading shadow fails with the reason (a stopping one waits for the sweep)."""
    wanted = _wanted(endpoint_id)
    if wanted is not None and wanted.status == ShadowStatus.LOADING:
        _finish(wanted, ok=False, reason=reason)


def shadows_recover_stalled(*, now=None) -> list[int]:
    """Re-send the shadow task for endpoints whose shadow has been loading or stopping past SHADOW_GRACE (a lost
    message or a killed worker); the task is idempotent, so a second copy does no harm."""
    now = now or timezone.now()
    stalled = list(
        EndpointShadow.objects.filter(status__in=SHADOW_WORK_STATUSES, status_changed_at__lt=now - SHADOW_GRACE)
        .values_list("endpoint_id", flat=True)
        .distinct()
    )
    for endpoint_id in stalled:
        EndpointShadow.objects.filter(endpoint_id=endpoint_id, status__in=SHADOW_WORK_STATUSES).update(
            status_changed_at=now
        )
        task_send(SHADOW_TASK, endpoint_id)
    if stalled:
        logger.warning("re-sent stalled shadow work for endpoints %s", stalled)
    return stalled
