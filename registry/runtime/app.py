"""The runtime's HTTP layer: a bare ASGI app (no framework) speaking the Open Inference Protocol.

Routes (auth: see registry.runtime.auth):
  GET  /v2/health/live, /v2/health/ready, /v2, /metrics                    open
  GET  /v2/models/{name}[/versions/{v}]                                    metadata     credential
  GET  /v2/models/{name}[/versions/{v}]/ready                              readiness    credential
  POST /v2/models/{name}[/versions/{v}]/infer                              inference    credential
  GET  /v2/models/{name}/stats                                             statistics   runtime secret
  POST /v2/repository/index                                                             runtime secret
  POST /v2/repository/models/{name}/load, /v2/repository/models/{name}/unload          runtime secret

Every inference response carries an id: the request's `id`, or one made here, so that ground truth sent to the
portal later can be joined to the prediction. What each model is asked and answers is recorded in monitoring
windows (registry/runtime/windows.py) that the shipper sends to the portal (registry/runtime/shipper.py).

Every error is `{"error": "..."}` with a 4xx/5xx status; the contract's exceptions map to 404 (ModelNotFound),
400 (ModelLoadError, InferenceInputError), 504 (InferenceTimeout) and 503 (ModelUnavailable).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import secrets
from dataclasses import dataclass
from importlib import metadata as _metadata
from time import perf_counter

import numpy as np
import orjson

from registry.runtime import protocol
from registry.runtime.auth import (
    ALLOWED,
    FORBIDDEN,
    NOT_FOUND,
    Authorizer,
    AuthorizerUnavailable,
    credential_from_headers,
    credential_sha256,
    secret_matches,
)
from registry.runtime.interface import (
    InferenceInputError,
    InferenceTimeout,
    ModelConfig,
    ModelHost,
    ModelInfo,
    ModelLoadError,
    ModelNotFound,
    ModelUnavailable,
)
from registry.runtime.metrics import UNKNOWN_MODEL, RuntimeMetrics
from registry.runtime.monitoring import Monitoring
from registry.runtime.windows import WINDOW_SECONDS

log = logging.getLogger("registry.runtime")

MODEL_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}")
EXTENSIONS = ["binary_tensor_data", "model_repository"]
DEFAULT_MAX_BODY = 64 << 20


def _version() -> str:
    try:
        return _metadata.version("modelhub")
    except _metadata.PackageNotFoundError:
        return "0.0.0"


@dataclass(frozen=True)
class RuntimeSettings:
    runtime_secret: str
    portal_url: str = "http://127.0.0.1:8000"
    state_dir: str = "var/runtime"
    host: str = "127.0.0.1"
    port: int = 8081
    max_body: int = DEFAULT_MAX_BODY
    auth_ttl: float = 5.0
    auth_cache_size: int = 10_000
    portal_timeout: float = 2.0
    # sha256 hex digests of keys that may call every model, checked here instead of asking the portal
    # (MODELHUB_RUNTIME_KEYS: a runtime without a portal, e.g. a benchmark or a single-team host).
    static_key_hashes: tuple[str, ...] = ()
    # Models loaded at startup (a single-model runtime, as a KServe ServingRuntime starts it).
    preload: tuple[ModelConfig, ...] = ()
    version: str = _version()
    # Monitoring windows (MODELHUB_RUNTIME_MONITORING=0 turns recording off, e.g. to measure its cost).
    monitoring: bool = True
    monitoring_window_seconds: int = WINDOW_SECONDS
    monitoring_ship_interval: float = 10.0


class HTTPError(Exception):
    def __init__(self, status: int, message: str, headers: tuple = ()):
        super().__init__(message)
        self.status = status
        self.headers = headers


_JSON = b"application/json"
# Mirrored shadow calls in flight at once; past it copies are shed (counted in the shadow's window).
MAX_MIRRORS = 64


def agreement(live: dict, shadow: dict) -> dict:
    """How a shadow's outputs compare with the live model's for one request, per output both have: rows, rows
    whose label differs (integer, boolean and text outputs), the sum of absolute differences and the values
    compared (float outputs), or `mismatched` when the shapes differ."""
    out = {}
    for name, a in live.items():
        b = shadow.get(name)
        if b is None:
            continue
        rows = a.shape[0] if a.ndim else 1
        if a.shape != b.shape:
            out[name] = {"rows": rows, "mismatched": rows}
        elif a.dtype.kind in "biuOSU" or b.dtype.kind in "biuOSU":
            differ = (a != b).reshape(rows, -1).any(axis=1) if a.ndim else np.array([a != b])
            out[name] = {"rows": rows, "differ": int(differ.sum())}
        else:
            diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
            finite = np.isfinite(diff)
            out[name] = {"rows": rows, "abs_diff": float(diff[finite].sum()), "values": int(finite.sum())}
    return out


_LOAD_FIELDS = {
    "path": str,
    "sha256": str,
    "version": str,
    "max_batch_size": int,
    "max_batch_delay_ms": float,
    "timeout_ms": int,
    "memory_limit_bytes": int,
    "intra_op_threads": int,
    "shadow_of": str,
}


def _not_found(name: str) -> HTTPError:
    # The same words whether the model does not exist or the caller may not know it exists.
    return HTTPError(404, f"model '{name}' is not found")


def _error_body(message: str) -> bytes:
    return orjson.dumps({"error": message})


class RuntimeApp:
    """The ASGI application. `create_app` builds it."""

    def __init__(
        self,
        host: ModelHost,
        *,
        auth: Authorizer,
        metrics: RuntimeMetrics,
        settings: RuntimeSettings,
        monitoring: Monitoring | None = None,
        shipper=None,
    ):
        self.host = host
        self.auth = auth
        self.metrics = metrics
        self.settings = settings
        self.monitoring = monitoring or Monitoring(window_seconds=settings.monitoring_window_seconds)
        self.shipper = shipper
        self._record = settings.monitoring
        # Request ids made here: unique within this process (the prefix) and cheap (a counter).
        self._id_prefix = secrets.token_hex(6) + "-"
        self._ids = itertools.count(1)
        self._metadata: dict[str, tuple[ModelInfo, bytes]] = {}
        # Shadow evaluation: live model -> the candidate loaded with `shadow_of` it, and the mirrored calls in flight.
        self._shadows: dict[str, str] = {}
        self._shadow_names: frozenset[str] = frozenset()
        self._mirrors: set[asyncio.Task] = set()
        server = protocol.server_metadata(settings.version, EXTENSIONS)
        self._open_routes = {
            "/v2/health/live": orjson.dumps({"live": True}),
            "/v2/health/ready": orjson.dumps({"ready": True}),
            "/v2": server,
            "/v2/": server,
        }

    # ------------------------------------------------------------------------------------------- plumbing

    async def __call__(self, scope, receive, send):
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive, send):
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # The endpoints this runtime served before a restart come back before it takes traffic.
                restore = getattr(self.host, "restore", None)
                if restore is not None:
                    for config in await restore():
                        self._shadow(config.name, config.shadow_of)
                for config in self.settings.preload:
                    await self.host.load(config)
                if self.shipper is not None:
                    self.shipper.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    if self.shipper is not None:
                        await self.shipper.close()
                    await self.host.close()
                    await self.auth.close()
                finally:
                    await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    async def _respond(send, status: int, body: bytes, content_type: bytes = _JSON, headers: tuple = ()):
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", b"%d" % len(body)), *headers],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _read_body(self, receive, content_length: bytes | None) -> bytes:
        limit = self.settings.max_body
        if content_length is not None:
            try:
                declared = int(content_length)
            except ValueError:
                raise HTTPError(400, "Content-Length must be an integer") from None
            if declared > limit:
                raise HTTPError(413, f"the body of {declared} bytes is over the limit of {limit} bytes")
        message = await receive()
        body = message.get("body", b"")
        if not message.get("more_body"):
            return body
        chunks = [body]
        size = len(body)
        while message.get("more_body"):
            message = await receive()
            if message["type"] == "http.disconnect":
                raise HTTPError(400, "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise HTTPError(413, f"the body is over the limit of {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _http(self, scope, receive, send):
        path = scope["path"]
        method = scope["method"]
        try:
            if path.startswith("/v2/models/"):
                if method == "POST" and path.endswith("/infer"):
                    return await self._infer(scope, receive, send, path)
                status, body = await self._model_route(scope, method, path)
            elif path in self._open_routes:
                if method not in ("GET", "HEAD"):
                    raise HTTPError(405, f"{method} is not allowed on {path}")
                status, body = 200, self._open_routes[path]
            elif path == "/metrics":
                if method != "GET":
                    raise HTTPError(405, f"{method} is not allowed on {path}")
                return await self._respond(send, 200, self.metrics.render(), self.metrics.content_type.encode())
            elif path.startswith("/v2/repository/"):
                status, body = await self._repository(scope, receive, method, path)
            else:
                raise HTTPError(404, f"no route {path}")
        except HTTPError as exc:
            return await self._respond(send, exc.status, _error_body(str(exc)), headers=exc.headers)
        except protocol.ProtocolError as exc:
            return await self._respond(send, exc.status, _error_body(str(exc)))
        except Exception:
            log.exception("%s %s failed", method, path)
            return await self._respond(send, 500, _error_body("internal error"))
        await self._respond(send, status, body)

    @staticmethod
    def _headers(scope) -> tuple:
        authorization = key = header_length = content_length = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-length":
                content_length = value
            elif name == b"inference-header-content-length":
                header_length = value
            elif name == b"x-modelhub-key":
                key = value
            elif name == b"content-encoding" and value.lower() != b"identity":
                raise HTTPError(
                    415, f"Content-Encoding {value.decode('latin-1')!r} is not supported; send the body uncompressed"
                )
        return authorization, key, header_length, content_length

    def _require_secret(self, authorization: bytes | None) -> None:
        if not secret_matches(authorization, self.settings.runtime_secret):
            raise HTTPError(
                401,
                "this route needs the runtime secret: Authorization: Bearer <secret>",
                ((b"www-authenticate", b"Bearer"),),
            )

    async def _authorize(self, name: str, authorization: bytes | None, key: bytes | None) -> None:
        credential = credential_from_headers(authorization, key)
        if credential is None:
            raise HTTPError(
                401,
                "credentials required: Authorization: Bearer <endpoint key>, "
                "Authorization: Token <API token> or X-Modelhub-Key: <endpoint key>",
                ((b"www-authenticate", b"Bearer"),),
            )
        if not MODEL_NAME.fullmatch(name):
            raise _not_found(name)
        try:
            decision = await self.auth.authorize(name, credential_sha256(credential))
        except AuthorizerUnavailable as exc:
            raise HTTPError(503, f"credentials cannot be checked now: {exc}") from None
        if decision == ALLOWED:
            return
        if decision == NOT_FOUND:
            raise _not_found(name)
        if decision == FORBIDDEN:
            raise HTTPError(403, f"this credential may not call model '{name}'")
        raise HTTPError(401, "invalid or revoked credential", ((b"www-authenticate", b"Bearer"),))

    def _unavailable_or_missing(self, name: str) -> HTTPError:
        for entry in self.host.index():
            if entry.get("name") == name:
                reason = entry.get("reason") or entry.get("state", "not ready")
                return HTTPError(503, f"model '{name}' is not ready: {reason}")
        return _not_found(name)

    @staticmethod
    def _split_model_path(path: str) -> tuple[str, str | None, str]:
        """/v2/models/{name}[/versions/{v}][/{action}] -> (name, version, action)."""
        parts = path[len("/v2/models/") :].split("/")
        name, rest, version = parts[0], parts[1:], None
        if len(rest) >= 2 and rest[0] == "versions":
            version, rest = rest[1], rest[2:]
        if len(rest) > 1 or (rest and rest[0] not in ("ready", "infer", "stats")) or not name:
            raise HTTPError(404, f"no route {path}")
        return name, version, rest[0] if rest else ""

    def _ready_info(self, name: str, version: str | None) -> ModelInfo:
        info = self.host.info(name)
        if info is None:
            raise self._unavailable_or_missing(name)
        if version is not None and version not in info.versions:
            raise HTTPError(404, f"model '{name}' has no version '{version}'")
        return info

    def _metadata_bytes(self, info: ModelInfo) -> bytes:
        cached = self._metadata.get(info.name)
        if cached is None or (cached[0] is not info and cached[0] != info):
            cached = self._metadata[info.name] = (info, protocol.model_metadata(info))
        return cached[1]

    # --------------------------------------------------------------------------------------------- routes

    async def _model_route(self, scope, method: str, path: str) -> tuple[int, bytes]:
        name, version, action = self._split_model_path(path)
        authorization, key, _, _ = self._headers(scope)
        if action == "infer":
            raise HTTPError(405, f"{method} is not allowed on {path}; use POST")
        if method != "GET":
            raise HTTPError(405, f"{method} is not allowed on {path}")
        if action == "stats":
            self._require_secret(authorization)
            if self.host.info(name) is None and not any(e.get("name") == name for e in self.host.index()):
                raise _not_found(name)
            return 200, orjson.dumps({**self.monitoring.stats(name), "last_hour": self.metrics.last_hour(name)})
        await self._authorize(name, authorization, key)
        info = self._ready_info(name, version)
        if action == "ready":
            return 200, orjson.dumps({"name": name, "ready": True})
        return 200, self._metadata_bytes(info)

    async def _infer(self, scope, receive, send, path: str):
        started = perf_counter()
        self.metrics.request_started()
        label, status = UNKNOWN_MODEL, 500
        request = outputs = info = None
        try:
            try:
                name, version, action = self._split_model_path(path)
                if self.host.info(name) is not None:
                    label = name  # refusals of a loaded model count under its name, others under _unknown
                authorization, key, header_length, content_length = self._headers(scope)
                await self._authorize(name, authorization, key)
                info = self._ready_info(name, version)
                label = name
                body = await self._read_body(receive, content_length)
                request = protocol.parse_infer_request(
                    body, protocol.parse_header_length(header_length, len(body)), info
                )
                if request.id is None:
                    request.id = f"{self._id_prefix}{next(self._ids):x}"
                outputs = await self.host.infer(name, request.inputs, request.output_names)
                payload, json_length = protocol.encode_infer_response(info, request, outputs)
            except HTTPError as exc:
                status, payload, headers, content_type = exc.status, _error_body(str(exc)), exc.headers, _JSON
            except protocol.ProtocolError as exc:
                status, payload, headers, content_type = exc.status, _error_body(str(exc)), (), _JSON
            except ModelNotFound:
                status, payload, headers, content_type = 404, _error_body(str(_not_found(name))), (), _JSON
            except (ModelLoadError, InferenceInputError) as exc:
                status, payload, headers, content_type = 400, _error_body(str(exc)), (), _JSON
            except InferenceTimeout as exc:
                status, payload, headers, content_type = 504, _error_body(str(exc) or "inference timed out"), (), _JSON
            except ModelUnavailable as exc:
                status, payload, headers, content_type = 503, _error_body(str(exc) or "model unavailable"), (), _JSON
            except Exception:
                log.exception("POST %s failed", path)
                status, payload, headers, content_type = 500, _error_body("internal error"), (), _JSON
            else:
                status = 200
                if json_length is None:
                    headers, content_type = (), _JSON
                else:
                    headers = ((b"inference-header-content-length", b"%d" % json_length),)
                    content_type = b"application/octet-stream"
            await self._respond(send, status, payload, content_type, headers)
        finally:
            elapsed = perf_counter() - started
            self.metrics.request_finished(label, status, elapsed)
        if not self._record or label == UNKNOWN_MODEL or label in self._shadow_names:
            return  # a shadow's window holds mirrored traffic only, not the portal's checks of it
        # After the response is on its way: the client does not wait for the bookkeeping.
        try:
            version = info.versions[-1] if info is not None and info.versions else ""
            if status == 200:
                self.monitoring.observe(
                    info.name, request.inputs, outputs, request_id=request.id, latency=elapsed, version=version
                )
                shadow = self._shadows.get(info.name)
                if shadow is not None:
                    self._mirror(shadow, request, outputs)
            else:
                self.monitoring.failure(label, version=version)
        except Exception:
            log.exception("monitoring of model %s failed", label)

    def _mirror(self, shadow: str, request, live_outputs: dict) -> None:
        """Send a copy of a live request to its shadow, after the live answer is on its way; at most MAX_MIRRORS at
        once (past that the copy is shed and counted), so a slow candidate never holds up the live model."""
        if len(self._mirrors) >= MAX_MIRRORS:
            self.monitoring.shed(shadow)
            return
        task = asyncio.ensure_future(self._shadow_infer(shadow, request, live_outputs))
        self._mirrors.add(task)
        task.add_done_callback(self._mirrors.discard)

    async def _shadow_infer(self, shadow: str, request, live_outputs: dict) -> None:
        info = self.host.info(shadow)
        version = info.versions[-1] if info is not None and info.versions else ""
        started = perf_counter()
        try:
            outputs = await self.host.infer(shadow, request.inputs, None)
        except Exception as exc:  # the candidate refused or failed: counted, never seen by the caller
            log.debug("shadow %s failed: %s", shadow, exc)
            self.monitoring.failure(shadow, version=version)
            return
        elapsed = perf_counter() - started
        try:
            self.monitoring.observe(
                shadow,
                request.inputs,
                outputs,
                request_id=request.id,
                latency=elapsed,
                version=version,
                agreement=agreement(live_outputs, outputs),
            )
        except Exception:
            log.exception("monitoring of shadow %s failed", shadow)

    async def _repository(self, scope, receive, method: str, path: str) -> tuple[int, bytes]:
        if method != "POST":
            raise HTTPError(405, f"{method} is not allowed on {path}; use POST")
        authorization, _, _, content_length = self._headers(scope)
        self._require_secret(authorization)
        body = await self._read_body(receive, content_length)
        doc = self._json_object(body)
        if path == "/v2/repository/index":
            ready_only = doc.get("ready") is True
            entries = [e for e in self.host.index() if not ready_only or e.get("state") == "READY"]
            return 200, orjson.dumps(entries)
        parts = path[len("/v2/repository/models/") :].split("/") if path.startswith("/v2/repository/models/") else []
        if len(parts) != 2 or parts[1] not in ("load", "unload"):
            raise HTTPError(404, f"no route {path}")
        name, action = parts
        if not MODEL_NAME.fullmatch(name):
            raise HTTPError(400, f"model name {name!r} must match {MODEL_NAME.pattern}")
        if action == "unload":
            try:
                await self.host.unload(name)
            except ModelNotFound:
                raise _not_found(name) from None
            self._shadows = {live: s for live, s in self._shadows.items() if name not in (live, s)}
            self._shadow_names = frozenset(self._shadows.values())
            self._metadata.pop(name, None)
            self.metrics.forget(name)
            self.monitoring.forget(name)
            return 200, orjson.dumps({"name": name, "unload": True})
        config = self._load_config(name, doc.get("parameters"))
        if config.shadow_of and not MODEL_NAME.fullmatch(config.shadow_of):
            raise HTTPError(400, f"load parameter 'shadow_of' must be a model name matching {MODEL_NAME.pattern}")
        if config.shadow_of == name:
            raise HTTPError(400, "a model cannot shadow itself")
        try:
            info = await self.host.load(config)
        except ModelLoadError as exc:
            raise HTTPError(400, f"model '{name}' could not be loaded: {exc}") from None
        self._metadata.pop(name, None)
        self._shadow(name, config.shadow_of)
        return 200, orjson.dumps({"name": name, "load": True, "versions": list(info.versions)})

    def _shadow(self, name: str, shadow_of: str) -> None:
        """Record that `name` shadows `shadow_of` (or nothing, when empty): one shadow per live model, so a new one
        replaces the last."""
        shadows = {live: s for live, s in self._shadows.items() if s != name}
        if shadow_of:
            shadows[shadow_of] = name
        self._shadows, self._shadow_names = shadows, frozenset(shadows.values())

    @staticmethod
    def _json_object(body: bytes) -> dict:
        if not body.strip():
            return {}
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise HTTPError(400, f"malformed JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise HTTPError(400, "the body must be a JSON object")
        return doc

    @staticmethod
    def _load_config(name: str, parameters) -> ModelConfig:
        if not isinstance(parameters, dict):
            raise HTTPError(400, 'load needs {"parameters": {"path": ..., ...}}')
        unknown = sorted(set(parameters) - set(_LOAD_FIELDS))
        if unknown:
            raise HTTPError(400, f"unknown load parameter(s) {unknown}; known: {sorted(_LOAD_FIELDS)}")
        if not isinstance(parameters.get("path"), str) or not parameters["path"]:
            raise HTTPError(400, "load parameter 'path' (the .onnx file) is required")
        fields = {}
        for key, value in parameters.items():
            kind = _LOAD_FIELDS[key]
            if key == "version" and type(value) is int:
                value = str(value)
            if kind is float and type(value) is int:
                value = float(value)
            if type(value) is not kind or (kind in (int, float) and value < 0):
                raise HTTPError(
                    400, f"load parameter {key!r} must be a {'non-negative ' if kind is not str else ''}{kind.__name__}"
                )
            fields[key] = value
        return ModelConfig(name=name, **fields)


def create_app(
    host: ModelHost,
    *,
    auth: Authorizer,
    metrics: RuntimeMetrics,
    settings: RuntimeSettings,
    monitoring: Monitoring | None = None,
    shipper=None,
) -> RuntimeApp:
    """The ASGI app over `host`; the host should call `metrics.observe_batch(model, size)` per batch."""
    return RuntimeApp(host, auth=auth, metrics=metrics, settings=settings, monitoring=monitoring, shipper=shipper)
