"""One file's bytes from a download URL, resumed at an offset, on the standard library's HTTP client.

httpx reads a response 64 KiB at a time through h11, which holds a pull to about three quarters of curl's throughput
on loopback; `http.client` reads straight into 1 MiB buffers and keeps pace with curl (tests/benchmarks/transfer.py).
Redirects (to a presigned S3 URL) are followed without the Modelhub credentials, which only go to the portal's own
origin; HTTP(S)_PROXY and NO_PROXY are honoured as httpx honours them.
"""

from __future__ import annotations

import http.client
import ssl
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

REDIRECTS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 5


class DownloadError(Exception):
    """The server refused the download: `status` and the answer's `body` (a few KiB at most)."""

    def __init__(self, status: int, reason: str, body: bytes):
        super().__init__(f"{status} {reason}")
        self.status, self.reason, self.body = status, reason, body


@dataclass
class Download:
    status: int
    chunks: Iterator[bytes]


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port


def _connect(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    """A connection for `url` and the request target to send on it (absolute through a plain HTTP proxy)."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    secure = parts.scheme == "https"
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and urllib.request.proxy_bypass(parts.hostname or ""):
        proxy = None
    connection_class = http.client.HTTPSConnection if secure else http.client.HTTPConnection
    extra = {"context": ssl.create_default_context()} if secure else {}
    if not proxy:
        return connection_class(parts.hostname, parts.port, timeout=timeout, **extra), target
    via = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if secure:  # a CONNECT tunnel through the proxy, TLS to the server
        connection = http.client.HTTPSConnection(via.hostname, via.port or 8080, timeout=timeout, **extra)
        connection.set_tunnel(parts.hostname, parts.port or 443)
        return connection, target
    return http.client.HTTPConnection(via.hostname, via.port or 8080, timeout=timeout), url


def open_download(
    url: str, *, offset: int, credentials: dict[str, str], origin: str, timeout: float, chunk: int
) -> Download:
    """GET `url` from byte `offset` (a `Range` request past 0). `credentials` (headers) go to `origin` only.

    OSError and http.client.HTTPException propagate (the caller says the server is unreachable); a 4xx or 5xx is a
    DownloadError. The chunks raise the same errors when the transfer breaks off midway."""
    headers = {"Accept-Encoding": "identity", "User-Agent": "modelhub-client"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    for _ in range(MAX_REDIRECTS + 1):
        connection, target = _connect(url, timeout)
        sent = {**headers, **(credentials if _origin(url) == _origin(origin) else {})}
        try:
            connection.request("GET", target, headers=sent)
            response = connection.getresponse()
        except BaseException:
            connection.close()
            raise
        if response.status in REDIRECTS and response.getheader("Location"):
            response.read(65536)
            connection.close()
            url = urljoin(url, response.getheader("Location"))
            continue
        if response.status >= 400:
            body = response.read(65536)
            connection.close()
            raise DownloadError(response.status, response.reason, body)
        return Download(response.status, _chunks(connection, response, chunk))
    raise DownloadError(310, "Too many redirects", b"")


def _chunks(connection: http.client.HTTPConnection, response: http.client.HTTPResponse, size: int) -> Iterator[bytes]:
    try:
        while chunk := response.read(size):
            yield chunk
        if response.length:  # the body ended before its Content-Length
            raise http.client.IncompleteRead(b"", response.length)
    finally:
        connection.close()
