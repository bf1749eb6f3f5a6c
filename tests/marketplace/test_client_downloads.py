"""The client's download path (marketplace/client/downloads.py): credentials only to the portal's origin across a
redirect (a presigned S3 URL refuses a second credential), HTTP proxies from the environment, errors."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from marketplace.client.downloads import DownloadError, open_download

DATA = bytes(range(256)) * 4096  # 1 MiB


class _Server(BaseHTTPRequestHandler):
    """`/redirect` sends to `target`; `/file` answers DATA (from a Range); `/missing` a 404. Records what it got."""

    seen: list
    target = ""

    def do_GET(self):
        self.seen.append((self.server.server_address[1], self.path, dict(self.headers)))
        if self.path.endswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", self.target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.endswith("/missing"):
            body = b'{"detail": "No such file."}'
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        start = int(self.headers.get("Range", "bytes=0-")[6:].rstrip("-") or 0)
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(DATA) - start))
        self.end_headers()
        self.wfile.write(DATA[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def servers():
    _Server.seen = []
    started = []
    for _ in range(2):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
    yield [f"http://127.0.0.1:{s.server_address[1]}" for s in started]
    for server in started:
        server.shutdown()


def fetch(url, origin, offset=0):
    download = open_download(
        url, offset=offset, credentials={"Authorization": "Bearer mht_x"}, origin=origin, timeout=10, chunk=65536
    )
    return download.status, b"".join(download.chunks)


def test_credentials_go_to_the_portal_only_not_to_where_it_redirects(servers, monkeypatch):
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    portal, bucket = servers
    _Server.target = f"{bucket}/blobs/file?X-Amz-Signature=abc"
    status, body = fetch(f"{portal}/api/redirect", portal, offset=1000)
    assert status == 206 and body == DATA[1000:]
    (_, _, to_portal), (_, path, to_bucket) = _Server.seen
    assert to_portal["Authorization"] == "Bearer mht_x" and "Authorization" not in to_bucket
    assert path == "/blobs/file?X-Amz-Signature=abc" and to_bucket["Range"] == "bytes=1000-"


def test_a_refusal_carries_the_status_and_the_server_message(servers):
    portal, _ = servers
    with pytest.raises(DownloadError) as refused:
        fetch(f"{portal}/missing", portal)
    assert refused.value.status == 404 and b"No such file." in refused.value.body


def test_an_http_proxy_from_the_environment_is_used(servers, monkeypatch):
    proxy, portal = servers
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.delenv("no_proxy", raising=False)
    status, body = fetch(f"{portal}/file", portal)
    # The proxy got the request with the absolute URL as its target (and served it: this stand-in answers itself).
    assert status == 200 and body == DATA
    ((port, target, _),) = _Server.seen
    assert f"127.0.0.1:{port}" in proxy and target == f"{portal}/file"
