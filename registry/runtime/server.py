"""Running the runtime: settings from the command line and the environment, the host, the HTTP server.

    python -m registry.runtime --host 127.0.0.1 --port 8081 --state-dir var/runtime \\
        --portal-url http://127.0.0.1:8000

Environment: MODELHUB_RUNTIME_SECRET (required: the portal's key to the repository routes and the
runtime's key to the portal), MODELHUB_PORTAL_URL, MODELHUB_RUNTIME_STATE_DIR, MODELHUB_RUNTIME_MAX_BODY
(bytes), MODELHUB_RUNTIME_AUTH_TTL (seconds), MODELHUB_RUNTIME_KEYS (comma-separated sha256 digests of
keys that may call every model; when set, the portal is not asked), MODELHUB_RUNTIME_MONITORING (0 turns the
monitoring windows off), MODELHUB_MONITORING_WINDOW_SECONDS (default 60) and MODELHUB_MONITORING_SHIP_INTERVAL
(seconds between deliveries of closed windows to the portal, default 10). Command-line options win over the
environment. The two secrets may come from files instead, as the portal's settings may (a mounted secret):
MODELHUB_RUNTIME_SECRET_FILE and MODELHUB_RUNTIME_KEYS_FILE.

One HTTP process: the host owns the model processes, and a second HTTP process would need a host of its
own. It runs http_server.py (uvloop and httptools, one write per response, no access log: it would cost
more than a small inference).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from registry.runtime.app import DEFAULT_MAX_BODY, RuntimeApp, RuntimeSettings, create_app
from registry.runtime.auth import PortalAuthorizer, StaticAuthorizer
from registry.runtime.interface import ModelConfig
from registry.runtime.metrics import RuntimeMetrics


class SettingsError(ValueError):
    pass


def _env_int(environ: Mapping[str, str], name: str, default: int, *, allow_zero: bool = False) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, not {raw!r}") from None
    if value < 0 or (value == 0 and not allow_zero):
        raise SettingsError(f"{name} must be positive")
    return value


def _env_float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None


# Only these: MODELHUB_MODEL_FILE names the model's file, not a file holding MODELHUB_MODEL.
_SECRETS_FROM_FILES = ("MODELHUB_RUNTIME_SECRET", "MODELHUB_RUNTIME_KEYS")


def _secrets_from_files(environ: Mapping[str, str]) -> Mapping[str, str]:
    found = {}
    for name in _SECRETS_FROM_FILES:
        path = environ.get(f"{name}_FILE")
        if path is None:
            continue
        if name in environ:
            raise SettingsError(f"{name} and {name}_FILE are both set: set one of them")
        try:
            found[name] = Path(path).read_text().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{name}_FILE={path!r} cannot be read: {exc}") from None
    return {**environ, **found} if found else environ


def parse_settings(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> RuntimeSettings:
    """Settings from `argv` over `environ`; raises SettingsError on a missing secret or a bad value."""
    environ = _secrets_from_files(os.environ if environ is None else environ)
    parser = argparse.ArgumentParser(
        prog="python -m registry.runtime", description="Modelhub's Open Inference Protocol (KServe V2) runtime."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", "--http-port", type=int, default=8081)
    parser.add_argument("--state-dir", default=environ.get("MODELHUB_RUNTIME_STATE_DIR") or "var/runtime")
    parser.add_argument("--portal-url", default=environ.get("MODELHUB_PORTAL_URL") or "http://127.0.0.1:8000")
    parser.add_argument("--max-body", type=int, default=None, help="largest request body in bytes")
    parser.add_argument(
        "--auth-ttl", type=float, default=None, help="seconds a credential decision of the portal is cached (default 5)"
    )
    parser.add_argument("--model-name", help="with --model-dir: serve this one model from the start")
    parser.add_argument("--model-dir", help="folder holding the model (as KServe mounts it at /mnt/models)")
    args = parser.parse_args(argv)
    secret = environ.get("MODELHUB_RUNTIME_SECRET", "")
    if len(secret) < 16:
        raise SettingsError("MODELHUB_RUNTIME_SECRET must be set (16 characters or more)")
    max_body = (
        args.max_body if args.max_body is not None else _env_int(environ, "MODELHUB_RUNTIME_MAX_BODY", DEFAULT_MAX_BODY)
    )
    auth_ttl = args.auth_ttl if args.auth_ttl is not None else _env_float(environ, "MODELHUB_RUNTIME_AUTH_TTL", 5.0)
    if max_body <= 0 or auth_ttl < 0:
        raise SettingsError("--max-body must be positive and --auth-ttl not negative")
    static_keys = tuple(k.strip().lower() for k in environ.get("MODELHUB_RUNTIME_KEYS", "").split(",") if k.strip())
    if any(len(k) != 64 or any(c not in "0123456789abcdef" for c in k) for k in static_keys):
        raise SettingsError("MODELHUB_RUNTIME_KEYS must be sha256 hex digests, separated by commas")
    preload = (_single_model(args.model_name, args.model_dir, environ),) if args.model_dir else ()
    monitoring = environ.get("MODELHUB_RUNTIME_MONITORING", "1").strip().lower() not in ("0", "false", "no", "off")
    window_seconds = _env_int(environ, "MODELHUB_MONITORING_WINDOW_SECONDS", 60)
    ship_interval = _env_float(environ, "MODELHUB_MONITORING_SHIP_INTERVAL", 10.0)
    if ship_interval <= 0:
        raise SettingsError("MODELHUB_MONITORING_SHIP_INTERVAL must be positive")
    return RuntimeSettings(
        runtime_secret=secret,
        portal_url=args.portal_url,
        state_dir=args.state_dir,
        host=args.host,
        port=args.port,
        max_body=max_body,
        auth_ttl=auth_ttl,
        static_key_hashes=static_keys,
        preload=preload,
        monitoring=monitoring,
        monitoring_window_seconds=window_seconds,
        monitoring_ship_interval=ship_interval,
    )


def _single_model(name: str | None, model_dir: str, environ: Mapping[str, str]) -> ModelConfig:
    """The model a single-model runtime serves: `model_dir`/MODELHUB_MODEL_FILE (or its only .onnx file),
    with MODELHUB_MODEL_SHA256, MODELHUB_MODEL_VERSION, MODELHUB_MAX_BATCH_SIZE, MODELHUB_MAX_BATCH_DELAY_MS
    and MODELHUB_TIMEOUT_MS as the kubernetes endpoint backend sets them."""
    if not name:
        raise SettingsError("--model-dir needs --model-name")
    folder = Path(model_dir)
    if environ.get("MODELHUB_MODEL_FILE"):
        path = folder / environ["MODELHUB_MODEL_FILE"]
    else:
        candidates = sorted(folder.glob("*.onnx"))
        if len(candidates) != 1:
            raise SettingsError(f"{folder} holds {len(candidates)} .onnx files; name one with MODELHUB_MODEL_FILE")
        path = candidates[0]
    return ModelConfig(
        name=name,
        path=str(path),
        sha256=environ.get("MODELHUB_MODEL_SHA256", ""),
        version=environ.get("MODELHUB_MODEL_VERSION") or "1",
        max_batch_size=_env_int(environ, "MODELHUB_MAX_BATCH_SIZE", 0, allow_zero=True),
        max_batch_delay_ms=_env_float(environ, "MODELHUB_MAX_BATCH_DELAY_MS", 2.0),
        timeout_ms=_env_int(environ, "MODELHUB_TIMEOUT_MS", 30_000),
    )


def build_app(settings: RuntimeSettings) -> RuntimeApp:
    """The app over the process-isolating host.

    Expects `registry.runtime.host.ProcessModelHost(state_dir: str, metrics: RuntimeMetrics)`, a ModelHost
    (registry.runtime.interface) that keeps its files under `state_dir` and calls
    `metrics.observe_batch(model, size)` for every batch it runs. Imported here, not at module level, so
    the HTTP layer can be imported and tested without it.
    """
    from registry.runtime.host import ProcessModelHost
    from registry.runtime.monitoring import Monitoring
    from registry.runtime.shipper import WindowShipper, WindowSpool, source_id

    metrics = RuntimeMetrics()
    os.makedirs(settings.state_dir, exist_ok=True)
    host = ProcessModelHost(state_dir=settings.state_dir, metrics=metrics)
    if settings.static_key_hashes:
        auth = StaticAuthorizer({"*": set(settings.static_key_hashes)})
    else:
        auth = PortalAuthorizer(
            settings.portal_url,
            settings.runtime_secret,
            ttl=settings.auth_ttl,
            max_entries=settings.auth_cache_size,
            timeout=settings.portal_timeout,
        )
    spool = WindowSpool(Path(settings.state_dir) / "monitoring" / "spool")
    monitoring = Monitoring(window_seconds=settings.monitoring_window_seconds, on_close=spool.put)
    shipper = None
    if settings.monitoring:
        shipper = WindowShipper(
            monitoring,
            spool,
            portal_url=settings.portal_url,
            runtime_secret=settings.runtime_secret,
            source=source_id(settings.state_dir),
            interval=settings.monitoring_ship_interval,
        )
    return create_app(host, auth=auth, metrics=metrics, settings=settings, monitoring=monitoring, shipper=shipper)


def main(argv: list[str] | None = None) -> int:
    from registry.runtime import http_server

    try:
        settings = parse_settings(argv)
    except SettingsError as exc:
        print(f"registry.runtime: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = build_app(settings)
    http_server.run(app, host=settings.host, port=settings.port, max_body=settings.max_body)
    return 0
