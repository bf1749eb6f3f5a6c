"""The hash chain that makes the audit trail tamper-evident.

Every event stores `seq` (1, 2, 3, ... with no gaps), the hash of the event before it, and its own hash:
sha256 over a canonical JSON of its fields and the previous hash. Rewriting an event changes its
hash; deleting one leaves a gap in `seq` and a broken link; `manage.py audit_verify` finds both. On
PostgreSQL a trigger also refuses UPDATE and DELETE on the table, so the application cannot rewrite
history even by mistake; the chain catches whoever goes around it.
"""

import hashlib
import json
from datetime import UTC

GENESIS_HASH = "0" * 64
# pg_advisory_xact_lock key under which events are appended one at a time (the chain is linear).
CHAIN_LOCK_KEY = 0x4D48_4155_4454  # "MHAUDT"


def event_hash(
    *,
    seq: int,
    prev_hash: str,
    created_at,
    actor_id,
    actor_name: str,
    action: str,
    target_type: str,
    target_id: str,
    target_repr: str,
    team_id,
    data,
    before,
    after,
    request_id: str,
) -> str:
    canonical = {
        "seq": seq,
        "prev_hash": prev_hash,
        "created_at": created_at.astimezone(UTC).isoformat(),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "target_repr": target_repr,
        "team_id": team_id,
        "data": data,
        "before": before,
        "after": after,
        "request_id": request_id,
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()


HASHED_FIELDS = (
    "seq",
    "prev_hash",
    "created_at",
    "actor_id",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "team_id",
    "data",
    "before",
    "after",
    "request_id",
)


def stored_event_hash(event) -> str:
    """The hash an event (model instance or historical model) should have, from its stored fields."""
    return event_hash(**{name: getattr(event, name) for name in HASHED_FIELDS})
