"""The id of the request being served, for audit events and logs (a context variable, so threads and
async tasks each see their own)."""

import re
import uuid
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("modelhub_request_id", default="")
# A client may pass its own id (X-Request-ID) to correlate; anything else is replaced.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def request_id_get() -> str:
    return _request_id.get()


def request_id_begin(client_value: str | None) -> tuple[str, object]:
    """Start a request: its id (the client's if well-formed, else a new one) and a token to end it."""
    value = client_value if client_value and _CLIENT_ID.fullmatch(client_value) else uuid.uuid4().hex
    return value, _request_id.set(value)


def request_id_end(token) -> None:
    _request_id.reset(token)
