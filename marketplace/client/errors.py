"""What the client raises: the server's refusal with its message, status and code, or that it did not answer."""

from __future__ import annotations

import json


class ModelhubError(Exception):
    """The server refused (its message and status), or could not be reached (status None)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


class Unreachable(ModelhubError):
    """The server did not answer."""


class BadRef(ModelhubError):
    """Not `team/asset[@version|@alias]`."""


def error_from(status: int, reason: str, content: bytes) -> ModelhubError:
    try:
        body = json.loads(content)
    except ValueError:
        body = {}
    message = body.get("detail") if isinstance(body, dict) else None
    if not message:
        message = content[:500].decode("utf-8", "replace") or reason
    code = body.get("code") if isinstance(body, dict) else None
    return ModelhubError(f"{status}: {message}", status=status, code=code)
