"""Versions of equal semver precedence (differing only in build metadata) cannot coexist, and the
audit trail leaves this app for registry.kernel.audit (state only: the table stays)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0004_auditevent_from_registry"),
        ("registry", "0001_initial"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="assetversion",
            constraint=models.UniqueConstraint(
                fields=("asset", "major", "minor", "patch", "prerelease"),
                name="version_precedence_unique_per_asset",
                violation_error_message="This asset already has a version of the same precedence.",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
        ),
    ]
