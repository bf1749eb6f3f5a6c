"""A throwaway PostgreSQL database for a benchmark: created, migrated, Django set up on it, dropped after."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _admin_connection(url: str):
    import dj_database_url
    import psycopg2

    cfg = dj_database_url.parse(url)
    conn = psycopg2.connect(
        dbname="postgres",
        user=cfg["USER"],
        password=cfg["PASSWORD"] or None,
        host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432,
    )
    conn.autocommit = True
    return conn, cfg["NAME"]


@contextlib.contextmanager
def scratch_database(base_url: str, *, keep: bool = False):
    """A fresh database named after `base_url`'s with a unique suffix, on the same server: Django is set up on
    it and migrated inside the block; it is dropped after (unless `keep`, which prints its name)."""
    admin, base_name = _admin_connection(base_url)
    name = f"{base_name}_{uuid.uuid4().hex[:8]}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        os.environ["DATABASE_URL"] = base_url.rsplit("/", 1)[0] + "/" + name
        os.environ.setdefault("MODELHUB_DATA_DIR", tempfile.mkdtemp(prefix=f"{base_name}-"))
        os.environ["DJANGO_SETTINGS_MODULE"] = "marketplace.settings"
        # Benchmarks measure the portal, not its rate limits (which still count every request).
        os.environ.setdefault("MODELHUB_API_RATE_PER_TOKEN", "1000000/second")
        os.environ.setdefault("MODELHUB_API_RATE_PER_ADDRESS", "1000000/second")
        sys.path.insert(0, str(REPO))
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", "--noinput", verbosity=0)
        yield name
    finally:
        from django.db import connections

        connections.close_all()
        if keep:
            print(f"kept database {name}")
        else:
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
