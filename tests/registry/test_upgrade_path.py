"""A database migrated to the last layout before the catalogue moved into `registry` (marketplace 0013,
registry 0009), with rows in every table, migrates forward with nothing lost (tests/registry/upgrade/).

Each test restores the fixture into a database of its own, fingerprints every table, runs `manage.py migrate`
in a process of its own (as an operator would), and checks that every table came through under its new name
with the same rows, that nothing of the old names is left, that the triggers still do what they did, and that
the application reads the moved data (the audit chain still verifies).
"""

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings

from registry.tokens.models import ALL_SCOPES

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "upgrade"
# The catalogue tables that move (old name -> new); every other table keeps its name.
RENAMED = {
    f"marketplace_{name}": f"registry_{name}"
    for name in (
        "team",
        "membership",
        "apitoken",
        "asset",
        "tag",
        "asset_tags",
        "searchterm",
        "facetcount",
        "searchstate",
        "searchchange",
    )
}
# Columns later migrations added to tables the fixture has rows in: left out of the fingerprints (new, all null).
ADDED_COLUMNS = {
    "registry_reviewround": {"signing_claimed_at", "signed_at"},
    "registry_apitoken": {"scopes", "expires_at", "last_used_ip"},
    "registry_reviewpolicy": {"deployable_aliases"},
}
MOVED_MODELS = {
    "team",
    "membership",
    "apitoken",
    "asset",
    "tag",
    "searchterm",
    "facetcount",
    "searchstate",
    "searchchange",
    "auditevent",
}


def _manage(database_url: str, tmp_path: Path, *args: str) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MODELHUB_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_SETTINGS_MODULE": "marketplace.settings",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _expected_after(before: dict[str, tuple]) -> dict[str, tuple]:
    return {
        RENAMED.get(table, table): fingerprint
        for table, fingerprint in before.items()
        if table != "django_content_type"
    }  # checked on its own: its rows change label


def _without_content_types(found: dict[str, tuple]) -> dict[str, tuple]:
    return {table: fingerprint for table, fingerprint in found.items() if table != "django_content_type"}


def _assert_kept(found: dict[str, tuple], before: dict[str, tuple]) -> None:
    """Every table of the fixture holds what it held (renamed where it moved); tables that later migrations
    created are empty; auth_permission only gained rows (checked by count with the content types)."""
    found = _without_content_types(found)
    expected = _expected_after(before)
    added = sorted(set(found) - set(expected))
    assert [table for table in added if found[table][0]] == [], "a table created after the fixture has rows"
    kept = {table: found.get(table) for table in expected if table != "auth_permission"}
    assert kept == {table: fingerprint for table, fingerprint in expected.items() if table != "auth_permission"}


# --- PostgreSQL ----------------------------------------------------------------------------------------------


