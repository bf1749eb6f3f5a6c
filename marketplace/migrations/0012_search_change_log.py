"""The asset change log and its state row (`registry.search.models.SearchChange`, `SearchState`) that the
in-memory search backend follows. On PostgreSQL a trigger writes a log row for every inserted, updated or
deleted asset row (with the writing transaction's id), so no change escapes it, whichever code or bulk
statement makes it. Other databases get the tables only: the in-memory backend needs PostgreSQL."""

import uuid

from django.db import migrations, models

import registry.search.models

TRIGGER_SQL = """
CREATE FUNCTION marketplace_asset_search_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO marketplace_searchchange (asset_id, xid)
    VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, pg_current_xact_id());
    RETURN NULL;
END $$;
CREATE TRIGGER asset_search_change AFTER INSERT OR UPDATE OR DELETE ON marketplace_asset
    FOR EACH ROW EXECUTE FUNCTION marketplace_asset_search_change();
"""
DROP_SQL = """
DROP TRIGGER IF EXISTS asset_search_change ON marketplace_asset;
DROP FUNCTION IF EXISTS marketplace_asset_search_change();
"""


def create_trigger(apps, schema_editor):
    apps.get_model("marketplace", "SearchState").objects.using(schema_editor.connection.alias).create(
        id=1, epoch=str(uuid.uuid4())
    )
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0011_asset_status")]

    operations = [
        migrations.CreateModel(
            name="SearchState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("epoch", models.CharField(max_length=36)),
            ],
        ),
        migrations.CreateModel(
            name="SearchChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("asset_id", models.BigIntegerField()),
                ("xid", registry.search.models.XactIdField(db_index=True)),
            ],
        ),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
