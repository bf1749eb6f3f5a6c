"""Closed monitoring windows go to the portal, through files in the state folder so none is lost.

A closed window (registry/runtime/windows.py) is written at once to `<state_dir>/monitoring/spool/` (written
to a temporary name, then renamed: a reader never sees half a file). Every `interval` seconds the shipper
closes the windows whose time has passed and posts the spooled ones, oldest first and a few at a time, to
`POST {portal}/api/v1/internal/runtime/monitoring` with the runtime secret; a file is removed only once the
portal has answered 200, so a portal that is down, a restart of the runtime or a crash between the post and
the answer costs nothing (the portal ignores a window id it has stored already). A window the portal refuses
as malformed (400) is moved to `rejected/` rather than retried forever. The spool keeps at most `max_files`
windows; past that the oldest are dropped with a warning (a runtime cut off from its portal for days).

On shutdown the open windows are closed, spooled and sent once more with a short timeout.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from pathlib import Path

import httpx
import orjson

log = logging.getLogger("registry.runtime.shipper")

MONITORING_PATH = "/api/v1/internal/runtime/monitoring"
BATCH_WINDOWS = 20
BATCH_BYTES = 2 << 20  # under Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)
MAX_SPOOL_FILES = 20_000


class WindowSpool:
    """The closed windows not yet delivered, one JSON file each, named so that names sort by time."""

    def __init__(self, folder: str | Path, *, max_files: int = MAX_SPOOL_FILES):
        self.folder = Path(folder)
        self.rejected = self.folder.parent / "rejected"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_files = max_files

    def put(self, window: dict) -> Path:
        name = f"{int(window['start']):012d}-{window['id']}.json"
        path = self.folder / name
        partial = self.folder / f".{name}.partial"
        partial.write_bytes(orjson.dumps(window, option=orjson.OPT_SERIALIZE_NUMPY))
        os.replace(partial, path)
        self._trim()
        return path

    def pending(self) -> list[Path]:
        return sorted(p for p in self.folder.iterdir() if p.suffix == ".json" and not p.name.startswith("."))

    def batch(self, *, windows: int = BATCH_WINDOWS, max_bytes: int = BATCH_BYTES) -> list[tuple[Path, bytes]]:
        chosen, size = [], 0
        for path in self.pending()[:windows]:
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                continue
            if chosen and size + len(raw) > max_bytes:
                break
            chosen.append((path, raw))
            size += len(raw)
        return chosen

    def remove(self, paths) -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    def reject(self, paths) -> None:
        self.rejected.mkdir(parents=True, exist_ok=True)
        for path in paths:
            if path.exists():
                os.replace(path, self.rejected / path.name)

    def _trim(self) -> None:
        pending = self.pending()
        excess = len(pending) - self.max_files
        if excess > 0:
            log.warning("monitoring spool over %s windows: dropping the %s oldest", self.max_files, excess)
            self.remove(pending[:excess])


def source_id(state_dir: str | Path) -> str:
    """This runtime's name in the windows it sends: the host name and a token kept in the state folder, so a
    restarted runtime is the same source and two replicas are two."""
    path = Path(state_dir) / "monitoring" / "source"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        value = f"{socket.gethostname()[:40]}-{secrets.token_hex(4)}"
        path.write_text(value)
        return value


class WindowShipper:
    def __init__(
        self,
        monitoring,
        spool: WindowSpool,
        *,
        portal_url: str,
        runtime_secret: str,
        source: str,
        interval: float = 10.0,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.monitoring = monitoring
        self.spool = spool
        self.source = source
        self.interval = interval
        self._url = portal_url.rstrip("/") + MONITORING_PATH
        self._headers = {"Authorization": f"Bearer {runtime_secret}", "Content-Type": "application/json"}
        self._timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task | None = None
        self.delivered = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.tick()
            except Exception:
                log.exception("shipping monitoring windows failed")

    async def tick(self, *, timeout: float | None = None) -> int:
        """Close the windows that are due and send what is spooled; returns how many windows the portal took."""
        self.monitoring.close_due()
        sent = 0
        while True:
            batch = self.spool.batch()
            if not batch:
                return sent
            body = b'{"source":' + orjson.dumps(self.source) + b',"windows":[' + b",".join(r for _, r in batch) + b"]}"
            try:
                response = await self._http().post(
                    self._url, content=body, headers=self._headers, timeout=timeout or self._timeout
                )
            except httpx.HTTPError as exc:
                log.warning("the portal did not take %s monitoring windows: %s", len(batch), type(exc).__name__)
                return sent
            paths = [p for p, _ in batch]
            if response.status_code == 200:
                self.spool.remove(paths)
                sent += len(batch)
                self.delivered += len(batch)
            elif response.status_code == 400:
                log.error("the portal refused %s monitoring windows: %s", len(batch), response.text[:500])
                self.spool.reject(paths)
            else:
                log.warning("the portal answered %s to monitoring windows", response.status_code)
                return sent

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport)
        return self._client

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        self.monitoring.close_all()
        try:
            await self.tick(timeout=2.0)
        except Exception:
            log.exception("the last shipping of monitoring windows failed; they stay spooled")
        if self._client is not None:
            await self._client.aclose()
