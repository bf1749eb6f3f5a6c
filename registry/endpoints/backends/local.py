"""The local backend: the inference runtime's V2 repository API (`python -m registry.runtime`)."""

from __future__ import annotations

from pathlib import Path

import requests
from django.conf import settings

from registry.endpoints.backends import DeployRefused, RuntimeUnavailable, model_settings
from registry.endpoints.backends.prometheus import metrics_parse
from registry.endpoints.models import shadow_runtime_name


def runtime_headers() -> dict:
    return {"Authorization": f"Bearer {settings.MODELHUB_RUNTIME_SECRET}"}


def runtime_request(
    method: str, path: str, *, json: dict | None = None, timeout: float | None = None, base_url: str | None = None
) -> requests.Response:
    """One call to the runtime; connection faults, timeouts and 5xx answers become RuntimeUnavailable."""
    url = f"{base_url or settings.MODELHUB_RUNTIME_URL}{path}"
    try:
        response = requests.request(
            method, url, json=json, headers=runtime_headers(), timeout=timeout or settings.MODELHUB_RUNTIME_TIMEOUT
        )
    except requests.RequestException as exc:
        raise RuntimeUnavailable(
            f"the inference runtime at {settings.MODELHUB_RUNTIME_URL} did not answer: {type(exc).__name__}"
        ) from exc
    if response.status_code >= 500:
        raise RuntimeUnavailable(f"the inference runtime answered {response.status_code} to {method} {path}")
    return response


def _error_of(response: requests.Response) -> str:
    try:
        return str(response.json().get("error") or response.text)[:1000]
    except ValueError:
        return response.text[:1000]


class LocalRuntimeBackend:
    def deploy(self, endpoint, files_dir: Path) -> str:
        self._load(endpoint.name, endpoint, endpoint.version, files_dir)
        return f"{settings.MODELHUB_RUNTIME_PUBLIC_URL}/v2/models/{endpoint.name}"

    def remove(self, endpoint) -> None:
        self._unload(endpoint.name)

    def deploy_shadow(self, endpoint, version, files_dir: Path) -> None:
        """Load `version` beside the endpoint's live model as its shadow (`<name>.shadow`, `shadow_of` the live
        one): the runtime mirrors each live request to it and records its answers, which nobody sees."""
        self._load(shadow_runtime_name(endpoint.name), endpoint, version, files_dir, shadow_of=endpoint.name)

    def remove_shadow(self, endpoint) -> None:
        self._unload(shadow_runtime_name(endpoint.name))

    def _load(self, name: str, endpoint, version, files_dir: Path, **extra) -> None:
        primary = next(f for f in version.files.all() if f.is_primary)
        parameters = {
            "path": str((files_dir / primary.path).resolve()),
            "sha256": primary.blob.sha256,
            "version": version.version,
            **model_settings(endpoint),
            **extra,
        }
        response = runtime_request("POST", f"/v2/repository/models/{name}/load", json={"parameters": parameters})
        if response.status_code != 200:
            raise DeployRefused(
                f"The inference runtime could not load version {version.version}: {_error_of(response)}"
            )

    def _unload(self, name: str) -> None:
        response = runtime_request("POST", f"/v2/repository/models/{name}/unload")
        if response.status_code not in (200, 404):  # 404: not loaded, which is what we want
            raise DeployRefused(f"The inference runtime refused to unload the model: {_error_of(response)}")

    def status(self, endpoint) -> dict:
        return self._entry(endpoint.name)

    def shadow_status(self, endpoint) -> dict:
        """The runtime's index entry of the endpoint's shadow (name, version, state, reason)."""
        return self._entry(shadow_runtime_name(endpoint.name))

    def _entry(self, name: str) -> dict:
        return self._index().get(name) or {"name": name, "state": "UNAVAILABLE", "reason": "not loaded"}

    def _index(self, timeout: float = 5) -> dict[str, dict]:
        response = runtime_request("POST", "/v2/repository/index", json={}, timeout=timeout)
        entries = response.json() if response.status_code == 200 else []
        return {entry.get("name"): entry for entry in entries if isinstance(entry, dict)}

    def loaded_names(self) -> set[str]:
        """The names of every model the runtime knows (served, loading or failed); RuntimeUnavailable when down."""
        return set(self._index(timeout=2))

    def states(self, endpoints) -> dict[int, dict]:
        """Whether the runtime serves each endpoint's model now, from one index call: {pk: {"state", "reason"}},
        state READY or UNAVAILABLE; never raises (a runtime that does not answer makes every one UNAVAILABLE)."""
        try:
            index = self._index(timeout=2)
        except RuntimeUnavailable as exc:
            down = {"state": "UNAVAILABLE", "reason": f"{str(exc)[0].upper()}{str(exc)[1:]}."}
            return {endpoint.pk: down for endpoint in endpoints}
        found = {}
        for endpoint in endpoints:
            entry = index.get(endpoint.name)
            if entry is None:
                reason = "The inference runtime lost the model (it restarted without its state); it is loaded again."
            elif entry.get("state") == "READY":
                reason = ""
            else:
                reason = (
                    f"The inference runtime cannot serve the model now: {entry.get('reason') or entry.get('state')}."
                )
            found[endpoint.pk] = {"state": "READY" if not reason else "UNAVAILABLE", "reason": reason}
        return found

    def internal_url(self, endpoint) -> str:
        return settings.MODELHUB_RUNTIME_URL

    def metrics(self, endpoint) -> dict | None:
        """From Modelhub's runtime: requests since the model was loaded, and requests and p50/p95 latency over the
        last hour, in all and per minute (its stats route). From a runtime without that route: the cumulative
        figures of its Prometheus /metrics, and no per-minute traffic. None when neither answers."""
        stats = self.model_stats(endpoint.name) or {}
        hour = stats.get("last_hour")
        if isinstance(hour, dict):
            return {
                "request_count": stats.get("requests"),
                "requests_last_hour": hour.get("requests"),
                "latency_p50_ms": hour.get("latency_p50_ms"),
                "latency_p95_ms": hour.get("latency_p95_ms"),
                "traffic": hour.get("per_minute") or [],
            }
        text = self.metrics_text()
        return metrics_parse(text, model=endpoint.name) if text else None

    def model_stats(self, name: str) -> dict | None:
        """The runtime's stats of one model (GET /v2/models/{name}/stats), or None when it has none."""
        try:
            response = runtime_request("GET", f"/v2/models/{name}/stats", timeout=2)
            stats = response.json() if response.status_code == 200 else None
        except (RuntimeUnavailable, ValueError):
            return None
        return stats if isinstance(stats, dict) else None

    def metrics_text(self) -> str | None:
        try:
            response = requests.get(f"{settings.MODELHUB_RUNTIME_URL}/metrics", timeout=2)
        except requests.RequestException:
            return None
        return response.text if response.status_code == 200 else None
