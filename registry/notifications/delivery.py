"""Webhook URLs and the HTTP POST of one delivery: what is refused, what is retried.

Addresses are checked when a delivery is made, not only when the webhook is created: a host name
can resolve elsewhere later. They are checked twice: every address the name resolves to before the
request (a readable refusal), and the address the socket actually connected to (so a name that
resolves differently a moment later, DNS rebinding, still cannot reach the internal network). Private, loopback, link-local and other non-global addresses are refused
unless MODELHUB_WEBHOOK_ALLOW_PRIVATE is set (the default in DEBUG; tests and local receivers need it).
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from registry.kernel.lib.tasks import backoff_seconds
from registry.notifications.models import WEBHOOK_URL_MAX_LENGTH

DELIVER_TASK = "registry.notifications.tasks.webhook_deliver_task"
EMAIL_TASK = "registry.notifications.tasks.event_email_task"
USER_AGENT = "Modelhub-Webhooks/1"
TIMEOUT = (5, 10)  # seconds to connect, seconds between bytes of the answer
RESPONSE_EXCERPT_BYTES = 500
RETRY_DELAY_CAP = 3600


def url_refusal(url: str) -> str | None:
    """Why `url` cannot be a webhook URL (shape only: no name resolution), or None."""
    if not isinstance(url, str) or not url:
        return "A webhook URL is required."
    if len(url) > WEBHOOK_URL_MAX_LENGTH:
        return f"A webhook URL is at most {WEBHOOK_URL_MAX_LENGTH} characters long."
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        return "A webhook URL may not contain spaces or control characters."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "The webhook URL is not a valid URL."
    if parts.scheme not in ("http", "https"):
        return "A webhook URL starts with https:// (or http://)."
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "A webhook URL may not carry credentials (user:password@); the signature authenticates Modelhub."
    if not parts.hostname:
        return "The webhook URL has no host."
    if port == 0:
        return "The webhook URL has an invalid port."
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return None
    return address_refusal(literal)


def address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why Modelhub may not send to `address`, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_unspecified or address.is_multicast:
        return f"{address} is not an address a webhook can be sent to."
    if not address.is_global and not settings.MODELHUB_WEBHOOK_ALLOW_PRIVATE:
        return (
            f"{address} is a private, loopback, link-local or reserved address; webhooks go to public "
            "addresses only (MODELHUB_WEBHOOK_ALLOW_PRIVATE allows others)."
        )
    return None


def host_refusal(url: str) -> str | None:
    """Resolve the URL's host and refuse it if any of its addresses is refused. Raises OSError when the
    name does not resolve (a transient failure: the delivery is retried)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for *_, sockaddr in socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM):
        refusal = address_refusal(ipaddress.ip_address(sockaddr[0].split("%", 1)[0]))
        if refusal:
            return f"{parts.hostname} resolves to {refusal}"
    return None


class AddressRefused(Exception):
    """The socket reached an address webhooks may not go to. Not an OSError, so neither urllib3 nor
    requests turns it into a (retryable) connection error."""


def _peer_refusal(sock) -> str | None:
    return address_refusal(ipaddress.ip_address(sock.getpeername()[0].split("%", 1)[0]))


class _PeerCheckMixin:
    def _new_conn(self):
        sock = super()._new_conn()
        refusal = _peer_refusal(sock)
        if refusal:
            sock.close()
            raise AddressRefused(f"{self.host} connected to {refusal}")
        return sock


class _CheckedHTTPConnection(_PeerCheckMixin, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_PeerCheckMixin, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    """requests' adapter whose connections check the address they connected to."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


@dataclass
class PostResult:
    delivered: bool
    retryable: bool
    status_code: int | None = None
    error: str = ""
    response_ms: int | None = None


def _excerpt(response) -> str:
    try:
        raw = next(response.iter_content(RESPONSE_EXCERPT_BYTES), b"")
    except requests.RequestException:
        raw = b""
    return raw[:RESPONSE_EXCERPT_BYTES].decode("utf-8", "replace")


def webhook_post(*, url: str, body: bytes, headers: dict[str, str]) -> PostResult:
    """POST `body` once; never follows redirects, never reads more than an excerpt of the answer.

    2xx is delivered; a connection error, a timeout, 429 and 5xx are worth retrying; every other answer
    (a redirect included) and a refused address are final.
    """
    try:
        refusal = host_refusal(url)
    except (OSError, UnicodeError) as exc:
        return PostResult(False, True, error=f"Cannot resolve the host: {exc}")
    if refusal:
        return PostResult(False, False, error=refusal)
    started = time.monotonic()
    with requests.Session() as session:
        session.trust_env = False  # no proxies or .netrc from the worker's environment
        for scheme in ("http://", "https://"):
            session.mount(scheme, _CheckedAdapter(max_retries=0))
        try:
            response = session.post(
                url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False, stream=True
            )
        except AddressRefused as exc:
            return PostResult(False, False, error=str(exc))
        except requests.Timeout as exc:
            return PostResult(
                False, True, error=f"Timed out: {exc}", response_ms=int((time.monotonic() - started) * 1000)
            )
        except requests.RequestException as exc:
            return PostResult(
                False, True, error=f"Connection failed: {exc}", response_ms=int((time.monotonic() - started) * 1000)
            )
        with response:
            elapsed = int((time.monotonic() - started) * 1000)
            code = response.status_code
            if 200 <= code < 300:
                return PostResult(True, False, code, response_ms=elapsed)
            excerpt = _excerpt(response)
    if 300 <= code < 400:
        error = f"HTTP {code}: redirects are not followed (to {response.headers.get('Location', '?')[:200]})"
    else:
        error = f"HTTP {code}: {excerpt}"
    return PostResult(False, code == 429 or code >= 500, code, error=error, response_ms=elapsed)


def retry_delay(attempts: int) -> int:
    """Seconds to wait after the `attempts`-th failed attempt: base * 2^(attempts-1), capped."""
    return backoff_seconds(max(attempts - 1, 0), base=settings.MODELHUB_WEBHOOK_RETRY_DELAY, cap=RETRY_DELAY_CAP)