@pytest.fixture
def pg_upgrade_db():
    """A database of its own on the test server, restored from the fixture dump; dropped after."""
    cfg = settings.DATABASES["default"]
    if cfg["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the PostgreSQL upgrade path needs a PostgreSQL DATABASE_URL")
    params = {"user": cfg["USER"], "host": cfg["HOST"] or "127.0.0.1", "port": cfg["PORT"] or 5432}
    if cfg["PASSWORD"]:
        params["password"] = cfg["PASSWORD"]
    name = f"modelhub_upgrade_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(dbname="postgres", **params)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {**os.environ, "PGPASSWORD": cfg["PASSWORD"] or ""}
        restored = subprocess.run(
            [
                "psql",
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                params["host"],
                "-p",
                str(params["port"]),
                "-U",
                params["user"],
                "-d",
                name,
                "-f",
                str(FIXTURES / "catalogue_postgresql.sql"),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert restored.returncode == 0, restored.stderr[-3000:]
        url = f"postgres://{params['user']}@{params['host']}:{params['port']}/{name}"
        if cfg["PASSWORD"]:
            url = url.replace("@", f":{cfg['PASSWORD']}@", 1)
        connection = psycopg2.connect(dbname=name, **params)
        connection.autocommit = True
        yield url, connection
        connection.close()
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _pg_tables(cursor) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    return [row[0] for row in cursor.fetchall()]


def _pg_fingerprints(cursor) -> dict[str, tuple]:
    found = {}
    for table in _pg_tables(cursor):
        if table == "django_migrations":
            continue
        row = "t::text"
        if table in ADDED_COLUMNS:
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
                [table],
            )
            kept = [f'"{c}"' for (c,) in cursor.fetchall() if c not in ADDED_COLUMNS[table]]
            row = f"ROW({', '.join(kept)})::text"
        cursor.execute(
            f"SELECT count(*), md5(coalesce(string_agg({row}, E'\\n' ORDER BY {row}), '')) FROM \"{table}\" t"
        )
        found[table] = cursor.fetchone()
    return found


def _pg_content_types(cursor) -> dict[tuple[str, str], int]:
    cursor.execute("SELECT app_label, model, id FROM django_content_type")
    return {(app, model): pk for app, model, pk in cursor.fetchall()}


def test_postgresql_database_migrates_forward_with_nothing_lost(pg_upgrade_db, tmp_path):
    url, connection = pg_upgrade_db
    with connection.cursor() as cursor:
        before = _pg_fingerprints(cursor)
        content_types_before = _pg_content_types(cursor)
        cursor.execute("SELECT count(*) FROM auth_permission")
        permissions_before = cursor.fetchone()[0]
    empty = [
        table for table, (count, _) in before.items() if table.startswith(("marketplace_", "registry_")) and not count
    ]
    assert not empty, f"the fixture has no rows in {empty}"

    _manage(url, tmp_path, "migrate", "--noinput")

    with connection.cursor() as cursor:
        _assert_kept(_pg_fingerprints(cursor), before)
        assert not [table for table in _pg_tables(cursor) if table.startswith("marketplace_")]
        # Content types (and the permissions and admin log entries that point at them) moved in place.
        content_types = _pg_content_types(cursor)
        for model in MOVED_MODELS:
            old = content_types_before.get(("marketplace", model))
            if old is not None:
                assert content_types[("registry", model)] == old
        assert not [key for key in content_types if key[0] == "marketplace"]
        # Models added by later migrations get a content type and Django's four permissions each.
        added = len(content_types) - len(content_types_before)
        assert added >= 0
        cursor.execute("SELECT count(*) FROM auth_permission")
        assert cursor.fetchone()[0] == permissions_before + 4 * added
        # Sequences follow their tables, and the next row gets the next id.
        cursor.execute("SELECT pg_get_serial_sequence('registry_asset', 'id')")
        assert cursor.fetchone()[0] == "public.registry_asset_id_seq"
        cursor.execute("SELECT max(id) FROM registry_team")
        last_team = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO registry_team (slug, name, description, created_at) "
            "VALUES ('after-upgrade', 'After', '', now()) RETURNING id"
        )
        assert cursor.fetchone()[0] > last_team

        # The audit trail still refuses to be rewritten.
        for statement in ("UPDATE registry_auditevent SET actor_name = 'mallory'", "DELETE FROM registry_auditevent"):
            with pytest.raises(psycopg2.Error, match="append-only"):
                cursor.execute(statement)
        # The search change log still records every asset change, now in the renamed table.
        cursor.execute("SELECT count(*) FROM registry_searchchange")
        logged = cursor.fetchone()[0]
        cursor.execute(
            "UPDATE registry_asset SET summary = summary || '.' WHERE id = (SELECT min(id) FROM registry_asset)"
        )
        cursor.execute("SELECT count(*) FROM registry_searchchange")
        assert cursor.fetchone()[0] == logged + 1
        cursor.execute("SELECT proname FROM pg_proc WHERE proname LIKE '%asset_search_change'")
        assert [row[0] for row in cursor.fetchall()] == ["registry_asset_search_change"]
        # Approved rounds of versions signed before the upgrade carry their signature's time (the sweep skips them).
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE r.signed_at = s.signed_at) FROM registry_reviewround r "
            "JOIN registry_versionsignature s ON s.version_id = r.version_id WHERE r.status = 'approved'"
        )
        signed, stamped = cursor.fetchone()
        assert signed and stamped == signed
        # Tokens made before scopes keep every scope and never expire.
        cursor.execute("SELECT DISTINCT scopes::text, expires_at FROM registry_apitoken")
        assert cursor.fetchall() == [(json.dumps(list(ALL_SCOPES)), None)]

    # The application reads what moved: the hash chain over the old events verifies, the model state matches.
    assert "chain verified" in _manage(url, tmp_path, "audit_verify")
    _manage(url, tmp_path, "makemigrations", "--check", "--dry-run")


# --- SQLite --------------------------------------------------------------------------------------------------


def _sqlite_fingerprints(connection: sqlite3.Connection) -> dict[str, tuple]:
    found = {}
    tables = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        )
    ]
    for table in tables:
        if table == "django_migrations":
            continue
        columns = [c[1] for c in connection.execute(f'PRAGMA table_info("{table}")')]
        kept = ", ".join(f'"{c}"' for c in columns if c not in ADDED_COLUMNS.get(table, ()))
        rows = sorted(repr(row) for row in connection.execute(f'SELECT {kept} FROM "{table}"'))
        found[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return found


def test_sqlite_database_migrates_forward_with_nothing_lost(tmp_path):
    path = tmp_path / "modelhub.sqlite3"
    connection = sqlite3.connect(path)
    connection.executescript((FIXTURES / "catalogue_sqlite.sql").read_text())
    before = _sqlite_fingerprints(connection)
    content_types_before = {
        (app, model): pk
        for app, model, pk in connection.execute("SELECT app_label, model, id FROM django_content_type")
    }
    connection.close()
    empty = [
        table for table, (count, _) in before.items() if table.startswith(("marketplace_", "registry_")) and not count
    ]
    assert not empty, f"the fixture has no rows in {empty}"

    _manage(f"sqlite:///{path}", tmp_path, "migrate", "--noinput")

    connection = sqlite3.connect(path)
    _assert_kept(_sqlite_fingerprints(connection), before)
    content_types = {
        (app, model): pk
        for app, model, pk in connection.execute("SELECT app_label, model, id FROM django_content_type")
    }
    for model in MOVED_MODELS:
        if ("marketplace", model) in content_types_before:
            assert content_types[("registry", model)] == content_types_before[("marketplace", model)]
    # Foreign keys now name the renamed tables (SQLite rewrites the references with the rename); index names are
    # kept, as Django keeps them on a rename (it finds indexes by their columns).
    schema = "\n".join(row[0] for row in connection.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"))
    assert 'REFERENCES "marketplace_' not in schema and 'TABLE "marketplace_' not in schema
    assert not list(connection.execute("PRAGMA foreign_key_check"))
    connection.close()
    assert "chain verified" in _manage(f"sqlite:///{path}", tmp_path, "audit_verify")
    _manage(f"sqlite:///{path}", tmp_path, "makemigrations", "--check", "--dry-run")
