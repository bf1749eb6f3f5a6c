"""Who may call the runtime.

- Health routes, `GET /v2` and `/metrics`: anyone.
- Repository routes and model stats: the runtime secret the portal shares with the runtime
  (`Authorization: Bearer <MODELHUB_RUNTIME_SECRET>`), compared in constant time.
- Model metadata, readiness and inference: an endpoint key (`Authorization: Bearer <key>`), an API token
  (`Authorization: Token <token>`) or `X-Modelhub-Key: <key>`. The runtime never sees a database: it asks
  the portal (`POST {portal}/api/v1/internal/runtime/authorize`) with the SHA-256 of the credential and
  caches the answer, positive or negative, for `ttl` seconds, so a revoked key stops working within that.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections import OrderedDict
from typing import Protocol

import httpx

AUTHORIZE_PATH = "/api/v1/internal/runtime/authorize"
ALLOWED, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND = 200, 401, 403, 404
_DECISIONS = frozenset({ALLOWED, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND})


class AuthorizerUnavailable(Exception):
    """The portal could not be asked or gave no usable answer (HTTP 503)."""


class Authorizer(Protocol):
    async def authorize(self, model: str, credential_sha256: str) -> int:
        """200 (allowed), 401 (unknown or revoked credential), 403 (not for this model) or 404 (no such
        model for this caller). Raises AuthorizerUnavailable."""

    async def close(self) -> None: ...


def credential_from_headers(authorization: bytes | None, modelhub_key: bytes | None) -> str | None:
    """The caller's credential: `Authorization: Bearer|Token <value>` or `X-Modelhub-Key: <value>`."""
    if authorization:
        scheme, _, value = authorization.decode("latin-1").partition(" ")
        value = value.strip()
        if scheme.lower() in ("bearer", "token") and value:
            return value
    if modelhub_key:
        value = modelhub_key.decode("latin-1").strip()
        return value or None
    return None


def credential_sha256(credential: str) -> str:
    return hashlib.sha256(credential.encode("utf-8", "surrogateescape")).hexdigest()


def secret_matches(authorization: bytes | None, secret: str) -> bool:
    """`Authorization: Bearer <secret>`, compared in constant time; never true for an empty secret."""
    if not secret or not authorization:
        return False
    scheme, _, value = authorization.partition(b" ")
    return scheme.lower() == b"bearer" and hmac.compare_digest(value.strip(), secret.encode())


class StaticAuthorizer:
    """Decisions from a fixed table {model: {credential sha256, ...}}, "*" meaning every model.

    For tests and for running the runtime without a portal. A model absent from the table is 404, a known
    credential for another model 403, an unknown credential 401.
    """

    def __init__(self, allowed: dict[str, set[str] | frozenset[str]]):
        self.allowed = {model: frozenset(hashes) for model, hashes in allowed.items()}
        self._known = frozenset().union(*self.allowed.values()) if self.allowed else frozenset()

    async def authorize(self, model: str, credential_sha256: str) -> int:
        if credential_sha256 not in self._known:
            return UNAUTHENTICATED
        if credential_sha256 in self.allowed.get("*", ()):
            return ALLOWED
        if model not in self.allowed:
            return NOT_FOUND
        return ALLOWED if credential_sha256 in self.allowed[model] else FORBIDDEN

    async def close(self) -> None:
        pass


class PortalAuthorizer:
    """Asks the portal, caches each (model, credential hash) decision for `ttl` seconds in a bounded LRU,
    and sends at most one request per key at a time (concurrent misses wait for the same answer).

    Errors (portal down, timeout, a status or body it should not send) are not cached: the next request asks
    again.
    """

    def __init__(
        self,
        portal_url: str,
        runtime_secret: str,
        *,
        ttl: float = 5.0,
        max_entries: int = 10_000,
        timeout: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.ttl = ttl
        self.max_entries = max_entries
        self._url = portal_url.rstrip("/") + AUTHORIZE_PATH
        self._headers = {"Authorization": f"Bearer {runtime_secret}"}
        self._timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._cache: OrderedDict[tuple[str, str], tuple[float, int]] = OrderedDict()
        self._inflight: dict[tuple[str, str], asyncio.Future] = {}

    async def authorize(self, model: str, credential_sha256: str) -> int:
        key = (model, credential_sha256)
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            self._cache.move_to_end(key)
            return hit[1]
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            decision = await self._ask(model, credential_sha256)
        except BaseException as exc:
            error = exc if isinstance(exc, AuthorizerUnavailable) else AuthorizerUnavailable(str(exc))
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        else:
            future.set_result(decision)
            self._cache[key] = (time.monotonic() + self.ttl, decision)
            self._cache.move_to_end(key)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
            return decision
        finally:
            del self._inflight[key]

    async def _ask(self, model: str, credential_sha256: str) -> int:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, transport=self._transport)
        try:
            response = await self._client.post(
                self._url, headers=self._headers, json={"model": model, "credential_sha256": credential_sha256}
            )
        except httpx.HTTPError as exc:
            raise AuthorizerUnavailable(f"the portal could not be asked: {exc.__class__.__name__}") from None
        if response.status_code != 200:
            raise AuthorizerUnavailable(f"the portal answered {response.status_code}")
        try:
            status = response.json()["status"]
        except (ValueError, KeyError, TypeError):
            raise AuthorizerUnavailable("the portal's answer has no status") from None
        if status not in _DECISIONS:
            raise AuthorizerUnavailable(f"the portal answered status {status!r}")
        return status

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
