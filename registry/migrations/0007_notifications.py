"""Notifications: team webhooks (secret encrypted at rest) and their delivery log."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0007_audit_more_actions"),
        ("registry", "0006_lineage"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Webhook",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("url", models.CharField(max_length=2000)),
                (
                    "events",
                    models.JSONField(blank=True, default=list, help_text="Events to send; empty means every event."),
                ),
                (
                    "secret_encrypted",
                    models.TextField(help_text="Fernet token of the signing secret (registry.notifications.signing)."),
                ),
                (
                    "secret_prefix",
                    models.CharField(help_text="First characters of the secret, to recognise it.", max_length=16),
                ),
                ("active", models.BooleanField(default=True)),
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
                    "team",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="webhooks", to="marketplace.team"
                    ),
                ),
            ],
            options={
                "ordering": ["team_id", "pk"],
            },
        ),
        migrations.CreateModel(
            name="WebhookDelivery",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "event",
                    models.CharField(
                        choices=[
                            ("version.validated", "Version validated"),
                            ("version.invalid", "Version failed validation"),
                            ("version.submitted", "Version submitted for review"),
                            ("version.approved", "Version approved"),
                            ("version.rejected", "Version rejected"),
                            ("version.changes_requested", "Changes requested on a version"),
                            ("alias.moved", "Alias set or moved"),
                            ("ping", "Test delivery"),
                        ],
                        max_length=32,
                    ),
                ),
                ("payload", models.JSONField(default=dict, help_text="The `data` of the JSON body.")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending (not sent yet, or waiting for a retry)"),
                            ("delivered", "Delivered (the receiver answered 2xx)"),
                            ("failed", "Failed (refused by the receiver, or out of attempts)"),
                        ],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("last_status_code", models.PositiveIntegerField(blank=True, null=True)),
                ("last_error", models.CharField(blank=True, max_length=1000)),
                ("response_ms", models.PositiveIntegerField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("delivered_at", models.DateTimeField(blank=True, null=True)),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                (
                    "webhook",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="deliveries", to="registry.webhook"
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-pk"],
                "indexes": [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx")],
            },
        ),
    ]
