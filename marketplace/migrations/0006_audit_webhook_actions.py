"""Audit actions for webhooks: webhook.create and webhook.delete."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('marketplace', '0005_audit_actions'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=[('team.create', 'Team created'), ('team.member_add', 'Member added'), ('team.member_role', 'Member role changed'), ('team.member_remove', 'Member removed'), ('token.create', 'API token created'), ('token.revoke', 'API token revoked'), ('asset.create', 'Asset created'), ('asset.update', 'Asset edited'), ('asset.delete', 'Asset deleted'), ('version.create', 'Version uploaded'), ('version.update_metadata', 'Version metadata edited'), ('version.validated', 'Version validated'), ('version.invalid', 'Version failed validation'), ('version.submit', 'Version submitted for review'), ('version.approved', 'Version approved'), ('version.rejected', 'Version rejected'), ('version.changes_requested', 'Changes requested on a version'), ('version.deprecate', 'Version deprecated'), ('review.submit', 'Review given'), ('alias.move', 'Alias set or moved'), ('alias.delete', 'Alias deleted'), ('policy.change', 'Review policy changed'), ('version.signed', 'Approved version signed'), ('card.update', 'Model card edited'), ('lineage.add', 'Lineage edge declared'), ('lineage.remove', 'Lineage edge removed'), ('webhook.create', 'Webhook created'), ('webhook.delete', 'Webhook deleted')], max_length=64),
        ),
    ]
