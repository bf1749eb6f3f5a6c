"""Model cards and datasheets: one per version (registry.cards)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_version_signature"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ModelCard",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sections", models.JSONField(blank=True, default=dict)),
                (
                    "body",
                    models.TextField(
                        blank=True, help_text="Free Markdown: everything that is not one of the sections."
                    ),
                ),
                ("license", models.CharField(blank=True, max_length=100)),
                ("tags", models.JSONField(blank=True, default=list)),
                ("datasets", models.JSONField(blank=True, default=list)),
                ("metrics", models.JSONField(blank=True, default=list)),
                ("base_model", models.JSONField(blank=True, default=list)),
                ("library_name", models.CharField(blank=True, max_length=100)),
                ("pipeline_tag", models.CharField(blank=True, max_length=100)),
                ("model_index", models.JSONField(blank=True, default=list)),
                ("extra", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "version",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="card", to="registry.assetversion"
                    ),
                ),
            ],
        ),
    ]
