"""Checks on JSON documents that clients send (metadata, request bodies).

Everything here is refused with a message rather than repaired: a client learns what to fix, and
nothing the database cannot store (NUL characters, lone surrogates, NaN) ever reaches it.
"""

import json
import math
import re

from registry.kernel.errors import InvalidInput

MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONRejected(ValueError):
    """The document cannot be accepted; str(exc) says why, for the client."""


def _check_string(value: str, where: str) -> None:
    if "\x00" in value:
        raise JSONRejected(f"{where} contains a NUL character (\\u0000), which cannot be stored.")
    if _SURROGATE.search(value):
        raise JSONRejected(f"{where} contains a lone UTF-16 surrogate, which is not valid Unicode.")


def check_json_document(value, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise JSONRejected unless `value` is storable JSON: bounded depth, finite numbers, clean text.

    Iterative, so a document nested thousands of levels deep is refused without recursion.
    """
    pending = [(value, 1, "the document")]
    while pending:
        current, depth, where = pending.pop()
        if depth > max_depth:
            raise JSONRejected(f"the JSON is nested more than {max_depth} levels deep.")
        if isinstance(current, dict):
            for key, item in current.items():
                if not isinstance(key, str):
                    raise JSONRejected("object keys must be strings.")
                _check_string(key, f"the key {key[:40]!r}")
                pending.append((item, depth + 1, f"the value of {key[:40]!r}"))
        elif isinstance(current, list):
            pending.extend((item, depth + 1, where) for item in current)
        elif isinstance(current, str):
            _check_string(current, where)
        elif isinstance(current, float) and not math.isfinite(current):
            raise JSONRejected(f"{where} is {current}; JSON has no NaN or Infinity.")
        elif current is not None and not isinstance(current, bool | int | float):
            raise JSONRejected(f"{where} is not a JSON value.")


def _refuse_constant(name: str):
    raise JSONRejected(f"{name} is not valid JSON (JSON has no NaN or Infinity).")


def parse_json(text: str | bytes, *, max_depth: int = MAX_DEPTH):
    """Strict JSON parsing: no NaN/Infinity, bounded depth, no NUL or lone surrogates in text.

    Raises JSONRejected with a message for the client.
    """
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise JSONRejected(f"the JSON is nested more than {max_depth} levels deep.") from None
    except UnicodeDecodeError:
        raise JSONRejected("the body is not UTF-8 text.") from None
    except ValueError as exc:  # JSONDecodeError, and JSONRejected from parse_constant
        if isinstance(exc, JSONRejected):
            raise
        raise JSONRejected(f"not valid JSON ({exc}).") from None
    check_json_document(value, max_depth=max_depth)
    return value


def json_field_value(value, *, field: str, empty=None):
    """A form field holding JSON text (multipart uploads) or an already parsed value (JSON bodies),
    parsed and checked like parse_json; None or blank text gives `empty`.

    Raises InvalidInput naming the field.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return empty
    try:
        if isinstance(value, str):
            return parse_json(value)
        check_json_document(value)
    except JSONRejected as exc:
        raise InvalidInput(f"{field}: {exc}", field=field) from None
    return value
