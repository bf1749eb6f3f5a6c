"""The moved catalogue tables take the registry's names (`marketplace_asset` -> `registry_asset`, ...), so a
table's name says which app owns it.

A rename keeps every row, index, constraint and trigger (PostgreSQL and SQLite both move foreign keys that
point at a renamed table). What names a table in its text is rewritten: the search change log trigger's
function (PostgreSQL), which inserted into `marketplace_searchchange`. The id sequences follow their tables'
names, and the content types (with the permissions and admin log entries that point at them) move to the
`registry` label in place, keeping their ids.
"""

from django.db import migrations

MOVED = ("team", "membership", "apitoken", "asset", "tag", "searchterm", "facetcount", "searchstate", "searchchange")

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION {app}_asset_search_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {app}_searchchange (asset_id, xid)
    VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, pg_current_xact_id());
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS asset_search_change ON registry_asset;
CREATE TRIGGER asset_search_change AFTER INSERT OR UPDATE OR DELETE ON registry_asset
    FOR EACH ROW EXECUTE FUNCTION {app}_asset_search_change();
DROP FUNCTION IF EXISTS {old}_asset_search_change();
"""


# The tables have their registry names whenever these run: forwards after the renames, backwards before them.


def _sequences(schema_editor, old: str, new: str) -> None:
    with schema_editor.connection.cursor() as cursor:
        for model in MOVED + ("asset_tags",):
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [f"registry_{model}"])
            found = cursor.fetchone()[0]
            if found and found.split(".")[-1].strip('"') == f"{old}_{model}_id_seq":
                schema_editor.execute(f"ALTER SEQUENCE {found} RENAME TO {new}_{model}_id_seq")


def _content_types(apps, schema_editor, old: str, new: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    rows = content_type.objects.using(schema_editor.connection.alias)
    for model in MOVED + ("auditevent",):
        # A row under the new label made by a `migrate` that ran between the two steps is a duplicate with
        # nothing of its own worth keeping; the old row is the one permissions and log entries point at.
        if rows.filter(app_label=old, model=model).exists():
            rows.filter(app_label=new, model=model).delete()
            rows.filter(app_label=old, model=model).update(app_label=new)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL.format(app="registry", old="marketplace"))
        _sequences(schema_editor, "marketplace", "registry")
    _content_types(apps, schema_editor, "marketplace", "registry")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL.format(app="marketplace", old="registry"))
        _sequences(schema_editor, "registry", "marketplace")
    _content_types(apps, schema_editor, "registry", "marketplace")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("marketplace", "0014_catalogue_moves_to_registry"),
        ("registry", "0010_catalogue_moves_in"),
    ]

    operations = [
        *(migrations.AlterModelTable(name=model, table=None) for model in MOVED),
        migrations.AlterModelTable(name="auditevent", table=None),
        migrations.RunPython(forwards, backwards),
    ]
