"""Search at catalogue scale (issue 8).

Portable: the vocabulary (`SearchTerm`) and precomputed facet counts (`FacetCount`) tables, case-free
indexes for the licence and framework filters, and one index per ordering ending with the id (keyset pages).

PostgreSQL only: `pg_trgm`; two generated columns derived from the row, `search_vector` (the weighted
tsvector: name A, tags B, summary C, description D) and `tag_array` (the tags as text[]), each under a GIN
index, replacing 0002's expression index (ranking had to recompute the vector for every match); a
trigram index on the vocabulary. Then both tables are filled from the catalogue.
"""

import re

import django.db.models.functions.text
from django.conf import settings
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(tags_text, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(summary, '')), 'C') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'D')"
)
# The PostgreSQL-only objects; the search benchmark drops and recreates the indexes around its bulk load.
POSTGRES_COLUMNS = [
    f"ALTER TABLE marketplace_asset ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({SEARCH_VECTOR_SQL}) STORED",
    "ALTER TABLE marketplace_asset ADD COLUMN tag_array text[] "
    "GENERATED ALWAYS AS (string_to_array(tags_text, ' ')) STORED",
]
POSTGRES_INDEXES = {
    "asset_search_vector_gin": "CREATE INDEX asset_search_vector_gin ON marketplace_asset USING gin (search_vector)",
    "asset_tag_array_gin": "CREATE INDEX asset_tag_array_gin ON marketplace_asset USING gin (tag_array)",
    "searchterm_term_trgm": "CREATE INDEX searchterm_term_trgm ON marketplace_searchterm USING gin (term gin_trgm_ops)",
    # The facet counts of a scope and filter by an index-only scan.
    "facetcount_covering": "CREATE INDEX facetcount_covering ON marketplace_facetcount (scope, filter, facet) "
    "INCLUDE (value, count)",
}
_SCOPE = "CASE WHEN a.visibility = 'internal' THEN 0 ELSE a.team_id END"
# Every asset counts its facet values under no filter ("*") and under each of its kind, team, task and licence.
FACET_COUNTS_SQL = f"""
INSERT INTO marketplace_facetcount (scope, filter, facet, value, count)
SELECT a.scope, f.key, v.facet, v.value, count(*)
FROM (SELECT {_SCOPE} AS scope, a.kind, a.task, a.license, t.slug AS team, a.tag_array
      FROM marketplace_asset a JOIN marketplace_team t ON t.id = a.team_id) a
CROSS JOIN LATERAL (VALUES ('*'), ('kind=' || a.kind), ('team=' || a.team),
                           (CASE WHEN a.task <> '' THEN 'task=' || a.task END),
                           (CASE WHEN a.license <> '' THEN 'license=' || upper(a.license) END)) f(key)
CROSS JOIN LATERAL (SELECT 'kind', a.kind UNION ALL SELECT 'team', a.team
                    UNION ALL SELECT 'task', a.task WHERE a.task <> ''
                    UNION ALL SELECT 'license', a.license WHERE a.license <> ''
                    UNION ALL SELECT 'tag', unnest(a.tag_array)) v(facet, value)
WHERE f.key IS NOT NULL
GROUP BY 1, 2, 3, 4
"""
VOCABULARY_SQL = """
INSERT INTO marketplace_searchterm (term)
SELECT DISTINCT word FROM marketplace_asset a
CROSS JOIN LATERAL regexp_split_to_table(lower(a.name || ' ' || a.tags_text), '[^[:alnum:]]+') word
WHERE length(word) BETWEEN 3 AND 64 AND word !~ '^[0-9]+$'
ON CONFLICT (term) DO NOTHING
"""


def postgres_forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS asset_search_gin")
        for statement in [*POSTGRES_COLUMNS, *POSTGRES_INDEXES.values()]:
            cursor.execute(statement)


def postgres_backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in POSTGRES_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
        cursor.execute(
            "ALTER TABLE marketplace_asset DROP COLUMN IF EXISTS search_vector, DROP COLUMN IF EXISTS tag_array"
        )
        cursor.execute(
            "CREATE INDEX asset_search_gin ON marketplace_asset USING gin (("
            + SEARCH_VECTOR_SQL.replace("coalesce(tags_text, '')), 'B')", "coalesce(tags_text, '')), 'A')")
            .replace("coalesce(summary, '')), 'C')", "coalesce(summary, '')), 'B')")
            .replace("coalesce(description, '')), 'D')", "coalesce(description, '')), 'C')")
            + "))"
        )


def fill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(FACET_COUNTS_SQL)
            cursor.execute(VOCABULARY_SQL)
        return
    Asset = apps.get_model("marketplace", "Asset")
    SearchTerm = apps.get_model("marketplace", "SearchTerm")
    words = set()
    for name, tags_text in Asset.objects.values_list("name", "tags_text").iterator():
        words |= {
            word
            for word in re.findall(r"[^\W_]+", f"{name} {tags_text}".lower())
            if 3 <= len(word) <= 64 and not word.isdigit()
        }
    SearchTerm.objects.bulk_create([SearchTerm(term=word) for word in sorted(words)], ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0008_audit_endpoint_actions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        TrigramExtension(),
        migrations.CreateModel(
            name="FacetCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("scope", models.BigIntegerField()),
                ("filter", models.CharField(max_length=120)),
                ("facet", models.CharField(max_length=16)),
                ("value", models.CharField(max_length=100)),
                ("count", models.IntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="SearchTerm",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("term", models.CharField(max_length=64, unique=True)),
            ],
        ),
        migrations.RemoveIndex(
            model_name="asset",
            name="asset_license_idx",
        ),
        migrations.RemoveIndex(
            model_name="asset",
            name="asset_updated_idx",
        ),
        migrations.AddIndex(
            model_name="asset",
            index=models.Index(django.db.models.functions.text.Upper("license"), name="asset_license_upper_idx"),
        ),
        migrations.AddIndex(
            model_name="asset",
            index=models.Index(django.db.models.functions.text.Upper("framework"), name="asset_framework_upper_idx"),
        ),
        migrations.AddIndex(
            model_name="asset",
            index=models.Index(fields=["updated_at", "id"], name="asset_updated_id_idx"),
        ),
        migrations.AddIndex(
            model_name="asset",
            index=models.Index(fields=["created_at", "id"], name="asset_created_id_idx"),
        ),
        migrations.AddIndex(
            model_name="asset",
            index=models.Index(fields=["name", "slug", "id"], name="asset_name_slug_id_idx"),
        ),
        migrations.AddConstraint(
            model_name="facetcount",
            constraint=models.UniqueConstraint(
                fields=("scope", "filter", "facet", "value"),
                name="facetcount_unique_key",
                violation_error_message="One row per scope, filter, facet and value.",
            ),
        ),
        migrations.RunPython(postgres_forwards, postgres_backwards),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
