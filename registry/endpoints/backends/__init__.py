"""Where endpoints run: one interface, two backends.

`deploy(endpoint, files_dir) -> url` loads (or atomically replaces) the endpoint's current version and
returns the public URL of its V2 model; `remove(endpoint)` unloads it (idempotent); `status(endpoint)`
says what the backend reports now, and `states(endpoints)` whether it serves each of them right now (what
the portal shows). `internal_url(endpoint)` is where the portal itself talks V2 to the model (the
conformance check). `metrics(endpoint)` is the serving figures of a ready endpoint (best effort; None when
the backend cannot report them). Backends raise RuntimeUnavailable for faults worth retrying and
DeployRefused for a refusal a person has to act on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class RuntimeUnavailable(Exception):
    """The runtime (or the cluster) could not be reached or answered 5xx; retrying may help."""


class DeployRefused(Exception):
    """The backend refused the model; str() says why, for the endpoint's owner."""


# The figures `metrics()` reports, each None when unknown; `traffic` is per minute of the last hour.
METRICS_UNAVAILABLE: dict = {
    "request_count": None,
    "requests_last_hour": None,
    "latency_p50_ms": None,
    "latency_p95_ms": None,
    "traffic": [],
}


class EndpointBackend(Protocol):
    def deploy(self, endpoint, files_dir: Path) -> str: ...

    def remove(self, endpoint) -> None: ...

    def status(self, endpoint) -> dict: ...

    def states(self, endpoints) -> dict[int, dict]:
        """For each endpoint's pk: {"state": "READY" | "UNAVAILABLE", "reason"}: whether the backend serves its model
        right now, in as few calls as the backend allows. Never raises: an unreachable runtime is UNAVAILABLE."""
        ...

    def internal_url(self, endpoint) -> str: ...

    def metrics(self, endpoint) -> dict | None:
        """Some or all of METRICS_UNAVAILABLE's figures for a ready endpoint, or None when the backend has none
        to give. Never raises for an unreachable runtime: the figures are best effort."""
        ...


def shadows_supported(backend) -> bool:
    """Whether the backend can mirror an endpoint's traffic to a shadow: `deploy_shadow(endpoint, version,
    files_dir)`, `remove_shadow(endpoint)` and `shadow_status(endpoint)` (the local runtime; KServe cannot)."""
    return all(hasattr(backend, name) for name in ("deploy_shadow", "remove_shadow", "shadow_status"))


def backend_for(endpoint) -> EndpointBackend:
    if endpoint.backend == "kubernetes":
        from registry.endpoints.backends.kubernetes import KubernetesBackend

        return KubernetesBackend()
    from registry.endpoints.backends.local import LocalRuntimeBackend

    return LocalRuntimeBackend()


def model_settings(endpoint) -> dict:
    """The runtime's load parameters that come from the endpoint's settings."""
    configured = endpoint.settings or {}
    return {
        "max_batch_size": configured.get("max_batch_size", 0),
        "max_batch_delay_ms": configured.get("max_batch_delay_ms", 2),
        "timeout_ms": configured.get("timeout_ms", 30_000),
        "memory_limit_bytes": configured.get("memory_limit", 2 << 30),
    }
