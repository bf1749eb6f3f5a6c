"""Where the client finds the server and the token: MODELHUB_URL and MODELHUB_TOKEN win over the credentials file
that `modelhub login` writes (`credentials.json` in the user's config folder, mode 0600)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_cache_dir, user_config_dir

DEFAULT_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Credentials:
    url: str
    token: str | None


def config_dir() -> Path:
    return Path(os.environ.get("MODELHUB_CONFIG_DIR") or user_config_dir("modelhub"))


def cache_dir() -> Path:
    """The shared local cache (laid out as Hugging Face's: marketplace/client/cache.py): MODELHUB_CACHE, else the
    user's cache folder."""
    return Path(os.environ.get("MODELHUB_CACHE") or Path(user_cache_dir("modelhub")) / "hub")


def credentials_path() -> Path:
    return config_dir() / "credentials.json"


def credentials_load(url: str | None = None, token: str | None = None) -> Credentials:
    """The server and token to use: the arguments, then MODELHUB_URL / MODELHUB_TOKEN, then the file."""
    saved: dict = {}
    try:
        saved = json.loads(credentials_path().read_text())
    except (OSError, ValueError):
        pass
    if not isinstance(saved, dict):
        saved = {}
    chosen_url = url or os.environ.get("MODELHUB_URL") or saved.get("url") or DEFAULT_URL
    chosen_token = token or os.environ.get("MODELHUB_TOKEN") or saved.get("token") or None
    return Credentials(url=str(chosen_url).rstrip("/"), token=chosen_token)


def credentials_save(url: str, token: str) -> Path:
    """Write the credentials file atomically, readable by its owner only (0600); returns its path."""
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".credentials.", suffix=".tmp")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump({"url": url.rstrip("/"), "token": token}, file)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
