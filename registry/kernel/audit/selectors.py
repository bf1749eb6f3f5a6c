from django.db.models import QuerySet
from django.http import QueryDict

from registry.kernel.access import Permission, restrict
from registry.kernel.audit.chain import GENESIS_HASH, stored_event_hash
from registry.kernel.audit.filters import AuditFilter
from registry.kernel.audit.models import AuditEvent
from registry.kernel.errors import InvalidInput

MAX_PROBLEMS = 100


def audit_chain_verify(*, max_problems: int = MAX_PROBLEMS) -> tuple[int, list[str]]:
    """Walk the whole chain in order; returns (events checked, problems found).

    A problem is a gap in `seq` (an event deleted), a link that does not match the previous event's
    hash (deleted or reordered), or a hash that does not match the event's fields (rewritten).
    Streams the table, so it runs in constant memory however long the trail.
    """
    problems: list[str] = []
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=5000):
        checked += 1
        if event.seq != expected_seq:
            problems.append(f"events {expected_seq}-{event.seq - 1} are missing (deleted?) before event {event.seq}")
        elif event.prev_hash != prev_hash:
            problems.append(f"event {event.seq} does not link to the event before it (its prev_hash differs)")
        if stored_event_hash(event) != event.hash:
            problems.append(
                f"event {event.seq} ({event.action} on {event.target_type}:{event.target_id}, id "
                f"{event.pk}) was changed after it was written: its hash does not match its fields"
            )
        if len(problems) >= max_problems:
            break
        expected_seq, prev_hash = event.seq + 1, event.hash
    return checked, problems


def audit_list(*, user) -> QuerySet[AuditEvent]:
    """The events `user` may read: superusers all, others those of the teams they belong to, and their own."""
    return restrict(AuditEvent.objects.order_by("-seq"), user, Permission.AUDIT_VIEW)


def audit_search(*, user, params: QueryDict) -> QuerySet[AuditEvent]:
    """The events `user` may read (audit_list) that match the AuditFilter params, newest first."""
    empty = sorted(name for name in params if name in AuditFilter.base_filters and "" in params.getlist(name))
    if empty:
        raise InvalidInput(f"{empty[0]}: give a value or leave the parameter out.", field=empty[0])
    filterset = AuditFilter(params, queryset=audit_list(user=user))
    if not filterset.is_valid():
        field, errors = next(iter(filterset.errors.items()))
        raise InvalidInput(f"{field}: {' '.join(errors)}", field=field)
    return filterset.qs
