"""The audit trail moves from the registry app to the kernel (registry.kernel.audit).

State only: the table keeps its name (registry_auditevent), its rows and its index.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0003_catalogue_hardening"),
        ("registry", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("actor_name", models.CharField(blank=True, max_length=150)),
                        (
                            "action",
                            models.CharField(
                                choices=[
                                    ("team.create", "Team created"),
                                    ("team.member_add", "Member added"),
                                    ("team.member_role", "Member role changed"),
                                    ("team.member_remove", "Member removed"),
                                    ("token.create", "API token created"),
                                    ("token.revoke", "API token revoked"),
                                    ("asset.create", "Asset created"),
                                    ("asset.update", "Asset edited"),
                                    ("asset.delete", "Asset deleted"),
                                    ("version.create", "Version uploaded"),
                                    ("version.update_metadata", "Version metadata edited"),
                                    ("version.validated", "Version validated"),
                                    ("version.invalid", "Version failed validation"),
                                ],
                                max_length=64,
                            ),
                        ),
                        ("target_type", models.CharField(max_length=64)),
                        ("target_id", models.CharField(max_length=64)),
                        ("target_repr", models.CharField(blank=True, max_length=300)),
                        ("data", models.JSONField(blank=True, default=dict)),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "team",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="marketplace.team",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "registry_auditevent",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")],
                    },
                ),
            ],
        ),
    ]
