import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from registry.kernel.audit.chain import GENESIS_HASH, stored_event_hash

TABLE = "registry_auditevent"


def chain_existing_events(apps, schema_editor):
    """Give the events recorded so far their place in the chain, in the order they were written."""
    AuditEvent = apps.get_model("marketplace", "AuditEvent")
    prev_hash = GENESIS_HASH
    for seq, event in enumerate(AuditEvent.objects.order_by("id").iterator(chunk_size=2000), start=1):
        event.seq, event.prev_hash = seq, prev_hash
        event.hash = prev_hash = stored_event_hash(event)
        event.save(update_fields=["seq", "prev_hash", "hash"])


def refuse_rewrites(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        """
        CREATE OR REPLACE FUNCTION modelhub_audit_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'audit events are append-only: % on % refused', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END
        $$ LANGUAGE plpgsql""",
        params=None,
    )
    schema_editor.execute(f"""
        CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION modelhub_audit_append_only()""")


def allow_rewrites(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TRIGGER IF EXISTS audit_append_only ON {TABLE}")
    schema_editor.execute("DROP FUNCTION IF EXISTS modelhub_audit_append_only()")


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0005_audit_actions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="team",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="marketplace.team",
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="created_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.AddField(model_name="auditevent", name="before", field=models.JSONField(blank=True, null=True)),
        migrations.AddField(model_name="auditevent", name="after", field=models.JSONField(blank=True, null=True)),
        migrations.AddField(
            model_name="auditevent",
            name="request_id",
            field=models.CharField(
                blank=True, default="", max_length=64, help_text="The API request that made the change."
            ),
            preserve_default=False,
        ),
        migrations.AddField(model_name="auditevent", name="seq", field=models.PositiveBigIntegerField(null=True)),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(unique=True, help_text="Position in the hash chain: 1, 2, 3, ..."),
        ),
        migrations.RunPython(refuse_rewrites, allow_rewrites),
    ]
