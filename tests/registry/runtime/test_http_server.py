"""The runtime's HTTP/1.1 server (registry.runtime.http_server) on raw sockets: framing, limits, keep-alive,
pipelining and shutdown, with a small ASGI app standing in for the runtime's."""

import asyncio
import socket
import threading
import time

import pytest

from tests.registry.runtime.conftest import ServerThread


class EchoApp:
    """Answers `{method} {path}?{query} {body length}`; /slow waits for `release`; /boom raises."""

    def __init__(self):
        self.release = threading.Event()
        self.started = self.stopped = False
        self.slow_started = threading.Event()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.started = True
                    await send({"type": "lifespan.startup.complete"})
                else:
                    self.stopped = True
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        message = await receive()
        if scope["path"] == "/slow":
            self.slow_started.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        if scope["path"] == "/boom":
            raise ValueError("boom")
        body = f"{scope['method']} {scope['path']}?{scope['query_string'].decode()} {len(message['body'])}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": body[:3], "more_body": True})
        await send({"type": "http.response.body", "body": body[3:]})


@pytest.fixture
def app():
    return EchoApp()


@pytest.fixture
def server(app):
    with ServerThread(app, max_body=1000, max_header_bytes=2000, keep_alive_s=0.5) as running:
        yield running


def connect(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict, bytes]:
    """One response: (status, headers, body), read by Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", 0))
    while len(rest) < length:
        rest += sock.recv(65536)
    read_response.leftover = rest[length:]
    return status, headers, rest[:length]


def closed_by_peer(sock: socket.socket) -> bool:
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_keep_alive_and_a_response_in_one_write(server):
    sock = connect(server)
    for index in range(3):
        sock.sendall(b"POST /echo/%d?x=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello" % index)
        status, headers, body = read_response(sock)
        assert (status, body) == (200, b"POST /echo/%d?x=1 5" % index)
        assert headers["content-length"] == str(len(body)) and "connection" not in headers
    sock.close()


def test_pipelined_requests_are_answered_in_order(server):
    sock = connect(server)
    sock.sendall(b"".join(b"GET /p/%d HTTP/1.1\r\nHost: t\r\n\r\n" % i for i in range(40)))
    buffered = b""
    bodies = []
    for _ in range(40):
        while b"\r\n\r\n" not in buffered or len(buffered.split(b"\r\n\r\n", 1)[1]) < int(
            buffered.split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0]
        ):
            buffered += sock.recv(65536)
        head, rest = buffered.split(b"\r\n\r\n", 1)
        length = int(head.split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
        bodies.append(rest[:length])
        buffered = rest[length:]
    assert bodies == [b"GET /p/%d? 0" % i for i in range(40)]
    sock.close()


def test_chunked_bodies_and_percent_encoded_paths(server):
    sock = connect(server)
    sock.sendall(
        b"POST /a%20b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"
    )
    assert read_response(sock)[2] == b"POST /a b? 7"
    sock.close()


def test_a_declared_body_over_the_limit_is_413_before_it_is_sent(server):
    sock = connect(server)
    sock.sendall(b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n")
    status, headers, body = read_response(sock)
    assert status == 413 and b"5000 bytes is over the limit of 1000" in body and headers["connection"] == "close"
    assert closed_by_peer(sock)


def test_a_chunked_body_over_the_limit_is_413(server):
    sock = connect(server)
    sock.sendall(
        b"POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"200\r\n"
        + b"a" * 512
        + b"\r\n"
        + b"200\r\n"
        + b"a" * 512
        + b"\r\n"
    )
    status, _, body = read_response(sock)
    assert status == 413 and b"over the limit" in body


def test_oversized_headers_are_431_and_malformed_requests_400(server):
    sock = connect(server)
    sock.sendall(b"GET /x HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 3000 + b"\r\n\r\n")
    status, _, body = read_response(sock)
    assert status == 431 and b"over 2000 bytes" in body
    assert closed_by_peer(sock)
    sock = connect(server)
    sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
    status, _, body = read_response(sock)
    assert status == 400 and b"malformed HTTP request" in body
    assert closed_by_peer(sock)


def test_requests_before_a_malformed_one_are_still_answered_first(server):
    sock = connect(server)
    sock.sendall(b"GET /first HTTP/1.1\r\nHost: t\r\n\r\nGARBAGE\r\n\r\n")
    assert read_response(sock)[2] == b"GET /first? 0"
    leftover = read_response.leftover
    assert leftover.startswith(b"HTTP/1.1 400") or read_response(sock)[0] == 400


def test_expect_100_continue(server):
    sock = connect(server)
    sock.sendall(b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
    assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    sock.sendall(b"abc")
    assert read_response(sock)[2] == b"POST /x? 3"


def test_head_gets_the_head_only_and_http10_is_closed(server):
    sock = connect(server)
    sock.sendall(b"HEAD /h HTTP/1.1\r\nHost: t\r\n\r\nGET /after HTTP/1.1\r\nHost: t\r\n\r\n")
    data = b""
    while data.count(b"HTTP/1.1 200") < 2 or not data.endswith(b"GET /after? 0"):
        data += sock.recv(65536)
    first, second = data.split(b"HTTP/1.1 200", 2)[1:]
    assert b"content-length: 10" in first and first.endswith(b"\r\n\r\n")  # "HEAD /h? 0" is not sent
    sock.close()
    sock = connect(server)
    sock.sendall(b"GET /old HTTP/1.0\r\n\r\n")
    status, headers, _ = read_response(sock)
    assert status == 200 and headers["connection"] == "close" and closed_by_peer(sock)


def test_an_app_error_is_a_json_500_and_the_connection_closes(server):
    sock = connect(server)
    sock.sendall(b"GET /boom HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = read_response(sock)
    assert (status, body) == (500, b'{"error":"internal error"}') and closed_by_peer(sock)


def test_idle_keep_alive_connections_are_closed(server):
    sock = connect(server)
    sock.sendall(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
    read_response(sock)
    started = time.monotonic()
    assert closed_by_peer(sock) and 0.3 < time.monotonic() - started < 3
    sock = connect(server)
    sock.sendall(b"GET /x HTTP/1.1\r\n")  # a request that never ends does not hold the connection
    assert closed_by_peer(sock)


def test_stop_finishes_requests_in_flight_then_runs_the_shutdown(app):
    running = ServerThread(app, max_body=1000)
    with running:
        assert app.started
        sock = connect(running)
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        assert app.slow_started.wait(5)
        running.server.stop()
        time.sleep(0.2)
        assert not app.stopped  # still serving /slow
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", running.port), timeout=1).sendall(b"GET / HTTP/1.1\r\n\r\n")
        app.release.set()
        status, headers, body = read_response(sock)
        assert (status, body, headers["connection"]) == (200, b"GET /slow? 0", "close")
        running.thread.join(10)
    assert app.stopped


def test_an_app_without_lifespan_is_served():
    async def plain(scope, receive, send):
        if scope["type"] != "http":
            return
        await receive()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with ServerThread(plain, max_body=10) as running:
        sock = connect(running)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(sock)[0] == 204
