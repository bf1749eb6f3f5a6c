"""`Asset.status`: the release status (the furthest status among the asset's versions), kept by the registry's
version services, so the catalogue can filter and count it as the "status" facet like kind or task.

Fills it from the versions, then (PostgreSQL) recomputes the precomputed facet counts, which now count the
status too and keep it as a filter of their own. The SQL is this migration's copy: later changes to the search
backend's must not change what this step did.
"""

from django.db import migrations, models

# ReleaseStatus in precedence order, as of this migration.
PRECEDENCE = ("approved", "in_review", "validated", "validating", "draft", "rejected", "invalid", "deprecated")
_RANK = " ".join(f"WHEN '{status}' THEN {len(PRECEDENCE) - i}" for i, status in enumerate(PRECEDENCE))
_STATUS = " ".join(f"WHEN {len(PRECEDENCE) - i} THEN '{status}'" for i, status in enumerate(PRECEDENCE))
FILL_SQL = f"""
UPDATE marketplace_asset SET status = coalesce((
    SELECT CASE max(CASE v.status {_RANK} ELSE 0 END) {_STATUS} END
    FROM registry_assetversion v WHERE v.asset_id = marketplace_asset.id), '')
"""
_SCOPE = "CASE WHEN a.visibility = 'internal' THEN 0 ELSE a.team_id END"
FACET_COUNTS_SQL = f"""
INSERT INTO marketplace_facetcount (scope, filter, facet, value, count)
SELECT a.scope, f.key, v.facet, v.value, count(*)
FROM (SELECT {_SCOPE} AS scope, a.kind, a.task, a.license, a.status, t.slug AS team, a.tag_array
      FROM marketplace_asset a JOIN marketplace_team t ON t.id = a.team_id) a
CROSS JOIN LATERAL (VALUES ('*'), ('kind=' || a.kind), ('team=' || a.team),
                           (CASE WHEN a.task <> '' THEN 'task=' || a.task END),
                           (CASE WHEN a.license <> '' THEN 'license=' || upper(a.license) END),
                           (CASE WHEN a.status <> '' THEN 'status=' || a.status END)) f(key)
CROSS JOIN LATERAL (SELECT 'kind', a.kind UNION ALL SELECT 'team', a.team
                    UNION ALL SELECT 'task', a.task WHERE a.task <> ''
                    UNION ALL SELECT 'license', a.license WHERE a.license <> ''
                    UNION ALL SELECT 'status', a.status WHERE a.status <> ''
                    UNION ALL SELECT 'tag', unnest(a.tag_array)) v(facet, value)
WHERE f.key IS NOT NULL
GROUP BY 1, 2, 3, 4
"""


def fill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FILL_SQL)
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("DELETE FROM marketplace_facetcount")
            cursor.execute(FACET_COUNTS_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0010_asset_usage_count"),
        ("registry", "0009_version_precedence_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="asset",
            name="status",
            field=models.CharField(
                blank=True,
                choices=[
                    ("approved", "Approved"),
                    ("in_review", "In review"),
                    ("validated", "Validated"),
                    ("validating", "Validating"),
                    ("draft", "Draft"),
                    ("rejected", "Rejected"),
                    ("invalid", "Invalid"),
                    ("deprecated", "Deprecated"),
                ],
                db_default="",
                default="",
                editable=False,
                max_length=16,
            ),
        ),
        migrations.AddIndex(
            model_name="asset",
            index=models.Index(fields=["status"], name="asset_status_idx"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
