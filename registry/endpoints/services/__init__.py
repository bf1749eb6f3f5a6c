"""Inference endpoints: deploy approved model versions to the inference runtime, update, delete, and keys.

Requests (create, update, delete: `commands`) only write rows and send the provisioning task on commit. The
task (`provisioning`) claims the endpoint with a conditional update (a work status, and the claim free, its
own, or past its lease), does the slow work with no transaction open (materialize files, verify the approval
signature, load into the runtime, conformance check), then records the outcome with a conditional update only
its own claim satisfies: running the task twice, or two copies at once, records one outcome. A request that
changes the endpoint meanwhile resets the claim, so a stale task's outcome is dropped. The recovery sweep
(`recovery`) re-sends work whose task was lost, so no endpoint stays `pending`. `keys` owns the keys that call
an endpoint and the runtime's credential check; `shadows` mirrors an endpoint's traffic to a candidate version.
Which status changes are allowed is registry.endpoints.lifecycle.
"""

from registry.endpoints.services.commands import (
    SETTINGS_RANGES,
    endpoint_create,
    endpoint_delete,
    endpoint_settings_clean,
    endpoint_update,
    endpoints_follow_alias,
    settings_backend,
)
from registry.endpoints.services.keys import (
    KEY_PREFIX,
    MAX_KEYS_PER_ENDPOINT,
    endpoint_key_create,
    endpoint_key_revoke,
    runtime_authorize,
)
from registry.endpoints.services.provisioning import (
    PROVISION_TASK,
    endpoint_claim,
    endpoint_files_dir,
    endpoint_finish,
    endpoint_hand_back,
    endpoint_provision,
    endpoint_release,
)
from registry.endpoints.services.recovery import endpoints_recover_stalled
from registry.endpoints.services.shadows import (
    SHADOW_TASK,
    endpoint_shadow_sync,
    shadow_active,
    shadow_give_up,
    shadow_start,
    shadow_stop,
    shadows_recover_stalled,
    shadows_stop,
)
from registry.endpoints.services.usage import asset_usage_refresh

__all__ = [
    "KEY_PREFIX",
    "MAX_KEYS_PER_ENDPOINT",
    "PROVISION_TASK",
    "SHADOW_TASK",
    "SETTINGS_RANGES",
    "asset_usage_refresh",
    "endpoint_claim",
    "endpoint_create",
    "endpoint_delete",
    "endpoint_files_dir",
    "endpoint_finish",
    "endpoint_hand_back",
    "endpoint_key_create",
    "endpoint_key_revoke",
    "endpoint_provision",
    "endpoint_release",
    "endpoint_settings_clean",
    "endpoint_shadow_sync",
    "endpoint_update",
    "endpoints_follow_alias",
    "endpoints_recover_stalled",
    "runtime_authorize",
    "settings_backend",
    "shadow_active",
    "shadow_give_up",
    "shadow_start",
    "shadow_stop",
    "shadows_recover_stalled",
    "shadows_stop",
]
