"""The catalogue's models (teams, tokens, assets, tags, the audit trail, the search tables) move from the
`marketplace` app into `registry`, which owns every model since.

State only: each table keeps its name, rows, indexes and triggers here (0011 renames them), and the
registry's own foreign keys are re-pointed at the moved models without touching their constraints.
"""

import django.core.validators
import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import registry.search.models


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("marketplace", "0013_search_change_log_prune"),
        ("registry", "0009_version_precedence_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="SearchChange",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("asset_id", models.BigIntegerField()),
                        ("xid", registry.search.models.XactIdField(db_index=True)),
                    ],
                    options={
                        "db_table": "marketplace_searchchange",
                    },
                ),
                migrations.CreateModel(
                    name="SearchState",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("epoch", models.CharField(max_length=36)),
                        ("pruned_below", models.BigIntegerField(db_default=0, default=0)),
                        ("prune_next", models.BigIntegerField(db_default=0, default=0)),
                    ],
                    options={
                        "db_table": "marketplace_searchstate",
                    },
                ),
                migrations.CreateModel(
                    name="SearchTerm",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("term", models.CharField(max_length=64, unique=True)),
                    ],
                    options={
                        "db_table": "marketplace_searchterm",
                    },
                ),
                migrations.CreateModel(
                    name="Tag",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.SlugField(unique=True)),
                    ],
                    options={
                        "ordering": ["name"],
                        "db_table": "marketplace_tag",
                    },
                ),
                migrations.CreateModel(
                    name="APIToken",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=100)),
                        ("prefix", models.CharField(max_length=16)),
                        ("key_hash", models.CharField(max_length=64, unique=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("last_used_at", models.DateTimeField(blank=True, null=True)),
                        ("revoked_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="api_tokens",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at", "-id"],
                        "db_table": "marketplace_apitoken",
                    },
                ),
                migrations.CreateModel(
                    name="Asset",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[("dataset", "Dataset"), ("model", "Model"), ("solution", "Solution")],
                                max_length=16,
                            ),
                        ),
                        ("name", models.CharField(max_length=200)),
                        (
                            "slug",
                            models.CharField(
                                max_length=100,
                                validators=[
                                    django.core.validators.RegexValidator(
                                        "^[a-z0-9]+(?:[-_][a-z0-9]+)*$",
                                        "Use lowercase letters and digits, separated by single '-' or '_' (for example resnet-50).",
                                    )
                                ],
                            ),
                        ),
                        ("summary", models.CharField(blank=True, max_length=300)),
                        ("description", models.TextField(blank=True, help_text="Markdown.")),
                        ("license", models.CharField(blank=True, help_text="SPDX licence identifier.", max_length=64)),
                        ("task", models.CharField(blank=True, max_length=64)),
                        ("framework", models.CharField(blank=True, max_length=64)),
                        (
                            "visibility",
                            models.CharField(
                                choices=[
                                    ("internal", "Internal (every signed-in user)"),
                                    ("private", "Private (team members only)"),
                                ],
                                default="internal",
                                max_length=16,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("tags_text", models.TextField(blank=True, editable=False)),
                        ("latest_version", models.CharField(blank=True, editable=False, max_length=100)),
                        ("version_count", models.PositiveIntegerField(default=0, editable=False)),
                        (
                            "status",
                            models.CharField(
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
                        ("usage_count", models.PositiveIntegerField(db_default=0, default=0, editable=False)),
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
                        ("tags", models.ManyToManyField(blank=True, related_name="assets", to="registry.tag")),
                    ],
                    options={
                        "ordering": ["team__slug", "slug"],
                        "db_table": "marketplace_asset",
                    },
                ),
                migrations.AlterField(
                    model_name="alias",
                    name="asset",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="aliases", to="registry.asset"
                    ),
                ),
                migrations.AlterField(
                    model_name="assetversion",
                    name="asset",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="versions", to="registry.asset"
                    ),
                ),
                migrations.CreateModel(
                    name="FacetCount",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("scope", models.BigIntegerField()),
                        ("filter", models.CharField(max_length=120)),
                        ("facet", models.CharField(max_length=16)),
                        ("value", models.CharField(max_length=100)),
                        ("count", models.IntegerField(default=0)),
                    ],
                    options={
                        "db_table": "marketplace_facetcount",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("scope", "filter", "facet", "value"),
                                name="facetcount_unique_key",
                                violation_error_message="One row per scope, filter, facet and value.",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Membership",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "role",
                            models.CharField(
                                choices=[("member", "Member"), ("maintainer", "Maintainer")],
                                default="member",
                                max_length=16,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="memberships",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["team_id", "user_id"],
                        "db_table": "marketplace_membership",
                    },
                ),
                migrations.CreateModel(
                    name="Team",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "slug",
                            models.CharField(
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
                        ("name", models.CharField(max_length=100)),
                        (
                            "description",
                            models.TextField(blank=True, validators=[django.core.validators.MaxLengthValidator(10000)]),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "members",
                            models.ManyToManyField(
                                related_name="teams", through="registry.Membership", to=settings.AUTH_USER_MODEL
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["slug"],
                        "db_table": "marketplace_team",
                    },
                ),
                migrations.AddField(
                    model_name="membership",
                    name="team",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="memberships", to="registry.team"
                    ),
                ),
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
                                    ("version.submit", "Version submitted for review"),
                                    ("version.approved", "Version approved"),
                                    ("version.rejected", "Version rejected"),
                                    ("version.changes_requested", "Changes requested on a version"),
                                    ("version.deprecate", "Version deprecated"),
                                    ("review.submit", "Review given"),
                                    ("alias.move", "Alias set or moved"),
                                    ("alias.delete", "Alias deleted"),
                                    ("policy.change", "Review policy changed"),
                                    ("version.download", "File of a private version downloaded"),
                                    ("version.signed", "Approved version signed"),
                                    ("card.update", "Model card edited"),
                                    ("lineage.add", "Lineage edge declared"),
                                    ("lineage.remove", "Lineage edge removed"),
                                    ("webhook.create", "Webhook created"),
                                    ("webhook.delete", "Webhook deleted"),
                                    ("endpoint.create", "Inference endpoint created"),
                                    ("endpoint.ready", "Inference endpoint ready"),
                                    ("endpoint.failed", "Inference endpoint failed"),
                                    ("endpoint.update", "Inference endpoint update requested"),
                                    ("endpoint.delete", "Inference endpoint deleted"),
                                    ("endpoint.key_create", "Endpoint key created"),
                                    ("endpoint.key_revoke", "Endpoint key revoked"),
                                ],
                                max_length=64,
                            ),
                        ),
                        ("target_type", models.CharField(max_length=64)),
                        ("target_id", models.CharField(max_length=64)),
                        ("target_repr", models.CharField(blank=True, max_length=300)),
                        ("data", models.JSONField(blank=True, default=dict)),
                        ("before", models.JSONField(blank=True, null=True)),
                        ("after", models.JSONField(blank=True, null=True)),
                        (
                            "request_id",
                            models.CharField(
                                blank=True, help_text="The API request that made the change.", max_length=64
                            ),
                        ),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        (
                            "seq",
                            models.PositiveBigIntegerField(
                                help_text="Position in the hash chain: 1, 2, 3, ...", unique=True
                            ),
                        ),
                        ("prev_hash", models.CharField(max_length=64)),
                        ("hash", models.CharField(max_length=64)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "team",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="registry.team",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at", "-id"],
                        "db_table": "registry_auditevent",
                    },
                ),
                migrations.AddField(
                    model_name="asset",
                    name="team",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="assets", to="registry.team"
                    ),
                ),
                migrations.AlterField(
                    model_name="endpoint",
                    name="team",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="endpoints", to="registry.team"
                    ),
                ),
                migrations.AlterField(
                    model_name="reviewpolicy",
                    name="team",
                    field=models.OneToOneField(
                        blank=True,
                        help_text="Empty: the default policy for every team.",
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="review_policy",
                        to="registry.team",
                    ),
                ),
                migrations.AlterField(
                    model_name="webhook",
                    name="team",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="webhooks", to="registry.team"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="membership",
                    constraint=models.UniqueConstraint(
                        fields=("team", "user"),
                        name="membership_one_per_user_and_team",
                        violation_error_message="This user is already a member of the team.",
                    ),
                ),
                migrations.AddIndex(
                    model_name="auditevent",
                    index=models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
                ),
                migrations.AddIndex(
                    model_name="asset",
                    index=models.Index(fields=["kind"], name="asset_kind_idx"),
                ),
                migrations.AddIndex(
                    model_name="asset",
                    index=models.Index(fields=["task"], name="asset_task_idx"),
                ),
                migrations.AddIndex(
                    model_name="asset",
                    index=models.Index(fields=["status"], name="asset_status_idx"),
                ),
                migrations.AddIndex(
                    model_name="asset",
                    index=models.Index(
                        django.db.models.functions.text.Upper("license"), name="asset_license_upper_idx"
                    ),
                ),
                migrations.AddIndex(
                    model_name="asset",
                    index=models.Index(
                        django.db.models.functions.text.Upper("framework"), name="asset_framework_upper_idx"
                    ),
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
                migrations.AddIndex(
                    model_name="asset",
                    index=models.Index(fields=["usage_count", "updated_at", "id"], name="asset_usage_id_idx"),
                ),
                migrations.AddConstraint(
                    model_name="asset",
                    constraint=models.UniqueConstraint(
                        fields=("team", "slug"),
                        name="asset_slug_unique_per_team",
                        violation_error_message="This team already has an asset with this slug.",
                    ),
                ),
            ],
        ),
    ]
