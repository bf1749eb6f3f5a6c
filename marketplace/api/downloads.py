"""File downloads as resumable HTTP: `Range` (one range: 206 with `Content-Range`; past the end: 416),
`Accept-Ranges`, `ETag` = the file's SHA-256 with `If-None-Match` (304) and `If-Range`, and HEAD without a body.
From S3 storage, a redirect to a presigned URL, which S3 answers the same way."""

from __future__ import annotations

import re

from django.http import FileResponse, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils.http import content_disposition_header

from registry.artifacts.storage import blob_download_url, blob_open

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 1 << 20


class RangeNotSatisfiable(Exception):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte of a `Range: bytes=...` header for a file of `size` bytes; None to send the
    whole file (no header, a form this does not serve, such as several ranges); RangeNotSatisfiable past the end."""
    found = _RANGE.match((header or "").strip())
    if not found or not (found[1] or found[2]):
        return None
    if not found[1]:  # the last N bytes
        suffix = int(found[2])
        if suffix == 0:
            raise RangeNotSatisfiable
        return max(size - suffix, 0), size - 1
    first = int(found[1])
    last = min(int(found[2]), size - 1) if found[2] else size - 1
    if first >= size or last < first:
        raise RangeNotSatisfiable
    return first, last


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = [part.strip() for part in header.split(",")]
    return "*" in candidates or any(c.removeprefix("W/") == etag for c in candidates)


def _stream(blob, first: int, length: int):
    with blob_open(blob) as file:
        file.seek(first)
        left = length
        while left > 0:
            chunk = file.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def file_response(request, blob, *, filename: str, ttl: int, headers: dict | None = None) -> HttpResponse:
    """The blob as the answer to GET or HEAD `request`, honouring its conditional and range headers."""
    etag = f'"{blob.sha256}"'
    common = {"ETag": etag, "Accept-Ranges": "bytes", "X-Checksum-SHA256": blob.sha256, **(headers or {})}
    if _etag_matches(request.headers.get("If-None-Match"), etag):
        response = HttpResponse(status=304)
    elif url := blob_download_url(blob, filename=filename, ttl=ttl):
        response = HttpResponseRedirect(url)
    else:
        response = _local(request, blob, filename=filename, etag=etag)
    for name, value in common.items():
        response[name] = value
    return response


def _local(request, blob, *, filename: str, etag: str) -> HttpResponse:
    size = blob.size
    if_range = request.headers.get("If-Range")
    try:
        wanted = byte_range(request.headers.get("Range"), size) if not if_range or if_range == etag else None
    except RangeNotSatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    if request.method == "HEAD":
        response = HttpResponse(content_type="application/octet-stream")
        response["Content-Length"] = str(size)
    elif wanted is None:
        response = FileResponse(blob_open(blob), as_attachment=True, filename=filename)
    else:
        first, last = wanted
        response = StreamingHttpResponse(
            _stream(blob, first, last - first + 1), status=206, content_type="application/octet-stream"
        )
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def starts_a_transfer(request, response) -> bool:
    """Whether the answer starts a download: a GET sending the file from its first byte (or redirecting to it). A
    resumed transfer, HEAD and 304 do not, so the audit trail counts one download per transfer."""
    wanted = (request.headers.get("Range") or "").replace(" ", "")
    resumed = wanted.startswith("bytes=") and not wanted.startswith("bytes=0-")
    return request.method == "GET" and response.status_code in (200, 206, 302) and not resumed
