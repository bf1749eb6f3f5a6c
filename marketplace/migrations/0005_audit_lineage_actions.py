"""Audit actions for lineage edges (lineage.add, lineage.remove); choices only, no schema change."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('marketplace', '0004_auditevent_from_registry'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=[('team.create', 'Team created'), ('team.member_add', 'Member added'), ('team.member_role', 'Member role changed'), ('team.member_remove', 'Member removed'), ('token.create', 'API token created'), ('token.revoke', 'API token revoked'), ('asset.create', 'Asset created'), ('asset.update', 'Asset edited'), ('asset.delete', 'Asset deleted'), ('version.create', 'Version uploaded'), ('version.update_metadata', 'Version metadata edited'), ('version.validated', 'Version validated'), ('version.invalid', 'Version failed validation'), ('lineage.add', 'Lineage edge declared'), ('lineage.remove', 'Lineage edge removed')], max_length=64),
        ),
    ]
