"""The recovery sweep: no endpoint stays in a work status because its task was lost."""

from __future__ import annotations

import logging

from django.db.models import Q
from django.utils import timezone

from registry.endpoints.models import WORK_STATUSES, Endpoint, EndpointKey
from registry.endpoints.services.provisioning import PROVISION_TASK, work_time_limit
from registry.endpoints.services.shadows import shadows_recover_stalled
from registry.kernel.lib.leases import claim_lease, unclaimed_grace
from registry.kernel.lib.tasks import task_send

logger = logging.getLogger(__name__)


def endpoints_recover_stalled(*, now=None) -> list[int]:
    """Re-send the provisioning task for endpoints whose task was lost (never claimed, or claim past its lease),
    and the shadow task for shadows left loading or stopping.
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
    shadows_recover_stalled(now=now)
    # Conformance-check keys a killed task never deleted: nobody knows them, but they must not stay valid.
    EndpointKey.objects.filter(internal=True, created_at__lt=now - work_time_limit()).delete()
    return resent
