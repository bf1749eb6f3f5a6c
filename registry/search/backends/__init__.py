"""Search backends: one interface (`base.SearchBackend`), a PostgreSQL implementation and the fallback
every other database (the embedded SQLite) uses. `search_backend()` picks one: the
`MODELHUB_SEARCH_BACKEND` setting ("postgres", "memory", "fallback") or, when it is empty, the database vendor.
"""

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from registry.search.backends.base import SearchBackend


@cache
def _backend(name: str) -> SearchBackend:
    if name == "postgres":
        from registry.search.backends.postgres import PostgresSearchBackend

        return PostgresSearchBackend()
    if name == "memory":
        from registry.search.backends.memory import MemorySearchBackend

        return MemorySearchBackend()
    if name == "fallback":
        from registry.search.backends.fallback import FallbackSearchBackend

        return FallbackSearchBackend()
    raise ImproperlyConfigured(
        f"MODELHUB_SEARCH_BACKEND: '{name}' is not a search backend (postgres, memory, fallback)."
    )


def search_backend() -> SearchBackend:
    name = getattr(settings, "MODELHUB_SEARCH_BACKEND", "") or (
        "postgres" if connection.vendor == "postgresql" else "fallback"
    )
    return _backend(name)
