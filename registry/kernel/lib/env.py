"""Typed readers for environment variables that fail loudly on a bad value.

A typo in production configuration must stop the process at start-up, not surface as odd
behaviour later, so every reader raises ImproperlyConfigured naming the variable.

Every reader also takes a variable from a file: with `NAME_FILE=/run/secrets/name` set (and NAME not), the value is
that file's text without its trailing newline, as container secrets, Kubernetes Secret volumes and systemd
credentials hand secrets over, so no secret needs to be in the environment or a unit file.
"""

import os
import re
from pathlib import Path

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


def _raw(name: str, *, from_file: bool = True) -> str | None:
    value = os.environ.get(name)
    path = os.environ.get(f"{name}_FILE") if from_file else None
    if path is None:
        return value
    if value is not None:
        raise ImproperlyConfigured(f"{name} and {name}_FILE are both set: set one of them")
    try:
        return Path(path).read_text().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {exc}") from None


def envstr(name: str, default: str = "", *, from_file: bool = True) -> str:
    """`from_file=False` for a variable whose `_FILE` twin means something else (MODELHUB_SIGNING_KEY_FILE)."""
    raw = _raw(name, from_file=from_file)
    return default if raw is None else raw


def envbool(name: str, default: bool) -> bool:
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def envint(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = _raw(name)
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
    raw = _raw(name)
    if raw is None or raw.strip() == "":
        return default
    match = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]*)\s*", raw)
    unit = match.group(2).upper() if match else None
    if not match or unit not in _SIZE_UNITS:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a size (examples: 1048576, 500MB, 2GiB)")
    return int(match.group(1)) * _SIZE_UNITS[unit]


def envlist(name: str, default: list[str]) -> list[str]:
    raw = _raw(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]
