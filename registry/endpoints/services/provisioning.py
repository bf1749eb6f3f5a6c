"""The provisioning task's work: claim an endpoint, deploy, update or delete it, and record one outcome.

The task claims the endpoint with a conditional update (a work status, and the claim free, its own, or past its
lease), does the slow work with no transaction open (materialize files, verify the approval signature, load
into the runtime, conformance check), then records the outcome with a conditional update only its own claim
satisfies: running the task twice, or two copies at once, records one outcome. A request that changes the
endpoint meanwhile resets the claim (registry.endpoints.services.commands), so a stale task's outcome is dropped.
"""

from __future__ import annotations

import copy
import logging
import secrets
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from registry.artifacts.storage import BlobMissing, blob_materialize
from registry.endpoints.backends import DeployRefused, RuntimeUnavailable, backend_for, shadows_supported
from registry.endpoints.conformance import ConformanceFailure, conformance_check
from registry.endpoints.lifecycle import can_transition
from registry.endpoints.models import (
    SHADOW_ACTIVE_STATUSES,
    WORK_STATUSES,
    Endpoint,
    EndpointKey,
    EndpointShadow,
    EndpointStatus,
)
from registry.endpoints.services.keys import conformance_key_new
from registry.endpoints.services.usage import asset_usage_refresh
from registry.examples.selectors import input_example_v2_inputs
from registry.governance.signing import version_signature_verify
from registry.kernel.audit.services import audit_record
from registry.kernel.events import DomainEvent, Event, publish
from registry.kernel.lib.draining import interruptible
from registry.kernel.lib.leases import Heartbeat, claim_lease
from registry.kernel.lib.tasks import task_send
from registry.versions.models import AssetVersion

logger = logging.getLogger(__name__)

# Registered under this name by registry.endpoints.tasks; services send it by name, never import it.
PROVISION_TASK = "registry.endpoints.tasks.endpoint_provision_task"


def work_time_limit() -> timedelta:
    """The longest one provisioning can take (its hard time limit), whatever its heartbeat says."""
    return timedelta(seconds=settings.MODELHUB_ENDPOINT_TIME_LIMIT + 60)


def endpoint_claim(*, endpoint_id: int, task_id: str) -> Endpoint | None:
    """Claim an endpoint's pending work for `task_id`; None when there is nothing to do.

    A redelivered message (same task id) takes its claim back; another task only a claim past its lease.
    A pending endpoint becomes `provisioning`. Past MODELHUB_ENDPOINT_MAX_ATTEMPTS (a crash loop) it fails.
    """
    now = timezone.now()
    claimed = (
        Endpoint.objects.filter(pk=endpoint_id, status__in=WORK_STATUSES)
        .filter(Q(task_id="") | Q(task_id=task_id) | Q(claimed_at__lt=now - claim_lease()))
        .update(
            task_id=task_id,
            claimed_at=now,
            attempts=F("attempts") + 1,
            status=Case(
                When(status=EndpointStatus.PENDING, then=Value(str(EndpointStatus.PROVISIONING))), default=F("status")
            ),
        )
    )
    if not claimed:
        return None
    endpoint = (
        Endpoint.objects.select_related(
            "team", "version__asset__team", "version__validation", "deployed_version__asset"
        )
        .prefetch_related("version__files__blob", "deployed_version__files__blob")
        .get(pk=endpoint_id)
    )
    if endpoint.attempts > settings.MODELHUB_ENDPOINT_MAX_ATTEMPTS:
        endpoint_finish(
            endpoint_id=endpoint_id,
            task_id=task_id,
            ok=False,
            reason=f"Provisioning was interrupted {endpoint.attempts - 1} times (the worker was lost or "
            "killed at the time limit); delete the endpoint or deploy again.",
        )
        return None
    return endpoint


def endpoint_release(*, endpoint_id: int, task_id: str) -> bool:
    """Give a claim back before a retry; a transient fault is not counted as an attempt. Returns whether `task_id`
    still held it."""
    return bool(
        Endpoint.objects.filter(pk=endpoint_id, task_id=task_id).update(
            task_id="", claimed_at=None, attempts=Case(When(attempts__gt=0, then=F("attempts") - 1), default=0)
        )
    )


def endpoint_hand_back(*, endpoint_id: int, task_id: str) -> bool:
    """Give the claim back and send the task again, for a worker that is shutting down warm
    (registry.kernel.lib.draining): the next worker takes the job at once, not after a lease, and the interrupted
    attempt is not counted. Returns whether it was handed back; nothing is sent when `task_id` no longer held the
    claim (a request changed the endpoint meanwhile and sent its own task)."""
    if not endpoint_release(endpoint_id=endpoint_id, task_id=task_id):
        return False
    # As the sweep does: the re-sent message is not taken for lost before a worker claims it.
    Endpoint.objects.filter(pk=endpoint_id, status__in=WORK_STATUSES, task_id="").update(
        status_changed_at=timezone.now()
    )
    task_send(PROVISION_TASK, endpoint_id)
    return True


