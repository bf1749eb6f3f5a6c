"""Typed readers for environment variables that fail loudly on a bad value.

A typo in production configuration must stop the process at start-up, not surface as odd
behaviour later, so every reader raises ImproperlyConfigured naming the variable.
"""

import os
import re

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_SIZE_UNITS = {
    "": 1,
    "B": 1,
    "K": 1024,
    "KB": 1024,
    "KIB": 1024,
    "M": 1024**2,
    "MB": 1024**2,
    "MIB": 1024**2,
    "G": 1024**3,
    "GB": 1024**3,
    "GIB": 1024**3,
    "T": 1024**4,
    "TB": 1024**4,
    "TIB": 1024**4,
}


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def envint(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}")
    return value


def envsize(name: str, default: int) -> int:
    """A byte size such as `2GiB`, `500MB` or `1048576` (binary multiples either way)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    match = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]*)\s*", raw)
    unit = match.group(2).upper() if match else None
    if not match or unit not in _SIZE_UNITS:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a size (examples: 1048576, 500MB, 2GiB)")
    return int(match.group(1)) * _SIZE_UNITS[unit]


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]
