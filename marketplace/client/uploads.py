"""Files of any size through the server's resumable upload sessions (POST .../uploads/).

Each file is one session: its parts go (two at a time) to the URLs the server lists, the API's or presigned S3
URLs, each retried after a dropped connection; the file is hashed once, on a thread of its own, while the parts go
out, and the session is completed with that SHA-256. The session's id is kept in `uploads.json` of the client's
state folder under the file's path, size and modification time, so a push killed midway sends only the parts the
server is missing when it runs again.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from filelock import FileLock

from marketplace.client import cache
from marketplace.client.errors import ModelhubError, error_from

PARALLEL_PARTS = 2
PART_TRIES = 5


class SessionState:
    """{file key: session id} in `uploads.json`, shared by every process of the user (a FileLock guards it)."""

    def __init__(self, folder: Path):
        self.path = folder / "uploads.json"
        self._lock = FileLock(str(folder / "uploads.json.lock"))
        folder.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(server: str, asset: str, path: Path) -> str:
        stat = path.stat()
        return f"{server}|{asset}|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._read().get(key)

    def put(self, key: str, session_id: str | None) -> None:
        with self._lock:
            data = self._read()
            if session_id is None:
                data.pop(key, None)
            else:
                data[key] = session_id
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(data))
            os.replace(temporary, self.path)


def _part_body(path: Path, offset: int, size: int, sent) -> object:
    def chunks():
        with open(path, "rb") as file:
            file.seek(offset)
            left = size
            while left:
                chunk = file.read(min(cache.CHUNK, left))
                if not chunk:
                    raise ModelhubError(f"{path} changed while it was being sent.")
                left -= len(chunk)
                sent(len(chunk))
                yield chunk

    return chunks()


class SessionUpload:
    """One file to `asset` (`team/slug`) through a session; `run()` returns the complete session's id."""

    def __init__(self, api: httpx.Client, asset: str, path: Path, state: SessionState, *, progress=None):
        self.api, self.asset, self.path, self.state = api, asset, path, state
        self.size = path.stat().st_size
        self.key = SessionState.key(str(api.base_url), asset, path)
        self._progress, self._sent, self._lock = progress, 0, threading.Lock()

    def _call(self, method: str, url: str, **kwargs) -> httpx.Response:
        response = self.api.request(method, url, **kwargs)
        if response.status_code >= 400:
            raise error_from(response.status_code, response.reason_phrase, response.content)
        return response

    def _open(self) -> dict:
        """The session to resume (the one recorded for this file, if the server still has it) or a new one."""
        known = self.state.get(self.key)
        if known:
            response = self.api.get(f"/api/v1/assets/{self.asset}/uploads/{known}")
            if response.status_code == 200 and response.json()["status"] != "failed":
                return response.json()
        session = self._call(
            "POST", f"/api/v1/assets/{self.asset}/uploads/", json={"filename": self.path.name, "size": self.size}
        ).json()
        self.state.put(self.key, session["id"])
        return session

    def _count(self, n: int) -> None:
        with self._lock:
            self._sent += n
            if self._progress is not None:
                self._progress(min(self._sent, self.size), self.size)

    def _send(self, direct: httpx.Client, part: dict) -> None:
        client = direct if part["presigned"] else self.api
        for attempt in range(1, PART_TRIES + 1):
            counted = 0

            def sent(n: int) -> None:
                nonlocal counted
                counted += n
                self._count(n)

            try:
                response = client.put(
                    part["url"],
                    content=_part_body(self.path, part["offset"], part["size"], sent),
                    headers={"Content-Length": str(part["size"]), "Content-Type": "application/octet-stream"},
                )
            except httpx.TransportError as exc:
                error: Exception = exc
            else:
                if response.status_code < 400:
                    return
                if response.status_code < 500 and response.status_code not in (408, 429):
                    raise ModelhubError(f"part {part['number']}: {response.status_code}: {response.text[:300]}")
                error = ModelhubError(f"part {part['number']}: {response.status_code}")
            self._count(-counted)
            if attempt == PART_TRIES:
                raise ModelhubError(f"part {part['number']} failed {PART_TRIES} times: {error}")
            time.sleep(min(2**attempt * 0.25, 5))

    def run(self) -> str:
        session = self._open()
        url = f"/api/v1/assets/{self.asset}/uploads/{session['id']}"
        if session["status"] == "open":
            digest = hashlib.sha256()
            hashing = threading.Thread(target=self._hash, args=(digest,), daemon=True)
            hashing.start()
            self._count(min(self.size, session["received"] * session["part_size"]))
            with httpx.Client(timeout=self.api.timeout) as direct:
                while session["status"] == "open" and session["missing"]:
                    self._send_all(direct, session["missing"])
                    session = self._call("GET", url).json()
            hashing.join()
            if session["status"] == "open":
                session = self._call("POST", f"{url}/complete", json={"sha256": digest.hexdigest()}).json()
        delay = 0.05  # the verification reads the whole file once: about a second per GiB
        while session["status"] == "verifying":
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)
            session = self._call("GET", url).json()
        if session["status"] != "complete":
            self.state.put(self.key, None)
            raise ModelhubError(f"{self.path.name}: the upload failed: {session['error']}")
        return session["id"]

    def _send_all(self, direct: httpx.Client, parts: list[dict]) -> None:
        pool = ThreadPoolExecutor(PARALLEL_PARTS)
        try:
            for done in [pool.submit(self._send, direct, part) for part in parts]:
                done.result()
        finally:
            pool.shutdown(cancel_futures=True)

    def _hash(self, digest) -> None:
        with open(self.path, "rb") as file:
            while chunk := file.read(cache.CHUNK * 4):
                digest.update(chunk)

    def forget(self) -> None:
        """After the version took the session: nothing to resume any more."""
        self.state.put(self.key, None)
