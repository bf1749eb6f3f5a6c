"""The versions list in precedence order, one index seek per page however many versions an asset has.

The list sorts by (major, minor, patch, NOT is_prerelease, prerelease), all descending: a release above
its pre-releases. One direction for every column lets a keyset page be a row comparison the index answers
(`registry.versions.selectors.version_page`). Plain SQL that PostgreSQL and SQLite both accept.
"""

from django.db import migrations

INDEX = (
    "CREATE INDEX version_precedence_idx ON registry_assetversion "
    "(asset_id, major, minor, patch, (NOT is_prerelease), prerelease)"
)


class Migration(migrations.Migration):
    dependencies = [("registry", "0008_endpoints")]
    operations = [migrations.RunSQL(INDEX, "DROP INDEX version_precedence_idx")]
