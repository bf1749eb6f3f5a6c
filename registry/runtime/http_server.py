"""A lean HTTP/1.1 server for the runtime's ASGI app: uvloop + httptools, one write per response.

Why not uvicorn. At one connection, most of an inference's latency is the server's own machinery, not
the model: uvicorn writes a response's head and body as two packets, starts a task per request when the
headers arrive and hands the body over through events; a hello-world ASGI app answers several times slower
under it than as a bare httptools protocol (measured in registry/runtime/README.md). This server keeps only
what the runtime needs:

- requests are read whole before the app sees them (the body limit is checked against Content-Length
  before any body byte is buffered, and again while a chunked body streams in: 413 either way);
  `Expect: 100-continue` is answered once the limit check passes;
- a response is written in one `transport.write`, head and body together, when the app sends its last
  body part; HEAD gets the head only;
- keep-alive and pipelining: requests on one connection are answered in order by one task at a time;
  reading pauses while 16 requests wait, and while the client does not read its answers;
- bounds: request line plus headers at most `max_header_bytes` (431), malformed HTTP is a 400 and the
  connection is closed, an idle keep-alive connection is closed after `keep_alive_s`;
- lifespan: the app's startup runs before the socket is bound, its shutdown after the last in-flight
  request (or `shutdown_grace_s`) when SIGTERM or SIGINT arrives; the process then exits 0.

The ASGI subset: `http` scopes whose `receive` gives the whole body in one message (then
`http.disconnect`), and `lifespan`. Errors the server makes itself are `{"error": "..."}`, as the app's are.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections import deque
from http import HTTPStatus
from urllib.parse import unquote

import httptools
import orjson

log = logging.getLogger("registry.runtime")

MAX_PIPELINED = 16
_REASONS = {status.value: status.phrase.encode() for status in HTTPStatus}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def _status_line(status: int) -> bytes:
    return b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"Unknown"))


def _error_response(status: int, message: str) -> bytes:
    body = orjson.dumps({"error": message})
    return (
        _status_line(status) + b"content-type: application/json\r\ncontent-length: %d\r\n"
        b"connection: close\r\n\r\n" % len(body) + body
    )


class _Request:
    __slots__ = ("scope", "body", "keep_alive")

    def __init__(self, scope: dict, body: bytes, keep_alive: bool):
        self.scope, self.body, self.keep_alive = scope, body, keep_alive


class _Connection(asyncio.Protocol):
    """One client connection: parses requests with httptools and answers them in order."""

    def __init__(self, server: HTTPServer):
        self.server = server
        self.loop = server.loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.queue: deque[_Request] = deque()
        self.task: asyncio.Task | None = None
        self.closed = False
        self.gone = asyncio.Event()  # set when the connection is closed, by either side
        self.refusal: bytes | None = None  # the error answer owed after the requests before it
        self.refused = False  # an unreadable request came: nothing after it is parsed
        self.reading = True
        self.writable = asyncio.Event()
        self.writable.set()
        self.idle_timer: asyncio.TimerHandle | None = None
        self._reset()

    def _reset(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.header_bytes = 0
        self.body_parts: list[bytes] = []
        self.body_size = 0

    # --- asyncio.Protocol ---------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        self.last_activity = self.loop.time()
        self.server.connections.add(self)
        self._arm_idle_timer()

    def connection_lost(self, exc) -> None:
        self.closed = True
        self.gone.set()
        self.server.connections.discard(self)
        self.writable.set()
        self._cancel_idle_timer()

    def data_received(self, data: bytes) -> None:
        self.last_activity = self.loop.time()
        if self.refused:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(400, "protocol upgrades are not supported")
        except httptools.HttpParserError as exc:
            if not self.refused:
                self._refuse(400, f"malformed HTTP request: {exc}")

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    # --- httptools callbacks ------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._reset()

    def on_url(self, url: bytes) -> None:
        self.url += url
        self._count_header_bytes(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_header_bytes(len(name) + len(value))
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        if self.refused:
            return
        length = next((value for name, value in self.headers if name == b"content-length"), None)
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared > self.server.max_body:
                self._refuse(413, f"the body of {declared} bytes is over the limit of {self.server.max_body} bytes")
                return
        if any(name == b"expect" and value.lower() == b"100-continue" for name, value in self.headers):
            self.transport.write(_CONTINUE)

    def on_body(self, body: bytes) -> None:
        if self.refused:
            return
        self.body_size += len(body)
        if self.body_size > self.server.max_body:
            self._refuse(413, f"the body is over the limit of {self.server.max_body} bytes")
            return
        self.body_parts.append(body)

    def on_message_complete(self) -> None:
        if self.refused:
            return
        parsed = httptools.parse_url(self.url)
        raw_path = parsed.path
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": self.parser.get_http_version(),
            "method": self.parser.get_method().decode("ascii"),
            "scheme": "http",
            "path": unquote(raw_path.decode("latin-1")),
            "raw_path": raw_path,
            "query_string": parsed.query or b"",
            "root_path": "",
            "headers": self.headers,
            "server": self.server.address,
            "client": self.transport.get_extra_info("peername"),
        }
        body = self.body_parts[0] if len(self.body_parts) == 1 else b"".join(self.body_parts)
        self.queue.append(_Request(scope, body, self.parser.should_keep_alive()))
        if len(self.queue) >= MAX_PIPELINED:
            self._pause_reading()
        if self.task is None:
            self.task = self.loop.create_task(self._answer_queue())

    # --- answering ----------------------------------------------------------------------------------
    async def _answer_queue(self) -> None:
        try:
            while self.queue and not self.closed:
                request = self.queue.popleft()
                if not self.reading and len(self.queue) < MAX_PIPELINED // 2:
                    self._resume_reading()
                await self.writable.wait()
                keep_alive = await self._answer(request)
                if not keep_alive:
                    self._close()
                    return
            if self.refusal is not None and not self.closed:
                self.transport.write(self.refusal)
                self._close()
        finally:
            self.task = None
            if not self.closed:
                if not self.reading:
                    self._resume_reading()
                self.last_activity = self.loop.time()
            self.server.request_done()

    async def _answer(self, request: _Request) -> bool:
        """Run the app for one request and write its response; False when the connection must close."""
        state = {"status": 0, "headers": (), "parts": [], "sent": False}
        delivered = False
        head_only = request.scope["method"] == "HEAD"

        async def receive():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": request.body, "more_body": False}
            await self.gone.wait()  # the app asked for more than the body: wait for the client to go
            return {"type": "http.disconnect"}

        async def send(message):
            kind = message["type"]
            if kind == "http.response.start":
                if state["status"]:
                    raise RuntimeError("http.response.start sent twice")
                state["status"], state["headers"] = message["status"], message.get("headers", ())
            elif kind == "http.response.body":
                if not state["status"] or state["sent"]:
                    raise RuntimeError("http.response.body out of order")
                state["parts"].append(message.get("body", b""))
                if not message.get("more_body", False):
                    state["sent"] = True
                    self._write_response(
                        state["status"], state["headers"], b"".join(state["parts"]), request.keep_alive, head_only
                    )

        try:
            await self.server.app(request.scope, receive, send)
        except Exception:
            log.exception("%s %s failed", request.scope["method"], request.scope["path"])
            if not state["status"] and not self.closed:
                self.transport.write(_error_response(500, "internal error"))
            return False
        if not state["sent"]:
            if not self.closed:
                log.error("%s %s: the app sent no complete response", request.scope["method"], request.scope["path"])
                self.transport.write(_error_response(500, "internal error"))
            return False
        return request.keep_alive and not self.server.stopping

    def _write_response(self, status: int, headers, body: bytes, keep_alive: bool, head_only: bool) -> None:
        if self.closed:
            return
        parts = [_status_line(status)]
        has_length = False
        for name, value in headers:
            if name.lower() == b"content-length":
                has_length = True
            parts.append(b"%s: %s\r\n" % (name, value))
        if not has_length:
            parts.append(b"content-length: %d\r\n" % len(body))
        if not keep_alive or self.server.stopping:
            parts.append(b"connection: close\r\n")
        parts.append(b"\r\n")
        if not head_only:
            parts.append(body)
        self.transport.write(b"".join(parts))

    # --- plumbing -----------------------------------------------------------------------------------
    def _count_header_bytes(self, size: int) -> None:
        self.header_bytes += size
        if self.header_bytes > self.server.max_header_bytes and not self.refused:
            self._refuse(431, f"the request line and headers are over {self.server.max_header_bytes} bytes")

    def _refuse(self, status: int, message: str) -> None:
        """Answer an unreadable request, after the requests before it, and close: what follows it on the
        wire cannot be trusted."""
        self.refused = True
        self._pause_reading()
        if self.closed or self.refusal is not None:
            return
        if self.task is None:
            self.transport.write(_error_response(status, message))
            self._close()
        else:
            self.refusal = _error_response(status, message)

    def _close(self) -> None:
        if not self.closed:
            self.closed = True
            self.gone.set()
            self.transport.close()

    def _pause_reading(self) -> None:
        if self.reading:
            self.reading = False
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if not self.reading and not self.closed and not self.refused:
            self.reading = True
            self.transport.resume_reading()

    def _arm_idle_timer(self) -> None:
        """One timer per connection: it closes a connection with no request running and no byte received
        for keep_alive_s, and otherwise sets itself again for the rest of the time."""
        if self.idle_timer is None and not self.closed:
            self.idle_timer = self.loop.call_at(self.last_activity + self.server.keep_alive_s, self._idle_check)

    def _idle_check(self) -> None:
        self.idle_timer = None
        if self.closed:
            return
        if self.task is None and self.loop.time() - self.last_activity >= self.server.keep_alive_s:
            self._close()
        else:
            self.last_activity = max(self.last_activity, self.loop.time() - self.server.keep_alive_s / 2)
            self._arm_idle_timer()

    def _cancel_idle_timer(self) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None

    @property
    def busy(self) -> bool:
        return self.task is not None


class HTTPServer:
    """Serves an ASGI app on a listening socket; see the module docstring."""

    def __init__(
        self,
        app,
        *,
        max_body: int,
        max_header_bytes: int = 64 << 10,
        keep_alive_s: float = 75.0,
        shutdown_grace_s: float = 30.0,
    ):
        self.app = app
        self.max_body, self.max_header_bytes = max_body, max_header_bytes
        self.keep_alive_s, self.shutdown_grace_s = keep_alive_s, shutdown_grace_s
        self.connections: set[_Connection] = set()
        self.stopping = False
        self.started = False
        self.address: tuple[str, int] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None

    # --- lifespan -----------------------------------------------------------------------------------
    async def _lifespan(self, phase: str) -> None:
        """Run the app's lifespan startup or shutdown. Raises when the app reports a failure or raises; an
        app that returns without answering has no lifespan, and its phases are skipped."""
        if phase == "startup":
            self._lifespan_messages: asyncio.Queue = asyncio.Queue()
            self._lifespan_answers: asyncio.Queue = asyncio.Queue()
            self._lifespan_task = self.loop.create_task(
                self.app(
                    {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                    self._lifespan_messages.get,
                    self._lifespan_answers.put,
                )
            )
        elif self._lifespan_task.done():
            return
        await self._lifespan_messages.put({"type": f"lifespan.{phase}"})
        answer = self.loop.create_task(self._lifespan_answers.get())
        done, _ = await asyncio.wait({answer, self._lifespan_task}, return_when=asyncio.FIRST_COMPLETED)
        if answer not in done:
            answer.cancel()
            self._lifespan_task.result()  # the app's exception, if it raised one
            return
        message = answer.result()
        if message["type"] != f"lifespan.{phase}.complete":
            raise RuntimeError(f"lifespan {phase} failed: {message.get('message', message['type'])}")

    # --- serving ------------------------------------------------------------------------------------
    def request_done(self) -> None:
        if self._idle is not None and not any(connection.busy for connection in self.connections):
            self._idle.set()

    async def serve(
        self,
        sock: socket.socket | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        install_signal_handlers: bool = True,
    ) -> None:
        """Start the app, then accept on `sock` (or on host:port, bound only now, so that no client waits
        in the backlog of a runtime still restoring its models) until stop() or a signal; then drain and
        shut the app down."""
        self.loop = asyncio.get_running_loop()
        self._stop, self._idle = asyncio.Event(), asyncio.Event()
        await self._lifespan("startup")
        sock = sock or listening_socket(host, port)
        self.address = sock.getsockname()[:2]
        if install_signal_handlers:
            for signum in (signal.SIGTERM, signal.SIGINT):
                self.loop.add_signal_handler(signum, self._stop.set)
        server = await self.loop.create_server(lambda: _Connection(self), sock=sock, backlog=2048)
        self.started = True
        log.info("serving on http://%s:%s", *self.address)
        try:
            await self._stop.wait()
        finally:
            self.stopping = True
            server.close()
            for connection in list(self.connections):
                if not connection.busy:
                    connection._close()
            self._idle.clear()
            self.request_done()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), self.shutdown_grace_s)
            for connection in list(self.connections):
                connection._close()
            await self._lifespan("shutdown")
            log.info("shutdown complete")

    def stop(self) -> None:
        """Ask a serving server to stop; safe from any thread."""
        if self.loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                self.loop.call_soon_threadsafe(self._stop.set)


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def run(app, *, host: str, port: int, max_body: int) -> None:
    """Serve `app` on host:port in this thread with uvloop until SIGTERM or SIGINT."""
    import gc

    import uvloop

    # Everything loaded so far (modules, the app) lives as long as the process: out of the collector's sight,
    # a full collection, which requests that live a little longer (monitoring holds a batch of them) trigger
    # from time to time, no longer walks it. Measured: tests/benchmarks/monitoring.py, section 1.
    gc.collect()
    gc.freeze()

    uvloop.run(HTTPServer(app, max_body=max_body).serve(host=host, port=port))
