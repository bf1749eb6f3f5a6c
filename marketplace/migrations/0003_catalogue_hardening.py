"""Catalogue hardening: slugs unique per team (`team/slug` URLs) with one slug rule, bounded team
descriptions, and each asset's latest version and version count kept on its row."""

import django.core.validators
from django.db import migrations, models

# Newest release first, pre-releases below their release: AssetVersion.Meta.ordering without asset_id.
PRECEDENCE = ["-major", "-minor", "-patch", "is_prerelease", "-prerelease"]


def fill_version_summary(apps, schema_editor):
    Asset = apps.get_model("marketplace", "Asset")
    AssetVersion = apps.get_model("registry", "AssetVersion")
    for asset in Asset.objects.all().only("pk"):
        versions = AssetVersion.objects.filter(asset_id=asset.pk)
        latest = versions.order_by(*PRECEDENCE).values_list("version", flat=True).first()
        Asset.objects.filter(pk=asset.pk).update(latest_version=latest or "", version_count=versions.count())


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0002_asset_search_index"),
        ("registry", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="asset",
            options={"ordering": ["team__slug", "slug"]},
        ),
        migrations.AddField(
            model_name="asset",
            name="latest_version",
            field=models.CharField(blank=True, editable=False, max_length=100),
        ),
        migrations.AddField(
            model_name="asset",
            name="version_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AlterField(
            model_name="asset",
            name="slug",
            field=models.CharField(
                max_length=100,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z0-9]+(?:[-_][a-z0-9]+)*$",
                        "Use lowercase letters and digits, separated by single '-' or '_' (for example resnet-50).",
                    )
                ],
            ),
        ),
        migrations.AlterField(
            model_name="team",
            name="description",
            field=models.TextField(blank=True, validators=[django.core.validators.MaxLengthValidator(10000)]),
        ),
        migrations.AlterField(
            model_name="team",
            name="slug",
            field=models.CharField(
                max_length=64,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z0-9]+(?:[-_][a-z0-9]+)*$",
                        "Use lowercase letters and digits, separated by single '-' or '_' (for example resnet-50).",
                    )
                ],
            ),
        ),
        migrations.AddConstraint(
            model_name="asset",
            constraint=models.UniqueConstraint(
                fields=("team", "slug"),
                name="asset_slug_unique_per_team",
                violation_error_message="This team already has an asset with this slug.",
            ),
        ),
        migrations.RunPython(fill_version_summary, migrations.RunPython.noop),
    ]
