"""Streaming uploads: the request body goes to a temporary file chunk by chunk, hashed on the way."""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from registry.kernel.errors import PayloadTooLarge

CHUNK = 1024 * 1024
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str) -> str:
    """The last path component of a client-supplied name, reduced to characters safe everywhere."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    cleaned = _UNSAFE_NAME_CHARS.sub("_", base).strip("._")[:200]
    return cleaned or "file"


def human_size(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError


def upload_too_large(size: int | None = None) -> PayloadTooLarge:
    limit = settings.MODELHUB_MAX_UPLOAD_SIZE
    seen = f" ({human_size(size)})" if size else ""
    return PayloadTooLarge(f"The upload{seen} is over the limit of {human_size(limit)}.")


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Writes each uploaded file to disk while computing its SHA-256; stops past the size limit.

    `authorize`, when given, is called before the first byte of the body is read; an exception
    from it ends the request before anything is received.
    """

    chunk_size = CHUNK

    def __init__(self, request=None, *, authorize=None):
        super().__init__(request)
        self._authorize = authorize

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if self._authorize is not None:
            self._authorize()
        return super().handle_raw_input(input_data, META, content_length, boundary, encoding)

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self._digest = hashlib.sha256()
        self._received = 0

    def receive_data_chunk(self, raw_data, start):
        self._received += len(raw_data)
        if self._received > settings.MODELHUB_MAX_UPLOAD_SIZE:
            self.file.close()  # deletes the partial temporary file
            raise upload_too_large()
        self._digest.update(raw_data)
        self.file.write(raw_data)

    def file_complete(self, file_size):
        uploaded = super().file_complete(file_size)
        uploaded.sha256 = self._digest.hexdigest()
        return uploaded


@dataclass(frozen=True)
class StagedFile:
    """A complete local file ready to be stored: what services accept as an upload."""

    name: str
    path: Path
    sha256: str
    size: int

    @classmethod
    def from_upload(cls, uploaded) -> "StagedFile":
        return cls(
            name=uploaded.name, path=Path(uploaded.temporary_file_path()), sha256=uploaded.sha256, size=uploaded.size
        )

    @classmethod
    def from_path(cls, path: Path, name: str | None = None) -> "StagedFile":
        digest, size = hashlib.sha256(), 0
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
        return cls(name=name or Path(path).name, path=Path(path), sha256=digest.hexdigest(), size=size)
