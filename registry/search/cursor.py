"""Keyset cursors: the sort key of the row a page ended (or started) at, opaque to clients.

A cursor is base64url JSON `{"k": [values...], "b": backwards}`; every value is checked against the
ordering's key types, so a forged cursor is a 400, never a query error. Nothing in it is secret: it
only says "after this row", and rows are always filtered by what the caller may see.
"""

import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import datetime

from registry.kernel.errors import InvalidInput

MAX_CURSOR_CHARS = 400
_TYPES = {
    "rank": float,
    "id": int,
    "name": str,
    "slug": str,
    "created_at": datetime,
    "updated_at": datetime,
    "usage_count": int,
}
_SMALLEST = {"id": 1, "usage_count": 0}  # ids start at 1; an asset no endpoint uses has a usage count of 0


@dataclass(frozen=True)
class Cursor:
    values: tuple
    backwards: bool = False


def _jsonable(value):
    return value.isoformat() if isinstance(value, datetime) else value


def cursor_encode(values, *, backwards: bool = False) -> str:
    payload = json.dumps({"k": [_jsonable(v) for v in values], "b": backwards}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _invalid() -> InvalidInput:
    return InvalidInput(
        "cursor: not a cursor of this search; use the `next` or `previous` link as given.", field="cursor"
    )


def _checked(value, kind, smallest: int = 1):
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _invalid()
        return float(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int) or not smallest <= value < 2**63:
            raise _invalid()
        return value
    if not isinstance(value, str) or len(value) > 300 or "\x00" in value:
        raise _invalid()
    if kind is datetime:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise _invalid() from None
        if parsed.tzinfo is None:
            raise _invalid()
        return parsed
    return value


def cursor_decode(raw: str, keys) -> Cursor:
    """The cursor `raw` for an ordering with sort `keys` ((name, descending), ...); InvalidInput if it is not one."""
    if not raw or len(raw) > MAX_CURSOR_CHARS or not raw.isascii():
        raise _invalid()
    try:
        payload = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _invalid() from None
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("k"), list)
        or not isinstance(payload.get("b", False), bool)
        or len(payload["k"]) != len(keys)
    ):
        raise _invalid()
    values = tuple(
        _checked(value, _TYPES[name], _SMALLEST.get(name, 1))
        for value, (name, _) in zip(payload["k"], keys, strict=True)
    )
    return Cursor(values=values, backwards=payload.get("b", False))
