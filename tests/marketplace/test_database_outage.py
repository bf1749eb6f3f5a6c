"""The portal while PostgreSQL goes away and comes back, as in a restart: a TCP proxy in front of the database cuts
every connection and refuses new ones, then lets them through again, for a gunicorn server of the test's own.
Requests during the outage get a 503 with a JSON error (an HTML page in the portal), not a hang or a 500; once the
database is back the same server answers again within seconds, without a restart."""

import socket
import threading
import time

import pytest
import requests

from registry.tokens.services import token_create
from tests.conftest import portal_server, report_figure, subprocess_database_url
from tests.s3 import free_port

pytestmark = pytest.mark.django_db(transaction=True)


class Proxy:
    """127.0.0.1:<port> -> PostgreSQL; `cut()` resets every connection and refuses new ones until `restore()`."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream, self.port = upstream, free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self.down = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            server = socket.create_connection(self.upstream)
            with self._lock:
                self._open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for end in (source, target):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        self.down = True
        with self._lock:
            for end in self._open:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._open.clear()

    def restore(self) -> None:
        self.down = False

    def close(self) -> None:
        self.cut()
        self._listener.close()


@pytest.fixture
def portal_behind_proxy(tmp_path, alice):
    url = subprocess_database_url()
    host_port = url.rsplit("@", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    proxy = Proxy((host, int(port)))
    database = url.replace(f"@{host_port}/", f"@127.0.0.1:{proxy.port}/")
    try:
        with portal_server(tmp_path / "gunicorn.log", env={"DATABASE_URL": database}) as base:
            yield base, proxy, token_create(user=alice, name="outage")[1]
    finally:
        proxy.close()


def test_a_database_restart_is_a_503_then_the_portal_answers_again(portal_behind_proxy):
    base, proxy, token = portal_behind_proxy
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{base}/api/v1/teams/", headers=headers, timeout=10).status_code == 200

    proxy.cut()
    started = time.monotonic()
    api = requests.get(f"{base}/api/v1/teams/", headers=headers, timeout=30)
    # A signed-in browser: its session is read from the database.
    page = requests.get(f"{base}/catalogue/", cookies={"sessionid": "x" * 32}, timeout=30)
    answered = time.monotonic() - started
    assert api.status_code == 503 and api.headers["Content-Type"].startswith("application/json")
    assert api.json()["code"] == "database_unavailable" and "database" in api.json()["detail"]
    assert api.headers["Retry-After"]
    assert page.status_code == 503 and "text/html" in page.headers["Content-Type"] and "database" in page.text
    assert answered < 10
    # The load balancer's view: alive, not ready, because of the database.
    assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
    ready = requests.get(f"{base}/readyz", timeout=10)
    assert ready.status_code == 503 and ready.json()["checks"]["database"]

    proxy.restore()
    restored = time.monotonic()
    while requests.get(f"{base}/api/v1/teams/", headers=headers, timeout=30).status_code != 200:
        assert time.monotonic() - restored < 30
        time.sleep(0.2)
    recovered = time.monotonic() - restored
    assert requests.get(f"{base}/readyz", timeout=10).json()["checks"]["database"] is None
    report_figure(
        f"database outage: 503s answered in {answered:.2f} s; the portal answered again {recovered:.2f} s after"
    )
