"""Lineage: typed edges between versions (trained_on, derived_from, uses), unique, never to itself."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0005_cards"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LineageEdge",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("trained_on", "Trained on (model -> dataset)"),
                            ("derived_from", "Derived from (model -> model: fine-tuned, quantised, ...)"),
                            ("uses", "Uses (solution -> model or dataset)"),
                        ],
                        max_length=16,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "source",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lineage_out",
                        to="registry.assetversion",
                    ),
                ),
                (
                    "target",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lineage_in",
                        to="registry.assetversion",
                    ),
                ),
            ],
            options={
                "ordering": ["source_id", "target_id", "kind"],
                "indexes": [models.Index(fields=["target"], name="lineage_edge_target_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("source", "target", "kind"),
                        name="lineage_edge_unique",
                        violation_error_message="This lineage edge is already declared.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("source", models.F("target")), _negated=True),
                        name="lineage_edge_not_self",
                        violation_error_message="A version cannot be its own lineage.",
                    ),
                ],
            },
        ),
    ]