def endpoint_finish(
    *,
    endpoint_id: int,
    task_id: str,
    ok: bool,
    reason: str,
    url: str = "",
    error: str = "",
    version_id: int | None = None,
) -> bool:
    """Record the outcome if `task_id` still holds the claim (and, for a deploy, the endpoint still wants the
    version that was deployed). Audits and publishes endpoint.ready / .updated / .failed / .deleted."""
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Endpoint.objects.select_for_update(of=("self",))
            .select_related("team", "version__asset__team")
            .filter(pk=endpoint_id, task_id=task_id, status__in=WORK_STATUSES)
            .first()
        )
        if locked is None or (version_id is not None and locked.version_id != version_id):
            return False
        was = locked.status
        if not ok:
            target, event = EndpointStatus.FAILED, Event.ENDPOINT_FAILED
        elif was == EndpointStatus.DELETING:
            target, event = EndpointStatus.DELETED, Event.ENDPOINT_DELETED
        else:
            target = EndpointStatus.READY
            event = Event.ENDPOINT_UPDATED if was == EndpointStatus.UPDATING else Event.ENDPOINT_READY
        if not can_transition(was, target):
            return False
        locked.status, locked.status_reason, locked.status_changed_at = target, reason[:2000], now
        locked.error, locked.task_id, locked.claimed_at = error[:4000], "", None
        fields = ["status", "status_reason", "status_changed_at", "error", "task_id", "claimed_at"]
        if target == EndpointStatus.READY:
            locked.url, locked.ready_at, locked.deployed_version_id = url, now, locked.version_id
            fields += ["url", "ready_at", "deployed_version"]
        if target == EndpointStatus.DELETED:
            locked.url = ""
            fields.append("url")
        locked.save(update_fields=fields)
        if target == EndpointStatus.DELETED:
            asset_usage_refresh(asset_ids={locked.version.asset_id})
        audit_record(
            actor=None,
            action=event,
            target=locked,
            team=locked.team,
            before={"status": was},
            after={"status": target},
            data={"reason": reason[:500], "version": locked.version.version},
        )
        publish(DomainEvent(name=event, subject=locked, data={"previous_status": was}))
    return True


def endpoint_files_dir(endpoint: Endpoint, version: AssetVersion) -> Path:
    return Path(settings.MODELHUB_RUNTIME_MODELS_DIR) / endpoint.name / version.sha256


def endpoint_files_materialize(endpoint: Endpoint, version: AssetVersion) -> Path:
    """The version's files under the runtime's models folder, each checked against its sha256; a folder that
    is complete already is reused (it is published by rename, so it is never half-written)."""
    final = endpoint_files_dir(endpoint, version)
    if final.is_dir():
        return final
    scratch = final.with_name(f".incoming-{secrets.token_hex(6)}")
    try:
        for f in version.files.all():
            blob_materialize(f.blob, scratch / f.path)
        try:
            scratch.rename(final)
        except OSError:  # a concurrent copy published it first
            if not final.is_dir():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return final


def version_expected_outputs(version: AssetVersion) -> list[dict]:
    validation = getattr(version, "validation", None)
    smoke = ((validation.details if validation else None) or {}).get("smoke_inference") or {}
    return smoke.get("outputs") or (version.signature or {}).get("outputs") or []


def _remove_files(endpoint: Endpoint, keep: AssetVersion | None = None) -> None:
    """The endpoint's files but those of `keep` and of its active shadow's version; all of them without `keep`."""
    folder = Path(settings.MODELHUB_RUNTIME_MODELS_DIR) / endpoint.name
    if not folder.is_dir():
        return
    if keep is None:
        shutil.rmtree(folder, ignore_errors=True)
        return
    kept = {keep.sha256} | set(
        EndpointShadow.objects.filter(endpoint=endpoint, status__in=SHADOW_ACTIVE_STATUSES).values_list(
            "version__sha256", flat=True
        )
    )
    for child in folder.iterdir():
        if child.name not in kept:
            shutil.rmtree(child, ignore_errors=True)


