"""The recovery sweep: no endpoint stays in a work status because its task was lost."""

from __future__ import annotations

import logging

from django.db.models import Q
from django.utils import timezone

from registry.endpoints.backends import RuntimeUnavailable
from registry.endpoints.backends.local import LocalRuntimeBackend
from registry.endpoints.models import WORK_STATUSES, Endpoint, EndpointBackend, EndpointKey, EndpointStatus
from registry.endpoints.services.commands import endpoint_reload
from registry.endpoints.services.provisioning import PROVISION_TASK, work_time_limit
from registry.endpoints.services.shadows import shadows_recover_stalled
from registry.kernel.lib.leases import claim_lease, unclaimed_grace
from registry.kernel.lib.tasks import task_send

logger = logging.getLogger(__name__)


def endpoints_recover_stalled(*, now=None) -> list[int]:
    """Re-send the provisioning task for endpoints whose task was lost (never claimed, or claim past its lease),
    load again the ready ones the local runtime lost, and re-send the shadow task for shadows left loading or
    stopping.
    Safe to run concurrently: each re-send first resets the claim with a conditional update."""
    now = now or timezone.now()
    stalled = (
        Endpoint.objects.filter(status__in=WORK_STATUSES)
        .filter(
            Q(claimed_at__isnull=True, status_changed_at__lt=now - unclaimed_grace())
            | Q(claimed_at__lt=now - claim_lease())
        )
        .values_list("pk", "claimed_at")
    )
    resent = []
    for pk, claimed_at in stalled:
        if Endpoint.objects.filter(pk=pk, claimed_at=claimed_at).update(
            task_id="", claimed_at=None, status_changed_at=now
        ):
            task_send(PROVISION_TASK, pk)
            resent.append(pk)
    if resent:
        logger.warning("re-sent stalled endpoint provisioning for %s", resent)
    endpoints_reload_lost()
    shadows_recover_stalled(now=now)
    # Conformance-check keys a killed task never deleted: nobody knows them, but they must not stay valid.
    EndpointKey.objects.filter(internal=True, created_at__lt=now - work_time_limit()).delete()
    return resent


def endpoints_reload_lost() -> list[int]:
    """Ready endpoints of the local runtime that it does not know any more (it came back without its state
    folder: a new host, an emptied disk) are loaded again by the provisioning task, so their callers get them back
    without anyone redeploying. One index call; nothing while the runtime does not answer (the portal shows those
    endpoints as unavailable), and nothing for a model the runtime knows but cannot serve (its reason is shown)."""
    ready = list(
        Endpoint.objects.filter(status=EndpointStatus.READY, backend=EndpointBackend.LOCAL).only(
            "pk", "name", "status", "status_changed_at"
        )
    )
    if not ready:
        return []
    try:
        loaded = LocalRuntimeBackend().loaded_names()
    except RuntimeUnavailable:
        return []
    reason = "The inference runtime came back without this model (its state was lost); loading it again."
    reloaded = [e.pk for e in ready if e.name not in loaded and endpoint_reload(endpoint=e, reason=reason)]
    if reloaded:
        logger.warning("the runtime lost endpoints %s: loading them again", reloaded)
    return reloaded
