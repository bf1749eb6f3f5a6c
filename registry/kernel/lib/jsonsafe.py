"""Making JSON that the system itself produces (validation reports, audit data) safe to store.

Client input is refused when it is not storable (see json_input); what we derive from uploaded files
cannot be refused, so it is repaired instead: NUL characters and lone surrogates, which PostgreSQL
will not store in text or jsonb, become U+FFFD, non-finite floats become None, and long strings are
cut to a byte budget on a character boundary.
"""

import json
import math
import re

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
ELLIPSIS = "…"


def text_safe(value: str, *, max_bytes: int | None = None) -> str:
    """`value` without NUL or lone surrogates, and at most `max_bytes` of UTF-8 (cut with "…")."""
    value = _UNSTORABLE.sub(REPLACEMENT, value)
    if max_bytes is not None and len(value) * 4 > max_bytes:  # cheap test first: a char is at most 4 bytes
        encoded = value.encode()
        if len(encoded) > max_bytes:
            budget = max(max_bytes - len(ELLIPSIS.encode()), 0)
            value = encoded[:budget].decode(errors="ignore") + ELLIPSIS
    return value


def json_safe(value, *, max_string_bytes: int | None = None):
    """A copy of a JSON-like value that PostgreSQL's jsonb can store (see the module docstring).

    Tuples become lists; keys are made safe like values. Iterative, so depth is not a concern.
    """
    root: list = [None]
    pending = [(value, root, 0)]
    while pending:
        current, parent, slot = pending.pop()
        if isinstance(current, str):
            parent[slot] = text_safe(current, max_bytes=max_string_bytes)
        elif isinstance(current, dict):
            copy: dict = {}
            parent[slot] = copy
            for key, item in current.items():
                safe_key = text_safe(str(key), max_bytes=max_string_bytes)
                copy[safe_key] = None
                pending.append((item, copy, safe_key))
        elif isinstance(current, list | tuple):
            items: list = [None] * len(current)
            parent[slot] = items
            pending.extend((item, items, index) for index, item in enumerate(current))
        elif isinstance(current, float) and not math.isfinite(current):
            parent[slot] = None
        else:
            parent[slot] = current
    return root[0]


def json_size(value) -> int:
    """Bytes of `value` as compact UTF-8 JSON (about what a jsonb column and an API response hold)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=True).encode())