def _roll_back(endpoint: Endpoint, backend) -> str:
    """After a failed update, load the version the endpoint served before again (its files are still there), so
    callers keep a working model; after a failed first deploy, unload it. Returns a sentence for the reason."""
    previous = endpoint.deployed_version
    if previous is None:  # a first deploy: serve nothing rather than a model that failed the check
        try:
            backend.remove(endpoint)
        except (DeployRefused, RuntimeUnavailable) as exc:
            return f" Unloading it failed too: {exc}"
        return ""
    if previous.pk == endpoint.version_id:
        return ""
    folder = endpoint_files_dir(endpoint, previous)
    if not folder.is_dir():
        return f" Version {previous.version} could not be restored: its files are gone."
    restored = copy.copy(endpoint)
    restored.version = previous
    try:
        backend.deploy(restored, folder)
    except (DeployRefused, RuntimeUnavailable) as exc:
        return f" Restoring version {previous.version} failed too: {exc}"
    return f" The endpoint still serves version {previous.version}."


def endpoint_provision(*, endpoint_id: int, task_id: str) -> bool:
    """Do the endpoint's pending work (deploy, update or delete) end to end. Idempotent; returns whether this call
    recorded an outcome. Raises RuntimeUnavailable or TransientStorageError for faults worth retrying (the task
    releases its claim first), and WorkerDraining (registry.kernel.lib.draining) when the worker shuts down warm
    while the files are copied or their signature checked (the task hands the job back: endpoint_hand_back). Never
    called inside a transaction: it does network and file I/O.
    """
    endpoint = endpoint_claim(endpoint_id=endpoint_id, task_id=task_id)
    if endpoint is None:
        logger.info("endpoint %s: nothing to do (done, or claimed by another task)", endpoint_id)
        return False

    def renew() -> int:
        return Endpoint.objects.filter(pk=endpoint_id, task_id=task_id, status__in=WORK_STATUSES).update(
            claimed_at=timezone.now()
        )

    with Heartbeat(renew, name=f"provisioning of endpoint {endpoint_id}"):
        return _provision_claimed(endpoint, task_id)


def _provision_claimed(endpoint: Endpoint, task_id: str) -> bool:
    endpoint_id = endpoint.pk
    backend = backend_for(endpoint)
    if endpoint.status == EndpointStatus.DELETING:
        try:
            if shadows_supported(backend):
                backend.remove_shadow(endpoint)
            backend.remove(endpoint)
        except DeployRefused as exc:
            return endpoint_finish(endpoint_id=endpoint_id, task_id=task_id, ok=False, reason=str(exc))
        _remove_files(endpoint)
        return endpoint_finish(endpoint_id=endpoint_id, task_id=task_id, ok=True, reason="Unloaded and deleted.")

    version = endpoint.version
    finish = {"endpoint_id": endpoint_id, "task_id": task_id, "version_id": version.pk}
    # A warm shutdown hands the job back from the copy and the check (both safe to abandon), never later: loading
    # the runtime and recording the outcome run to the end.
    try:
        with interruptible():
            files_dir = endpoint_files_materialize(endpoint, version)
    except BlobMissing as exc:
        return endpoint_finish(
            **finish,
            ok=False,
            reason=f"The files of {version.asset.full_slug} {version.version} "
            f"cannot be deployed: {exc}. Ask its owners to upload it again.",
        )
    with interruptible():
        check = version_signature_verify(version=version, local_files=files_dir)
    if not check.valid:
        shutil.rmtree(files_dir, ignore_errors=True)
        return endpoint_finish(
            **finish,
            ok=False,
            reason=f"The approval signature of {version.asset.full_slug} "
            f"{version.version} does not verify, so it was not deployed: "
            f"{check.detail}",
        )
    try:
        url = backend.deploy(endpoint, files_dir)
    except DeployRefused as exc:
        return endpoint_finish(**finish, ok=False, reason=str(exc) + _roll_back(endpoint, backend))
    key, raw = conformance_key_new(endpoint)
    try:
        summary = conformance_check(
            base_url=backend.internal_url(endpoint),
            name=endpoint.name,
            signature=version.signature or {},
            expected_outputs=version_expected_outputs(version),
            headers={"Authorization": f"Bearer {raw}"},
            inputs=input_example_v2_inputs(version_id=version.pk),
        )
    except ConformanceFailure as exc:
        return endpoint_finish(
            **finish,
            ok=False,
            reason=f"The runtime serves {version.asset.full_slug} {version.version}, but not as it "
            f"was validated: {exc}. Check the version's signature and the runtime's log."
            + _roll_back(endpoint, backend),
        )
    finally:
        EndpointKey.objects.filter(pk=key.pk).delete()
    _remove_files(endpoint, keep=version)
    return endpoint_finish(
        **finish,
        ok=True,
        url=url,
        reason=f"Serving {version.asset.full_slug} {version.version}; conformance check passed "
        f"{'on the input example ' if summary['inputs_from'] == 'input_example' else ''}"
        f"(inputs {', '.join(summary['inputs'])}; outputs {', '.join(summary['outputs'])}).",
    )
