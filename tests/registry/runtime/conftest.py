import asyncio
import hashlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from registry.runtime.app import RuntimeSettings, create_app
from registry.runtime.auth import StaticAuthorizer
from registry.runtime.http_server import HTTPServer
from registry.runtime.interface import ModelConfig
from registry.runtime.metrics import RuntimeMetrics
from tests.registry.runtime.inprocess_host import InProcessHost, write_models

SECRET = "runtime-secret-for-tests-0123456789"
KEY = "mh_key_allowed_everywhere"
ADD_ONLY_KEY = "mh_key_for_add_only"
TEST_MAX_BODY = 1 << 20


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class ServerThread:
    """The runtime's HTTP server (uvloop + httptools) serving `app` on a free loopback port, in a thread."""

    def __init__(self, app, **options):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        options.setdefault("max_body", getattr(getattr(app, "settings", None), "max_body", TEST_MAX_BODY))
        self.server = HTTPServer(app, **options)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import uvloop

        uvloop.run(self.server.serve(self.sock, install_signal_handlers=False))

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "the server did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc):
        self.server.stop()
        self.thread.join(10)
        self.sock.close()


def load_all(host: InProcessHost, paths) -> None:
    async def go():
        for name, path in paths.items():
            await host.load(ModelConfig(name=name, path=str(path)))

    asyncio.run(go())


@pytest.fixture(scope="session")
def model_files(tmp_path_factory):
    return write_models(tmp_path_factory.mktemp("onnx"))


@pytest.fixture(scope="session")
def runtime(model_files):
    """One runtime for the session: every test model loaded, a static table of credentials."""
    metrics = RuntimeMetrics()
    host = InProcessHost(metrics)
    load_all(host, model_files)
    auth = StaticAuthorizer({"*": {sha(KEY)}, "add": {sha(ADD_ONLY_KEY)}, "identity-fp32": {sha("someone-else")}})
    settings = RuntimeSettings(runtime_secret=SECRET, max_body=TEST_MAX_BODY)
    app = create_app(host, auth=auth, metrics=metrics, settings=settings)
    with ServerThread(app) as server:
        server.host, server.app, server.metrics = host, app, metrics
        yield server


class FakePortal:
    """The portal's authorize endpoint on loopback: answers from `decisions`, counts the calls."""

    def __init__(self, delay: float = 0.0):
        self.decisions: dict[tuple[str, str], int] = {}
        self.calls: list[dict] = []
        self.delay = delay
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if (
                    self.path != "/api/v1/internal/runtime/authorize"
                    or self.headers.get("Authorization") != f"Bearer {SECRET}"
                ):
                    self.send_response(403)
                    self.end_headers()
                    return
                portal.calls.append(body)
                time.sleep(portal.delay)
                answer = json.dumps(
                    {"status": portal.decisions.get((body["model"], body["credential_sha256"]), 401)}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_portal():
    portal = FakePortal()
    yield portal
    portal.close()
