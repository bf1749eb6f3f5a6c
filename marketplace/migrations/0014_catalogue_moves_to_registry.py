"""The catalogue's models now live in the `registry` app (registry 0010 takes them over): they leave this
app's state. State only; nothing in the database changes here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0013_search_change_log_prune"),
        ("registry", "0010_catalogue_moves_in"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name="apitoken",
                    name="user",
                ),
                migrations.RemoveField(
                    model_name="asset",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="asset",
                    name="tags",
                ),
                migrations.RemoveField(
                    model_name="asset",
                    name="team",
                ),
                migrations.RemoveField(
                    model_name="auditevent",
                    name="actor",
                ),
                migrations.RemoveField(
                    model_name="auditevent",
                    name="team",
                ),
                migrations.DeleteModel(
                    name="FacetCount",
                ),
                migrations.RemoveField(
                    model_name="membership",
                    name="team",
                ),
                migrations.RemoveField(
                    model_name="membership",
                    name="user",
                ),
                migrations.RemoveField(
                    model_name="team",
                    name="members",
                ),
                migrations.DeleteModel(
                    name="SearchChange",
                ),
                migrations.DeleteModel(
                    name="SearchState",
                ),
                migrations.DeleteModel(
                    name="SearchTerm",
                ),
                migrations.DeleteModel(
                    name="APIToken",
                ),
                migrations.DeleteModel(
                    name="Tag",
                ),
                migrations.DeleteModel(
                    name="Asset",
                ),
                migrations.DeleteModel(
                    name="AuditEvent",
                ),
                migrations.DeleteModel(
                    name="Membership",
                ),
                migrations.DeleteModel(
                    name="Team",
                ),
            ],
        ),
    ]
