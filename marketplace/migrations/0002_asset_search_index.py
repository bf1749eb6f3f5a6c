"""GIN index for catalogue full-text search, on PostgreSQL only.

It indexed the weighted tsvector expression search used then; 0009 replaces it with a stored column.
SQLite has no such index and uses the fallback.
"""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

INDEX_NAME = "asset_search_gin"


def _index():
    # The vector as it was then (name and tags A, summary B, description C), frozen here; 0009 replaces it.
    from django.contrib.postgres.search import SearchVector

    vector = None
    for field, weight in (("name", "A"), ("tags_text", "A"), ("summary", "B"), ("description", "C")):
        part = SearchVector(field, weight=weight, config="english")
        vector = part if vector is None else vector + part
    return GinIndex(vector, name=INDEX_NAME)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("marketplace", "Asset"), _index())


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("marketplace", "Asset"), _index())


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]
    operations = [migrations.RunPython(create_index, drop_index)]
