"""The client's local cache, shared by every process of the user and laid out as Hugging Face's hub cache:

    {cache}/models--{team}--{asset}/
        blobs/{sha256}                  each file's bytes, once, named by their digest
        refs/{revision}                 the version an alias (or a version) resolved to when last pulled
        snapshots/{version}/{path}      relative symlinks into blobs/, one tree per version

A blob is downloaded to `blobs/{sha256}.incomplete`, resumed from where it stopped with a Range request, hashed as
it arrives and published by rename only when its digest is right; a file lock per blob makes concurrent pulls of
the same blob download it once. A blob in the cache is hashed again before it is used, so a flipped byte is found
and the blob fetched again.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

CHUNK = 1 << 20


class IntegrityError(Exception):
    """Downloaded or cached bytes do not match their SHA-256."""


def repo_folder(root: Path, team: str, asset: str) -> Path:
    return root / f"models--{team}--{asset}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def ref_read(folder: Path, revision: str) -> str | None:
    try:
        return (folder / "refs" / revision).read_text().strip() or None
    except OSError:
        return None


def ref_write(folder: Path, revision: str, version: str) -> None:
    refs = folder / "refs"
    refs.mkdir(parents=True, exist_ok=True)
    temporary = refs / f".{revision}.{os.getpid()}.tmp"
    temporary.write_text(version)
    os.replace(temporary, refs / revision)


def snapshot_link(folder: Path, version: str, path: str, sha256: str) -> Path:
    """snapshots/{version}/{path} -> ../../blobs/{sha256} (relative, as Hugging Face links them)."""
    target = folder / "snapshots" / version / path
    target.parent.mkdir(parents=True, exist_ok=True)
    relative = os.path.relpath(folder / "blobs" / sha256, target.parent)
    if target.is_symlink() and os.readlink(target) == relative:
        return target
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    os.symlink(relative, temporary)
    os.replace(temporary, target)
    return target


# A function that streams bytes from `offset`: yields chunks, and says (by its first value) whether the server
# resumed at `offset` (True) or sent the whole file again (False).
Fetch = Callable[[int], tuple[bool, object]]


def blob_fetch(folder: Path, sha256: str, size: int, fetch: Fetch, *, progress=None) -> Path:
    """The blob `sha256` in the cache, downloaded with `fetch(offset)` if it is missing or damaged."""
    blobs = folder / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    final = blobs / sha256
    with FileLock(str(blobs / f"{sha256}.lock")):
        if final.exists():
            if file_sha256(final) == sha256:
                if progress is not None:
                    progress(size, size)
                return final
            final.unlink()  # damaged in the cache: fetched again below
        partial = blobs / f"{sha256}.incomplete"
        digest = hashlib.sha256()
        offset = partial.stat().st_size if partial.exists() else 0
        if offset > size:
            partial.unlink()
            offset = 0
        if offset:
            with open(partial, "rb") as file:  # the digest of what is there already
                while chunk := file.read(CHUNK):
                    digest.update(chunk)
        resumed, chunks = fetch(offset) if offset < size else (True, iter(()))
        if not resumed:
            digest, offset = hashlib.sha256(), 0
        received = offset
        # Disk and hash each keep pace with the network on a thread of their own instead of taking turns.
        with (
            open(partial, "ab" if resumed else "wb") as file,
            Pipeline(file.write) as writing,
            Pipeline(digest.update) as hashing,
        ):
            for chunk in chunks:
                writing.put(chunk)
                hashing.put(chunk)
                received += len(chunk)
                if progress is not None:
                    progress(received, size)
        if digest.hexdigest() != sha256:
            partial.unlink(missing_ok=True)
            raise IntegrityError(
                f"the {received} bytes received do not match the file's SHA-256 {sha256[:12]}…; removed, pull again"
            )
        os.replace(partial, final)
    return final


class Pipeline:
    """Calls `step(chunk)` on a thread of its own, in order, while the caller goes on producing chunks: hashing and
    file writes release the GIL, so they overlap the socket reads or sends of the caller's thread. At most `depth`
    chunks wait; `close()` (or leaving the `with`) waits for the last and raises what `step` raised."""

    def __init__(self, step: Callable[[bytes], None], *, depth: int = 8):
        self._step, self._queue, self._error = step, queue.Queue(maxsize=depth), None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._step(chunk)
                except BaseException as exc:  # handed to the producer's thread by close()
                    self._error = exc

    def put(self, chunk: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(chunk)

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, traceback):
        if kind is None:
            self.close()
        else:  # the producer failed: stop the thread, keep the producer's error
            self._queue.put(None)
            self._thread.join()
