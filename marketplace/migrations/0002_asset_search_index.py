"""GIN index for catalogue full-text search, on PostgreSQL only.

It indexes the exact expression `marketplace.assets.search.asset_search_vector()` builds, so the
planner can use it for `WHERE <vector> @@ <query>`. SQLite has no such index and uses the fallback.
"""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

INDEX_NAME = "asset_search_gin"


def _index():
    from marketplace.assets.search import asset_search_vector

    return GinIndex(asset_search_vector(), name=INDEX_NAME)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("marketplace", "Asset"), _index())


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("marketplace", "Asset"), _index())


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]
    operations = [migrations.RunPython(create_index, drop_index)]
